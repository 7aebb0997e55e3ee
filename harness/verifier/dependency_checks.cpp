#include "verifier/dependency_checks.h"

#include "common/duration.h"
#include "verifier/assertion_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

namespace draincheck {
namespace {

int64_t run_end_ns(const RunResult& run) {
    return std::max({run.load_stopped_ns, run.exit.at_ns, run.load_started_ns});
}

std::string describe_connection(const ProxyConnection& c, const DependencyResult& d) {
    std::string owner = c.owner_pid ? fmt::format("pid {} {}", *c.owner_pid, c.owner_name) : "owner unknown";
    return fmt::format("{} #{} ({}, opened at {:.3f}s, {} B up / {} B down)", d.name, c.id, owner,
                       double(c.opened_ns) / 1e9, c.bytes_up, c.bytes_down);
}

// The outages of every dependency, in time order.
std::vector<std::pair<const DependencyResult*, const Outage*>> all_outages(const RunResult& run) {
    std::vector<std::pair<const DependencyResult*, const Outage*>> out;
    for (const auto& d : run.dependencies)
        for (const auto& o : d.outages) out.emplace_back(&d, &o);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second->down_ns < b.second->down_ns; });
    return out;
}

int64_t started_ns(const RequestRecord& r) { return int64_t(r.started_us) * 1000; }

}  // namespace

namespace {

const ExitStop* target_exit_stop(const RunResult& run) {
    for (const ExitStop& s : run.exit_stops)
        if (s.target) return &s;
    return nullptr;
}

std::string pids(const std::vector<int>& holders) {
    std::string text;
    for (int pid : holders) text += (text.empty() ? "" : ", ") + std::to_string(pid);
    return text;
}

// The fact, where there is one: was `c` still open the moment the target (or the forked process
// that alone held it) began to exit? nullopt: no exit stop says (not traced, or opened later).
std::optional<std::string> left_open_at_exit(const ProxyConnection& c, const RunResult& run, bool* decided) {
    *decided = false;
    const ExitStop* target = target_exit_stop(run);
    if (target && c.opened_ns < target->at_ns) {
        *decided = true;
        for (const HeldConnection& h : target->held)
            if (h.held(c))
                return fmt::format("still open when the target began to exit (held by pid {})", pids(h.holders));
    }
    for (const ExitStop& s : run.exit_stops) {
        if (s.target || c.opened_ns >= s.at_ns) continue;
        for (const HeldConnection& h : s.held)
            if (h.held(c) && h.holders == std::vector<int>{s.pid})
                return fmt::format("still open when pid {}, forked by the target, began to exit", s.pid);
    }
    return std::nullopt;
}

}  // namespace

ConnectionJudgement judge_connection(const ProxyConnection& c, const RunResult& run) {
    using C = ProxyConnection::Closer;
    if (!c.closed_by || *c.closed_by == C::end_of_run) return {false, "still open when the run ended"};
    if (*c.closed_by == C::proxy) return {true, "closed by a toxic (" + c.close_detail + ")"};
    if (*c.closed_by == C::dependency) {
        if (c.close_detail == "dependency killed") return {true, "reset: the dependency was killed"};
        if (c.close_detail.starts_with("upstream")) return {true, "refused: the dependency was down"};
    }
    // When the target began to exit: the moment of its exit stop where it was seen, else its exit.
    const ExitStop* stop = target_exit_stop(run);
    int64_t exit_began = stop ? stop->at_ns : run.exit.exited ? run.exit.at_ns : INT64_MAX;
    // The dependency ended it first, while the target still ran (e.g. after QUIT, or its idle timeout).
    if (*c.closed_by == C::dependency && c.closed_ns && *c.closed_ns <= exit_began)
        return {true, "closed by the dependency (e.g. after QUIT)"};
    // A goodbye is something the target sent (e.g. QUIT) that the dependency answered by closing, before
    // draincheck acted on it: a connection the target never wrote to carried none.
    bool goodbye = *c.closed_by == C::target && c.dependency_closed_by_itself && c.bytes_up > 0;

    // By fact: the connections the target's group held as it began to exit (ptrace's exit stop).
    bool decided = false;
    if (auto open_at_exit = left_open_at_exit(c, run, &decided)) {
        if (goodbye) return {true, *open_at_exit + ", after a goodbye the dependency answered"};
        return {false, *open_at_exit + ": closed by the kernel" +
                           (c.bytes_up == 0 ? std::string("; the target never wrote to it, so no goodbye was sent") : "")};
    }
    if (decided) return {true, "closed by the target before it began to exit"};

    // The weaker rule, without an exit stop: was the target's process already exiting when the proxy
    // saw its side close?
    if (*c.closed_by == C::dependency) return {false, "closed by the dependency after the target exited"};
    if (c.owner_exiting_at_close && goodbye)
        return {true, "closed by the target as it exited, after a goodbye the dependency answered"};
    if (c.owner_exiting_at_close && c.bytes_up == 0)
        return {false, "left open until the target exited (closed by the kernel); the target never wrote to it, "
                       "so no goodbye was sent"};
    if (c.owner_exiting_at_close) return {false, "left open until the target exited (closed by the kernel)"};
    return {true, "closed by the target"};
}

