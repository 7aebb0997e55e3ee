#include "verifier/fleet_checks.h"

#include "common/duration.h"
#include "common/signals.h"
#include "load/outcome.h"
#include "verifier/assertion_text.h"
#include "verifier/breakdown.h"
#include "verifier/run_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

namespace draincheck {
namespace {

std::string via(const RequestRecord& r) {
    return r.replica_index() >= 0 ? "replica " + std::to_string(r.replica_index()) : "no replica";
}

// The replicas a fault stopped gracefully: their exits are judged.
std::vector<const ReplicaResult*> stopped_by_faults(const FleetResult& f) {
    std::vector<const ReplicaResult*> out;
    for (const ReplicaResult& r : f.replicas)
        if (r.stopped_gracefully_by_fault()) out.push_back(&r);
    return out;
}

std::string exit_text(const ReplicaResult& r) {
    if (!r.exit.exited) return "still running";
    return describe_exit(r.exit);
}

// How a replica stopped by a fault or the end of the run (not a crash) ended an attempt it had
// accepted before its stop signal and was still serving at it.
enum class StoppingReplicaAttempt {
    not_judged,     // another replica's, not in flight at the signal, or answered well
    unanswered,     // reset or timed out: dropped
    error_status,   // answered >= 500, or a 4xx status the fleet never answered before its faults
    usual_status,   // answered >= 500 with a status the fleet also answered before its faults: shown, not counted
};

// Statuses the fleet answered with before it was changed: before the first fleet fault began, or
// without one, before the first replica was signalled. Backend attempts do not say which request kind
// they carried, so the fleet's earlier answers stand for the same request's.
std::set<uint16_t> statuses_before_faults(const RunResult& run) {
    std::optional<int64_t> until = phase_bounds(run).stop_signal_ns;   // the first fleet fault's start
    if (!until)
        for (const ReplicaResult& r : run.fleet->replicas)
            if (r.signalled_ns) until = std::min(until.value_or(INT64_MAX), *r.signalled_ns);
    std::set<uint16_t> out;
    for (const BackendAttempt& b : run.fleet->attempts)
        if (b.status && (!until || b.ended_ns < *until)) out.insert(b.status);
    return out;
}

const ReplicaResult* replica_of(const FleetResult& f, const BackendAttempt& b) {
    if (b.replica < 0 || size_t(b.replica) >= f.replicas.size()) return nullptr;
    return &f.replicas[size_t(b.replica)];
}

// Accepted before the replica's stop signal (or on a connection it held), ended at or after it.
bool in_flight_at_signal(const ReplicaResult& r, const BackendAttempt& b) {
    return r.signalled_ns && b.started_ns < *r.signalled_ns && b.ended_ns >= *r.signalled_ns;
}

// Told to stop, and not crashed on purpose (a crash drops by definition): held to its drain.
bool drain_judged(const ReplicaResult& r) { return r.signalled_ns && r.stopped_by != "kill_replica"; }

// How an attempt in flight at a stop signal ended.
InFlightEnd end_of(const BackendAttempt& b, const std::set<uint16_t>& usual) {
    switch (b.outcome) {
    case BackendOutcome::reset:
    case BackendOutcome::timeout: return InFlightEnd::unanswered;
    case BackendOutcome::http_error: return usual.count(b.status) ? InFlightEnd::usual_status : InFlightEnd::error_status;
    case BackendOutcome::ok:
        return b.status >= 400 && b.status < 500 && !usual.count(b.status) ? InFlightEnd::error_status
                                                                          : InFlightEnd::answered;
    case BackendOutcome::refused: return InFlightEnd::refused;
    }
    return InFlightEnd::answered;
}

StoppingReplicaAttempt judge_attempt(const FleetResult& f, const BackendAttempt& b, const std::set<uint16_t>& usual) {
    const ReplicaResult* r = replica_of(f, b);
    if (!r || !drain_judged(*r) || !in_flight_at_signal(*r, b)) return StoppingReplicaAttempt::not_judged;
    switch (end_of(b, usual)) {
    case InFlightEnd::unanswered: return StoppingReplicaAttempt::unanswered;
    case InFlightEnd::error_status: return StoppingReplicaAttempt::error_status;
    case InFlightEnd::usual_status: return StoppingReplicaAttempt::usual_status;
    case InFlightEnd::answered:
    case InFlightEnd::refused: break;
    }
    return StoppingReplicaAttempt::not_judged;
}

// The kind of a judged attempt, for the breakdown: "reset", "http_error 503", ...
std::string attempt_kind(const BackendAttempt& b, StoppingReplicaAttempt how) {
    std::string status = b.status ? " " + std::to_string(b.status) : "";
    if (how == StoppingReplicaAttempt::usual_status)
        return fmt::format("http_error{} (also answered before the faults) on stopping replicas", status);
    if (b.outcome == BackendOutcome::ok) return fmt::format("status{} (never answered before the faults)", status);
    return std::string(backend_outcome_name(b.outcome)) + (b.outcome == BackendOutcome::http_error ? status : "");
}

// What a stopping replica did to a request, for a reason line: "reset", "answered 503 to".
std::string attempt_verb(const BackendAttempt& b) {
    if (b.outcome == BackendOutcome::reset) return "reset";
    if (b.outcome == BackendOutcome::timeout) return "never answered";
    return fmt::format("answered {} to", b.status);
}

class FleetChecker {
public:
    explicit FleetChecker(const RunResult& run) : run_(run), fleet_(*run.fleet) {}

