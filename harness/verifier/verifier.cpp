#include "verifier/verifier.h"

#include "common/duration.h"
#include "common/signals.h"
#include "load/outcome.h"
#include "verifier/assertion_text.h"
#include "verifier/breakdown.h"
#include "verifier/dependency_checks.h"
#include "verifier/drain_failures.h"
#include "verifier/fleet_checks.h"
#include "verifier/shutdown_cause.h"
#include "verifier/phase.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace draincheck {
namespace {

// A refusal on loopback is immediate; a SYN left in a full or unserved backlog is retried after 1 s.
constexpr uint32_t kPromptRefusalUs = 1'000'000;

class Checker {
public:
    explicit Checker(const RunResult& run)
        : run_(run), bounds_(phase_bounds(run)),
          signal_(run.stop_signal ? signal_name(*run.stop_signal) : "the stop signal"), drain_(run) {}

    Verdict verdict() {
        const ExpectSpec& e = run_.scenario.expect;
        Verdict v;
        if (run_.fleet) return finish(fleet_assertions(), v);
        if (e.dropped_inflight) v.assertions.push_back(dropped_inflight(*e.dropped_inflight));
        if (e.exit_code) v.assertions.push_back(exit_code(*e.exit_code));
        if (e.exit_within) v.assertions.push_back(exit_within(*e.exit_within));
        if (e.max_error_rate) v.assertions.push_back(max_error_rate(*e.max_error_rate));
        if (e.refused_after_close_clean) v.assertions.push_back(refused_after_close(v.warnings));
        if (e.ready_fails_during_drain) v.assertions.push_back(ready_fails_during_drain(*e.ready_fails_during_drain));
        if (e.dependency_closed_before_exit) {
            Assertion a = check_dependency_closed_before_exit(run_, v.warnings);
            if (!*e.dependency_closed_before_exit) {   // asserting the bug is present: the inverse
                a.expected = "false";
                a.passed = !a.passed && a.reason.find("no connection") == std::string::npos;
                a.reason = a.passed ? "" : "every connection was closed before exit, expected some left open";
            }
            v.assertions.push_back(std::move(a));
        }
        if (e.dependency_down)
            for (Assertion& a : check_dependency_down(run_)) v.assertions.push_back(std::move(a));
        add_warnings(v);
        return finish({}, v);
    }

private:
    // A fleet run: the fleet's own assertions, and the error rate over the whole run.
    std::vector<Assertion> fleet_assertions() const {
        std::vector<Assertion> out = check_fleet(run_);
        if (run_.scenario.expect.max_error_rate) out.push_back(max_error_rate(*run_.scenario.expect.max_error_rate));
        if (run_.scenario.expect.dependency_down)
            for (Assertion& a : check_dependency_down(run_)) out.push_back(std::move(a));
        return out;
    }

    Verdict finish(std::vector<Assertion> extra, Verdict& v) {
        for (Assertion& a : extra) v.assertions.push_back(std::move(a));
        v.load = measure_load_delivery(run_);
        std::vector<std::string> load_warnings = load_shortfall_warnings(v.load);
        for (const std::string& w : load_warnings) v.warnings.push_back(w);
        if (run_.fleet && run_.requests_not_recorded)
            v.warnings.push_back(fmt::format("{} requests were not recorded (record capacity reached)",
                                             run_.requests_not_recorded));
        std::string failures;
        for (const Assertion& a : v.assertions) {
            if (a.passed) continue;
            v.passed = false;
            failures += (failures.empty() ? "" : "; ") + a.reason;
        }
        bool exit_failed = std::any_of(v.assertions.begin(), v.assertions.end(), [](const Assertion& a) {
            return !a.passed && (a.name == "exit_code" || a.name == "exit_within");
        });
        // A FAIL still says how the target ended, unless a failed exit assertion already does.
        if (!v.passed && !exit_failed && run_.exit.exited && run_.exit.code) failures += "; " + exit_facts();
        std::string facts = run_.fleet ? fleet_facts(run_) : pass_facts();
        v.cause = stop_cause();
        // The cause is a fact of every run whose stop was not clean; a FAIL's one line names it.
        if (!v.passed && !v.cause.empty()) failures += "; why: " + v.cause;
        v.summary = v.passed ? "PASS: " + facts : "FAIL: " + failures;
        if (run_.aborted) {
            // An interrupted run proves nothing either way.
            v.passed = false;
            v.summary = "ABORTED (partial result): " + (failures.empty() ? facts : failures);
        }
        // The one sentence a quiet console, a CI log or the report's banner shows says it too.
        if (!load_warnings.empty())
            v.summary += fmt::format(" (reached under less load than asked for: {} warning{})", load_warnings.size(),
                                     load_warnings.size() == 1 ? "" : "s");
        return v;
    }