Assertion check_dependency_closed_before_exit(const RunResult& run, std::vector<std::string>& warnings) {
    Assertion a;
    a.name = "dependency_closed_before_exit";
    a.expected = "true";
    size_t total = 0;
    std::vector<std::string> left;
    for (const auto& d : run.dependencies) {
        for (const auto& c : d.connections) {
            ++total;
            ConnectionJudgement j = judge_connection(c, run);
            if (!j.ok) left.push_back(describe_connection(c, d) + ": " + j.how);
        }
    }
    if (total == 0) {
        a.observed = "no connection to a dependency went through its proxy";
        a.reason = "the target opened no connection to a dependency through draincheck's proxy (does it read the "
                   "address from the variables in [[dependencies]] env?), so closing them cannot be checked";
        return a;
    }
    if (!target_exit_stop(run))
        warnings.push_back(fmt::format(
            "dependency_closed_before_exit: {}, so each close is judged by the weaker rule (was the target's process "
            "already exiting when the proxy saw its side close?)",
            run.exit_trace_error.empty() ? "the target's exit was not seen as it began (killed, or it never exited)"
                                         : "the target could not be traced (" + run.exit_trace_error + ")"));
    a.passed = left.empty();
    if (a.passed) {
        a.observed = fmt::format("all {} connection{} closed before the target exited", total, total == 1 ? "" : "s");
        return a;
    }
    a.observed = fmt::format("{} of {} connections left open until exit", left.size(), total);
    a.reason = fmt::format("{} dependency connection{} not closed before the target exited: {}", left.size(),
                           left.size() == 1 ? " was" : "s were", listed(left));
    return a;
}

std::vector<std::pair<int64_t, int64_t>> outage_windows(const RunResult& run) {
    std::vector<std::pair<int64_t, int64_t>> windows;
    const auto& expect = run.scenario.expect.dependency_down;
    int64_t recovery = expect && expect->recovers_within ? expect->recovers_within->count() : 0;
    for (const auto& [d, o] : all_outages(run))
        windows.emplace_back(o->down_ns, o->up_ns ? *o->up_ns + recovery : run_end_ns(run));
    return windows;
}