    std::vector<Assertion> assertions() const {
        const ExpectSpec& e = run_.scenario.expect;
        std::vector<Assertion> out;
        if (e.client_errors) out.push_back(client_errors(*e.client_errors));
        if (e.dropped_inflight) out.push_back(dropped_inflight(*e.dropped_inflight));
        if (e.exit_code) out.push_back(exit_code(*e.exit_code));
        if (e.exit_within) out.push_back(exit_within(*e.exit_within));
        if (e.capacity_restored_within) out.push_back(capacity_restored(*e.capacity_restored_within));
        if (e.max_p99_during_fault) out.push_back(p99_during_fault(*e.max_p99_during_fault));
        if (e.stateless) out.push_back(stateless(*e.stateless));
        return out;
    }

private:
    // Every request whose client saw anything but a good answer, over the whole run.
    Assertion client_errors(uint64_t max) const {
        Assertion a = named("client_errors", fmt::format("≤ {}", max));
        std::map<std::string, uint64_t> kinds;
        uint64_t n = 0;
        for (size_t i = 0; i < run_.records.size(); ++i) {
            const RequestRecord& r = run_.records[i];
            if (r.outcome == Outcome::ok) continue;
            ++n;
            std::string kind(outcome_name(r.outcome));
            if (r.status) kind += " " + std::to_string(r.status);
            ++kinds[kind];
            if (a.evidence.size() < kMaxEvidence) a.evidence.push_back(i);
        }
        std::vector<std::string> parts;
        for (const auto& [k, c] : kinds) parts.push_back(fmt::format("{} {}", c, k));
        size_t hidden = hidden_by_retry();
        a.observed = fmt::format("{} of {}{}", n, run_.records.size(), parts.empty() ? "" : " (" + listed(parts) + ")");
        if (hidden) a.observed += fmt::format("; the balancer hid {} failed backend attempt(s) by retrying", hidden);
        a.passed = n <= max && !run_.records.empty();
        if (run_.records.empty()) a.reason = "no request was sent";
        else if (!a.passed) {
            const RequestRecord& first = run_.records[a.evidence.front()];
            a.reason = fmt::format("{} requests failed for the client (limit {}); the first at +{}: {}{} via {}{}", n,
                                   max, secs(int64_t(first.started_us) * 1000 - run_.load_started_ns),
                                   outcome_name(first.outcome), first.status ? " " + std::to_string(first.status) : "",
                                   via(first), near_event(int64_t(first.started_us) * 1000));
        }
        return a;
    }

    // Backend attempts that failed and were retried: a user did not see them, a replica caused them.
    // Failed attempts of requests whose last attempt was answered: the user got an answer anyway.
    size_t hidden_by_retry() const {
        struct Request {
            int64_t last_started = INT64_MIN;
            bool last_ok = false;
            size_t failed = 0;
        };
        std::map<uint64_t, Request> requests;
        for (const BackendAttempt& b : fleet_.attempts) {
            Request& r = requests[b.request];
            bool answered = b.outcome == BackendOutcome::ok || b.outcome == BackendOutcome::http_error;
            r.failed += answered ? 0 : 1;
            if (b.started_ns >= r.last_started) {
                r.last_started = b.started_ns;
                r.last_ok = b.outcome == BackendOutcome::ok;
            }
        }
        size_t n = 0;
        for (const auto& [id, r] : requests) n += r.last_ok ? r.failed : 0;
        return n;
    }