    // Why the target's stop was not clean, from what /proc showed before its stop signal and at the kill.
    std::string stop_cause() const {
        if (run_.fleet || run_.tree_at_signal.empty() || !run_.exit.exited) return "";
        StopFacts facts;
        facts.stop_signal = run_.stop_signal.value_or(run_.scenario.target.stop_signal);
        facts.stop_signal_source = run_.stop_signal_source;
        facts.in_container = run_.in_container;
        facts.tree_at_signal = run_.tree_at_signal;
        facts.alive_at_kill = run_.tree_at_kill;
        facts.exit = run_.exit;
        facts.signal_ns = run_.stop_signal_ns.value_or(run_.load_stopped_ns);
        return shutdown_cause(facts).value_or("");
    }

    bool counts_as_drop(const RequestRecord& r) const { return drain_.judge(r).counted(); }

    // Indices of the first records matching `pred`, at most kMaxEvidence; and the total count.
    size_t collect(const std::function<bool(const RequestRecord&)>& pred, std::vector<size_t>& evidence) const {
        size_t n = 0;
        for (size_t i = 0; i < run_.records.size(); ++i) {
            if (!pred(run_.records[i])) continue;
            if (evidence.size() < kMaxEvidence) evidence.push_back(i);
            ++n;
        }
        return n;
    }

    std::string when(int64_t ns) const {
        if (run_.stop_signal_ns) {
            int64_t d = ns - *run_.stop_signal_ns;
            return d >= 0 ? secs(d) + " after " + signal_ : secs(-d) + " before " + signal_;
        }
        return "at +" + secs(ns - run_.load_started_ns);
    }

    std::string exit_description() const {
        const ExitInfo& x = run_.exit;
        if (!x.exited) return "still running at end of run";
        if (x.forced) return "killed by SIGKILL after kill_after (forced)";
        if (x.signal) return "killed by signal " + signal_name(*x.signal);
        return std::to_string(x.code.value_or(-1));
    }

    // Every request the drain failed: cut anywhere in the run, or in flight at the stop signal and
    // not ended ok (drain_failures.h), kind by kind.
    Assertion dropped_inflight(uint64_t max) const {
        Assertion a = named("dropped_inflight", max == 0 ? "0" : fmt::format("≤ {}", max));
        Breakdown kinds;
        for (DrainFailure always : {DrainFailure::dropped, DrainFailure::truncated})
            kinds.show(int(always), drain_.kind({always}));
        bool only_cut = true;   // every counted request was cut on its connection
        uint64_t first_end = RequestRecord::kNever;
        for (size_t i = 0; i < run_.records.size(); ++i) {
            const RequestRecord& r = run_.records[i];
            DrainJudgement j = drain_.judge(r);
            if (j.failure == DrainFailure::none) continue;
            kinds.add(int(j.failure), drain_.kind(j), j.counted(), i);
            if (!j.counted()) continue;
            first_end = std::min(first_end, r.ended_at_us());
            only_cut = only_cut && j.failure <= DrainFailure::closed_idle_unsafe;
        }
        uint64_t total = kinds.counted();
        a.observed = fmt::format("{} ({}){}", total, kinds.counted_list(), kinds.not_counted_list());
        a.evidence = kinds.evidence();
        a.breakdown = kinds.tallies();
        a.passed = total <= max;
        if (!a.passed)
            a.reason = fmt::format("{} request{} {} in flight, first {}", total, total == 1 ? "" : "s",
                                   only_cut ? "dropped" : "failed", when(int64_t(first_end) * 1000));
        return a;
    }

    Assertion exit_code(int expected) const {
        Assertion a = named("exit_code", std::to_string(expected));
        const ExitInfo& x = run_.exit;
        a.observed = exit_description();
        a.passed = x.exited && x.code && *x.code == expected;
        if (a.passed) return a;
        if (!x.exited) a.reason = fmt::format("the target did not exit, expected exit code {}", expected);
        else if (x.forced) a.reason = fmt::format("forced kill after the grace period, expected exit code {}", expected);
        else if (x.signal)
            a.reason = fmt::format("killed by signal {} (no handler for it?), expected exit code {}",
                                   signal_name(*x.signal), expected);
        else a.reason = fmt::format("exited with code {}, expected {}", *x.code, expected);
        return a;
    }