std::vector<Assertion> check_dependency_down(const RunResult& run) {
    const auto& expect = *run.scenario.expect.dependency_down;
    std::vector<Assertion> out;
    auto outages = all_outages(run);
    // Requests are judged up to the stop signal: during the drain other rules apply.
    int64_t horizon = run.stop_signal_ns.value_or(run_end_ns(run));
    auto during = [&](const RequestRecord& r, const Outage& o) {
        int64_t t = started_ns(r);
        return t >= o.down_ns && t < std::min(o.up_ns.value_or(horizon), horizon);
    };
    std::string who = outages.empty() ? "the dependency" : outages.front().first->name;

    if (expect.max_latency) {
        Assertion a;
        a.name = "dependency_down.max_latency";
        a.expected = "≤ " + format_duration(*expect.max_latency);
        size_t n = 0, slow = 0;
        uint64_t worst_us = 0;
        bool unanswered = false;
        for (size_t i = 0; i < run.records.size(); ++i) {
            const RequestRecord& r = run.records[i];
            bool in = std::any_of(outages.begin(), outages.end(), [&](const auto& o) { return during(r, *o.second); });
            if (!in) continue;
            ++n;
            bool over = r.end_us == RequestRecord::kNever || int64_t(r.end_us) * 1000 > expect.max_latency->count();
            if (r.end_us == RequestRecord::kNever) unanswered = true;
            else worst_us = std::max<uint64_t>(worst_us, r.end_us);
            if (over) {
                ++slow;
                if (a.evidence.size() < 10) a.evidence.push_back(i);
            }
        }
        if (n == 0) {
            a.observed = "no request was started while " + who + " was down";
            a.reason = "no request was started while " + who + " was down, so fast failure cannot be checked";
        } else {
            a.passed = slow == 0;
            a.observed = fmt::format("{} request{} while down; slowest {}{}", n, n == 1 ? "" : "s",
                                     secs(int64_t(worst_us) * 1000), unanswered ? ", some never answered" : "");
            if (!a.passed)
                a.reason = fmt::format("{} of {} requests started while {} was down took longer than {} (the target "
                                       "hangs on a dead dependency instead of failing fast)",
                                       slow, n, who, format_duration(*expect.max_latency));
        }
        out.push_back(std::move(a));
    }

    if (expect.ready_fails) {
        Assertion a;
        a.name = "dependency_down.ready_fails";
        a.expected = *expect.ready_fails ? "true" : "false";
        const DrainProbe* first_failure = nullptr;
        size_t ready = 0;
        for (const DrainProbe& p : run.outage_probes) {
            if (!p.ready && !first_failure) first_failure = &p;
            ready += p.ready ? 1 : 0;
        }
        if (run.outage_probes.empty()) a.observed = "no ready probe completed while " + who + " was down";
        else if (first_failure)
            a.observed = fmt::format("not ready {} after {} went down ({})",
                                     secs(first_failure->at_ns - (outages.empty() ? 0 : outages.front().second->down_ns)),
                                     who, first_failure->detail);
        else a.observed = fmt::format("ready in all {} probes while {} was down", ready, who);
        a.passed = *expect.ready_fails ? first_failure != nullptr : first_failure == nullptr && !run.outage_probes.empty();
        if (!a.passed)
            a.reason = *expect.ready_fails
                           ? (run.outage_probes.empty() ? a.observed
                                                        : fmt::format("the ready probe kept answering ready while {} was "
                                                                      "down ({} probes): a load balancer would keep "
                                                                      "routing to a target that cannot serve", who, ready))
                           : "the ready probe failed while " + who + " was down: " + a.observed;
        out.push_back(std::move(a));
    }

    if (expect.recovers_within) {
        Assertion a;
        a.name = "dependency_down.recovers_within";
        a.expected = "≤ " + format_duration(*expect.recovers_within);
        a.passed = !outages.empty();
        std::vector<std::string> facts;
        for (size_t k = 0; k < outages.size(); ++k) {
            const auto& [d, o] = outages[k];
            if (!o->up_ns) {
                a.passed = false;
                facts.push_back(d->name + " never came back");
                a.reason = d->name + " did not come back before the run ended, so recovery cannot be checked";
                continue;
            }
            int64_t from = *o->up_ns;
            int64_t until = k + 1 < outages.size() ? std::min(horizon, outages[k + 1].second->down_ns) : horizon;
            // Recovered once every later request (until the next outage or the stop signal) is ok.
            std::optional<size_t> last_failure;
            size_t ok_after = 0;
            for (size_t i = 0; i < run.records.size(); ++i) {
                const RequestRecord& r = run.records[i];
                int64_t t = started_ns(r);
                if (t < from || t >= until) continue;
                if (r.outcome != Outcome::ok) last_failure = i;
                else ++ok_after;
            }
            int64_t took = last_failure ? started_ns(run.records[*last_failure]) - from : 0;
            size_t ok_later = 0;
            if (last_failure)
                for (size_t i = *last_failure + 1; i < run.records.size(); ++i) {
                    int64_t t = started_ns(run.records[i]);
                    if (t >= until) break;
                    ok_later += run.records[i].outcome == Outcome::ok ? 1 : 0;
                }
            bool recovered = last_failure ? ok_later > 0 : ok_after > 0;
            if (!recovered) {
                a.passed = false;
                facts.push_back(fmt::format("{} back at +{}: no ok request after that", d->name,
                                            secs(from - run.load_started_ns)));
                if (a.reason.empty())
                    a.reason = fmt::format("the target did not serve again after {} came back (every request up to {} "
                                           "failed)", d->name, run.stop_signal_ns ? "the stop signal" : "the end");
                if (last_failure && a.evidence.size() < 10) a.evidence.push_back(*last_failure);
                continue;
            }
            facts.push_back(took == 0 ? fmt::format("serving again as soon as {} came back", d->name)
                                      : fmt::format("serving again {} after {} came back", secs(took), d->name));
            if (took > expect.recovers_within->count()) {
                a.passed = false;
                if (a.evidence.size() < 10) a.evidence.push_back(*last_failure);
                if (a.reason.empty())
                    a.reason = fmt::format("requests kept failing {} after {} came back, limit {}", secs(took), d->name,
                                           format_duration(*expect.recovers_within));
            }
        }
        a.observed = facts.empty() ? "no outage" : fmt::format("{}", fmt::join(facts, "; "));
        if (outages.empty()) a.reason = "no dependency went down";
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace draincheck