    // What the fleet was doing around `ns`: the latest replica event before it, for a reason line.
    std::string near_event(int64_t ns) const {
        const RunEvent* last = nullptr;
        for (const RunEvent& e : run_.events) {
            if (e.at_ns > ns) break;
            if (e.type == EventType::replica_signalled || e.type == EventType::lb_out || e.type == EventType::replica_exited)
                last = &e;
        }
        if (!last) return "";
        return fmt::format(", {} after {} {} ({})", secs(ns - last->at_ns), last->subject, event_type_name(last->type),
                           last->detail);
    }

    // Requests a stopping replica accepted before its signal and then dropped or answered with an
    // error (hidden by a retry or not), and requests cut for the client; the larger of the two counts.
    Assertion dropped_inflight(uint64_t max) const {
        Assertion a = named("dropped_inflight", fmt::format("≤ {}", max));
        Breakdown replicas, client;
        std::set<uint16_t> usual = statuses_before_faults(run_);
        std::vector<std::string> named_failures;
        bool only_unanswered = true;
        for (const BackendAttempt& b : fleet_.attempts) {
            StoppingReplicaAttempt how = judge_attempt(fleet_, b, usual);
            if (how == StoppingReplicaAttempt::not_judged) continue;
            replicas.add(int(how), attempt_kind(b, how), how != StoppingReplicaAttempt::usual_status);
            if (how == StoppingReplicaAttempt::usual_status) continue;
            only_unanswered = only_unanswered && how == StoppingReplicaAttempt::unanswered;
            named_failures.push_back(fmt::format("replica {} {} a request at +{} ({} after its stop signal)", b.replica,
                                                 attempt_verb(b), secs(b.ended_ns - run_.load_started_ns),
                                                 secs(b.ended_ns - *fleet_.replicas[size_t(b.replica)].signalled_ns)));
        }
        for (size_t i = 0; i < run_.records.size(); ++i)
            if (is_inflight_drop(run_.records[i].outcome))
                client.add(int(run_.records[i].outcome), std::string(outcome_name(run_.records[i].outcome)), true, i);
        auto listed_kinds = [](const Breakdown& k) { return k.counted() ? " (" + k.counted_list() + ")" : ""; };
        a.observed = fmt::format("{} failed by stopping replicas{}, {} cut for the client{}{}", replicas.counted(),
                                 listed_kinds(replicas), client.counted(), listed_kinds(client), replicas.not_counted_list());
        a.evidence = client.evidence();
        for (Tally& t : replicas.tallies()) {
            if (t.counted) t.kind += " on stopping replicas";
            a.breakdown.push_back(std::move(t));
        }
        for (Tally& t : client.tallies()) {
            t.kind += " for the client";
            a.breakdown.push_back(std::move(t));
        }
        uint64_t n = std::max(replicas.counted(), client.counted());
        a.passed = n <= max;
        if (!a.passed)
            a.reason = named_failures.empty()
                           ? fmt::format("{} requests were cut for the client (dropped or truncated)", client.counted())
                           : fmt::format("{} requests in flight on stopping replicas were {}: {}", named_failures.size(),
                                         only_unanswered ? "dropped" : "dropped or answered with an error",
                                         listed(named_failures));
        return a;
    }

    Assertion exit_code(int expected) const {
        Assertion a = named("exit_code", std::to_string(expected) + " for every replica a fault stopped");
        std::vector<std::string> wrong, all;
        for (const ReplicaResult* r : stopped_by_faults(fleet_)) {
            std::string line = fmt::format("replica {} {}", r->index, exit_text(*r));
            all.push_back(line);
            if (!r->exit.exited || !r->exit.code || *r->exit.code != expected) wrong.push_back(line);
        }
        a.observed = all.empty() ? "no replica was stopped by a fault" : listed(all);
        a.passed = wrong.empty() && !all.empty();
        if (all.empty()) a.reason = "no replica was stopped by a fault, so no exit could be judged";
        else if (!a.passed) a.reason = fmt::format("{} of {} stopped replicas did not exit {}: {}", wrong.size(), all.size(),
                                                   expected, listed(wrong));
        return a;
    }