    Assertion exit_within(Nanos limit) const {
        Assertion a = named("exit_within", format_duration(limit));
        const ExitInfo& x = run_.exit;
        if (!run_.stop_signal_ns) {
            a.observed = "no stop signal was sent";
            a.reason = "no stop signal was sent, so the exit time cannot be measured";
            return a;
        }
        int64_t t = x.at_ns - *run_.stop_signal_ns;
        if (!x.exited) a.observed = "did not exit";
        else if (x.forced) a.observed = fmt::format("forced kill {} after {}", secs(t), signal_);
        else a.observed = fmt::format("{} after {}", secs(t), signal_);
        a.passed = x.exited && !x.forced && t <= limit.count();
        if (a.passed) return a;
        if (!x.exited) a.reason = fmt::format("did not exit after {}", signal_);
        else if (x.forced) a.reason = fmt::format("still running {} after {}: SIGKILLed", secs(t), signal_);
        else a.reason = fmt::format("exited {} after {}, limit {}", secs(t), signal_, format_duration(limit));
        return a;
    }

    // The service's health before the fault: requests that ended before the stop signal.
    Assertion max_error_rate(double max) const {
        Assertion a = named("max_error_rate", fmt::format("≤ {:g}%", max * 100));
        auto windows = outage_windows(run_);
        auto before = [&](const RequestRecord& r) {
            // A request in flight at any moment of an outage or its recovery is the outage's, not the service's.
            int64_t started = int64_t(r.started_us) * 1000;
            uint64_t end_us = r.ended_at_us();
            int64_t ended = end_us == RequestRecord::kNever ? INT64_MAX : int64_t(end_us) * 1000;
            bool in_outage = std::any_of(windows.begin(), windows.end(),
                                         [&](const auto& w) { return started < w.second && ended >= w.first; });
            return !in_outage && (!run_.stop_signal_ns || int64_t(r.ended_at_us()) * 1000 < *run_.stop_signal_ns);
        };
        uint64_t total = 0;
        for (const RequestRecord& r : run_.records) total += before(r) ? 1 : 0;
        size_t errors = collect([&](const RequestRecord& r) { return before(r) && r.outcome != Outcome::ok; }, a.evidence);
        double rate = total ? double(errors) / double(total) : 0;
        a.observed = fmt::format("{:.2f}% ({} of {})", rate * 100, errors, total);
        a.passed = total > 0 && rate <= max;
        std::string window = run_.fleet ? "over the run" : "before " + signal_;
        if (total == 0) a.reason = "no request completed " + window;
        else if (!a.passed)
            a.reason = fmt::format("{:.2f}% of requests failed {} ({} of {}), limit {:g}%", rate * 100, window,
                                   errors, total, max * 100);
        return a;
    }

    // New connections after the stop signal must be served or refused promptly, never left hanging.
    Assertion refused_after_close(std::vector<std::string>& warnings) const {
        Assertion a = named("refused_after_close", "clean");
        uint64_t fresh = 0, served = 0, refused = 0;
        std::array<uint64_t, kOutcomeCount> bad{};
        auto fresh_after_signal = [&](const RequestRecord& r) {
            return bounds_.phase_of(r) != Phase::before && !r.has(kReusedConnection) && r.connection_id != 0;
        };
        auto clean = [&](const RequestRecord& r) {
            return r.outcome == Outcome::ok || r.outcome == Outcome::http_error ||
                   (r.outcome == Outcome::refused && r.end_us < kPromptRefusalUs) ||
                   drain_.is_backlog_reset(r);   // refused, in effect: the closing listener never accepted it
        };
        for (const RequestRecord& r : run_.records) {
            if (!fresh_after_signal(r)) continue;
            ++fresh;
            if ((r.outcome == Outcome::refused && clean(r)) || drain_.is_backlog_reset(r)) ++refused;
            else if (clean(r)) ++served;
            else ++bad[size_t(r.outcome)];
        }
        size_t violations = collect([&](const RequestRecord& r) { return fresh_after_signal(r) && !clean(r); }, a.evidence);
        a.passed = violations == 0;
        if (fresh == 0) {
            a.observed = "no new connection was attempted after the stop signal";
            warnings.push_back("refused_after_close: no new connection was attempted after the stop signal, "
                               "so the check had nothing to look at");
            return a;
        }
        if (a.passed) {
            a.observed = fmt::format("{} new connections after {}: {} served, {} refused promptly", fresh, signal_,
                                     served, refused);
            return a;
        }
        std::string kinds;
        for (int o = 0; o < kOutcomeCount; ++o)
            if (bad[size_t(o)])
                kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", bad[size_t(o)], outcome_name(Outcome(o)));
        a.observed = fmt::format("{} of {} new connections hung or were reset after {} ({})", violations, fresh,
                                 signal_, kinds);
        a.reason = fmt::format("{} new connections after {} were neither served nor refused ({})", violations,
                               signal_, kinds);
        return a;
    }

    Assertion ready_fails_during_drain(bool expected) const {
        Assertion a = named("ready_fails_during_drain", expected ? "true" : "false");
        // A probe that timed out or was cut before a response got no answer: on a loaded machine the
        // harness itself can be slow, and a probe in flight when the process is killed is reset. Neither
        // is the target saying "not ready"; only an answer (non-2xx, refused) counts.
        const DrainProbe* first_failure = nullptr;
        size_t ready = 0, unanswered = 0;
        for (const DrainProbe& p : run_.drain_probes) {
            bool answered = !p.no_answer;
            unanswered += answered ? 0 : 1;
            if (!p.ready && answered && !first_failure) first_failure = &p;
            ready += p.ready ? 1 : 0;
        }
        int64_t signal_at = run_.stop_signal_ns.value_or(0);
        if (first_failure)
            a.observed = fmt::format("not ready {} after {} ({})", secs(first_failure->at_ns - signal_at), signal_,
                                     first_failure->detail);
        else if (ready)
            a.observed = unanswered ? fmt::format("ready in {} probes during the drain ({} timed out)", ready, unanswered)
                                    : fmt::format("ready in all {} probes during the drain", ready);
        else
            a.observed = "no probe completed before the target exited";
        a.passed = expected ? (first_failure != nullptr || ready == 0) : first_failure == nullptr;
        if (!a.passed)
            a.reason = expected ? fmt::format("the ready probe kept answering ready during the drain ({} probes): a "
                                              "load balancer would keep routing to it", ready)
                                : "the ready probe failed during the drain: " + a.observed;
        return a;
    }

    // Requests started before the stop signal that had not ended when it was sent.
    size_t in_flight_at_signal() const {
        return size_t(std::count_if(run_.records.begin(), run_.records.end(),
                                    [&](const RequestRecord& r) { return drain_.in_flight_at_signal(r); }));
    }

    void add_warnings(Verdict& v) const {
        if (run_.stop_signal_ns && in_flight_at_signal() == 0)
            v.warnings.push_back("no request was in flight at the stop signal: add slow requests ([[load.mix]]) "
                                 "for the drain to be tested");
        if (run_.requests_not_recorded)
            v.warnings.push_back(fmt::format("{} requests were not recorded (record capacity reached)",
                                             run_.requests_not_recorded));
        if (run_.aborted) v.warnings.push_back("the run was aborted: partial result");
        if (v.assertions.empty()) v.warnings.push_back("no [expect] keys: nothing was checked");
    }

    std::string pass_facts() const {
        size_t drops = 0;
        for (const RequestRecord& r : run_.records) drops += counts_as_drop(r) ? 1 : 0;
        std::string s = fmt::format("{} of {} requests dropped", drops, run_.records.size());
        if (run_.stop_signal_ns) s += fmt::format(" ({} in flight at {})", in_flight_at_signal(), signal_);
        if (run_.exit.exited && run_.exit.code) s += "; " + exit_facts();
        return s;
    }

    std::string exit_facts() const {
        std::string s = fmt::format("exited {}", *run_.exit.code);
        if (run_.stop_signal_ns) s += " " + secs(run_.exit.at_ns - *run_.stop_signal_ns) + " after " + signal_;
        return s;
    }

    const RunResult& run_;
    PhaseBounds bounds_;
    std::string signal_;
    DrainFailures drain_;
};

}  // namespace

Verdict verify(const RunResult& run) { return Checker(run).verdict(); }

}  // namespace draincheck