    Assertion exit_within(Nanos limit) const {
        Assertion a = named("exit_within", "≤ " + format_duration(limit) + " after the stop signal, every replica");
        std::vector<std::string> slow, all;
        for (const ReplicaResult* r : stopped_by_faults(fleet_)) {
            if (!r->signalled_ns) {
                std::string line = fmt::format("replica {} was never signalled", r->index);
                all.push_back(line);
                slow.push_back(line);
                continue;
            }
            std::string took = r->exit.exited ? secs(r->exit.at_ns - *r->signalled_ns) : "never";
            std::string line = fmt::format("replica {} {}{}", r->index, took, r->exit.forced ? " (forced)" : "");
            all.push_back(line);
            if (!r->exit.exited || r->exit.forced || r->exit.at_ns - *r->signalled_ns > limit.count()) slow.push_back(line);
        }
        a.observed = all.empty() ? "no replica was stopped by a fault" : listed(all);
        a.passed = slow.empty() && !all.empty();
        if (all.empty()) a.reason = "no replica was stopped by a fault, so no exit could be judged";
        else if (!a.passed) a.reason = fmt::format("replicas did not exit within {} of the stop signal: {}",
                                                   format_duration(limit), listed(slow));
        return a;
    }

    // After every scale_up and rolling_restart: all wanted replicas take traffic again, soon enough.
    Assertion capacity_restored(Nanos limit) const {
        Assertion a = named("capacity_restored_within", "≤ " + format_duration(limit));
        std::vector<std::string> all, late;
        for (const FleetFaultWindow& w : fleet_.faults) {
            if (w.action != "scale_up" && w.action != "rolling_restart" && w.action.rfind("platform ", 0) != 0) continue;
            std::string at = secs(w.started_ns - run_.load_started_ns);
            if (!w.capacity_restored_ns) {
                std::string line = fmt::format("{} at +{}: {} replicas never all took traffic", w.action, at,
                                               w.wanted_replicas);
                all.push_back(line);
                late.push_back(line);
                continue;
            }
            int64_t took = *w.capacity_restored_ns - w.started_ns;
            std::string line = fmt::format("{} at +{}: {}", w.action, at, secs(took));
            all.push_back(line);
            if (took > limit.count()) late.push_back(line);
        }
        a.observed = all.empty() ? "no scale_up, rolling_restart or platform operation ran" : listed(all);
        a.passed = late.empty() && !all.empty();
        if (all.empty()) a.reason = a.observed;
        else if (!a.passed) a.reason = "capacity was not restored within " + format_duration(limit) + ": " + listed(late);
        return a;
    }

    // The p99 of requests started while a fleet fault was running.
    Assertion p99_during_fault(Nanos limit) const {
        Assertion a = named("max_p99_during_fault", "≤ " + format_duration(limit));
        if (fleet_.faults.empty()) {
            a.observed = "no fleet fault ran";
            a.reason = a.observed;
            return a;
        }
        const PhaseBounds during = phase_bounds(run_);   // draining: while the faults ran
        const int64_t from = *during.stop_signal_ns, to = *during.exit_ns;
        std::vector<std::pair<uint32_t, size_t>> latencies;   // latency, record index
        for (size_t i = 0; i < run_.records.size(); ++i) {
            const RequestRecord& r = run_.records[i];
            if (during.phase_of(r) != Phase::draining || r.end_us == RequestRecord::kNever) continue;
            latencies.push_back({latency_us(r), i});
        }
        if (latencies.empty()) {
            a.observed = "no request during the faults";
            a.reason = a.observed;
            return a;
        }
        std::sort(latencies.begin(), latencies.end());
        size_t rank = (latencies.size() * 99 + 99) / 100;   // nearest rank
        uint32_t p99 = latencies[std::min(rank, latencies.size()) - 1].first;
        a.observed = fmt::format("{} over {} requests from +{} to +{}", secs(int64_t(p99) * 1000), latencies.size(),
                                 secs(from - run_.load_started_ns), secs(to - run_.load_started_ns));
        a.passed = int64_t(p99) * 1000 <= limit.count();
        if (!a.passed) {
            for (auto it = latencies.rbegin(); it != latencies.rend() && a.evidence.size() < kMaxEvidence; ++it)
                a.evidence.push_back(it->second);
            a.reason = fmt::format("p99 latency during the faults was {} (limit {})", secs(int64_t(p99) * 1000),
                                   format_duration(limit));
        }
        return a;
    }

    Assertion stateless(bool expected) const {
        Assertion a = named("stateless", expected ? "true" : "false");
        std::vector<std::string> failed;
        for (const StateCheck& c : fleet_.state_checks)
            if (!c.ok)
                failed.push_back(fmt::format("{} the faults: created on replica {}, read on replica {}: {}", c.when,
                                             c.created_on, c.read_on, c.detail));
        size_t n = fleet_.state_checks.size();
        a.observed = n == 0 ? "no state check ran"
                            : failed.empty() ? fmt::format("all {} reads through other replicas found the state", n)
                                             : fmt::format("{} of {} reads failed: {}", failed.size(), n, listed(failed));
        bool stateless = n > 0 && failed.empty();
        a.passed = n > 0 && stateless == expected;
        if (n == 0) a.reason = "no state check ran (the fleet needs at least 2 replicas)";
        else if (!a.passed)
            a.reason = expected ? "state created through one replica is missing on another: " + listed(failed)
                                : "every replica found the state created through another";
        return a;
    }

    const RunResult& run_;
    const FleetResult& fleet_;
};

}  // namespace

std::vector<const BackendAttempt*> failed_by_stopping_replicas(const RunResult& run) {
    std::vector<const BackendAttempt*> out;
    if (!run.fleet) return out;
    std::set<uint16_t> usual = statuses_before_faults(run);
    for (const BackendAttempt& b : run.fleet->attempts) {
        StoppingReplicaAttempt how = judge_attempt(*run.fleet, b, usual);
        if (how == StoppingReplicaAttempt::unanswered || how == StoppingReplicaAttempt::error_status) out.push_back(&b);
    }
    return out;
}

std::string_view in_flight_end_name(InFlightEnd e) {
    switch (e) {
    case InFlightEnd::answered: return "answered";
    case InFlightEnd::unanswered: return "unanswered";
    case InFlightEnd::error_status: return "error_status";
    case InFlightEnd::usual_status: return "usual_status";
    case InFlightEnd::refused: return "refused";
    }
    return "?";
}

std::vector<StopWaterfall> stop_waterfalls(const RunResult& run) {
    std::vector<StopWaterfall> out;
    if (!run.fleet) return out;
    const FleetResult& f = *run.fleet;
    std::vector<size_t> stop_of(f.replicas.size(), SIZE_MAX);   // position in f.replicas -> in `out`
    for (size_t i = 0; i < f.replicas.size(); ++i) {
        const ReplicaResult& r = f.replicas[i];
        if (!r.signalled_ns) continue;
        stop_of[i] = out.size();
        out.push_back({r.index, *r.signalled_ns, drain_judged(r), {}});
    }
    std::set<uint16_t> usual = statuses_before_faults(run);
    for (const BackendAttempt& b : f.attempts) {
        const ReplicaResult* r = replica_of(f, b);
        if (!r || !in_flight_at_signal(*r, b)) continue;
        InFlightEnd end = end_of(b, usual);
        bool counted = drain_judged(*r) && (end == InFlightEnd::unanswered || end == InFlightEnd::error_status);
        out[stop_of[size_t(b.replica)]].in_flight.push_back({b, end, counted});
    }
    for (StopWaterfall& w : out)
        std::stable_sort(w.in_flight.begin(), w.in_flight.end(), [](const InFlightAttempt& a, const InFlightAttempt& b) {
            return a.attempt.started_ns < b.attempt.started_ns;
        });
    return out;
}

std::vector<Assertion> check_fleet(const RunResult& run) {
    if (!run.fleet) return {};
    return FleetChecker(run).assertions();
}

std::string fleet_facts(const RunResult& run) {
    if (!run.fleet) return "";
    size_t errors = 0;
    for (const RequestRecord& r : run.records) errors += r.outcome != Outcome::ok;
    size_t stopped = stopped_by_faults(*run.fleet).size();
    return fmt::format("{} of {} requests failed for the client; {} replica(s) stopped by faults", errors,
                       run.records.size(), stopped);
}

}  // namespace draincheck
