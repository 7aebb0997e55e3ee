#include "verifier/drain_failures.h"

#include "common/signals.h"
#include "load/outcome.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace draincheck {
namespace {

// A listener's close resets the connections still waiting in its backlog at once; draincheck sees the
// listener gone up to a couple of milliseconds later (it asks every 2 ms), more on a loaded machine.
constexpr int64_t kBacklogResetBeforeNs = 10'000'000;
constexpr int64_t kBacklogResetAfterNs = 2'000'000;
// How long a connection the kernel said was waiting may have waited: a busy server accepts late by
// the time it takes to get to it, tens of milliseconds on a loaded machine. A connection left longer
// in the backlog of a listener the server no longer served (gunicorn's workers keep it open during
// the drain, and nothing accepts) is a request the service dropped, not a race.
constexpr int64_t kBacklogQueuedWaitNs = 100'000'000;

int64_t ended_ns(const RequestRecord& r) {
    uint64_t end = r.ended_at_us();
    return end == RequestRecord::kNever ? INT64_MAX : int64_t(end) * 1000;
}

bool opened_a_connection(const RequestRecord& r) {
    return !r.has(kReusedConnection) && r.connected_us != RequestRecord::kNever && r.connection_id != 0;
}

int64_t connected_ns(const RequestRecord& r) { return (int64_t(r.started_us) + r.connected_us) * 1000; }

// The accept queue is first in, first out: the `queued` connections waiting when the listener was
// last seen are the latest ones completed before that moment (a loopback connection is completed by
// the kernel as the client's connect() returns).
std::set<uint32_t> waiting_in_accept_queue(const std::vector<RequestRecord>& records, const ListenerSeen& seen) {
    std::vector<std::pair<int64_t, uint32_t>> opened;   // (connected at, connection id)
    for (const RequestRecord& r : records)
        if (opened_a_connection(r) && connected_ns(r) <= seen.at_ns) opened.push_back({connected_ns(r), r.connection_id});
    size_t queued = std::min<size_t>(seen.accept_queue, opened.size());
    std::partial_sort(opened.begin(), opened.begin() + queued, opened.end(), std::greater<>());
    std::set<uint32_t> ids;
    for (size_t i = 0; i < queued; ++i) ids.insert(opened[i].second);
    return ids;
}

}  // namespace

bool is_idempotent(const std::string& method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS" ||
           method == "TRACE";
}

bool DrainJudgement::counted() const {
    return failure != DrainFailure::none && failure < DrainFailure::closed_idle_retryable;
}

DrainFailures::DrainFailures(const RunResult& run)
    : run_(run), signal_(run.stop_signal ? signal_name(*run.stop_signal) : "the stop signal") {
    for (const RunEvent& e : run.events)
        if (e.type == EventType::listener_closed && e.subject.empty()) listener_closed_ns_ = e.at_ns;
    if (listener_closed_ns_ && run.listener_last_seen)
        queued_at_last_seen_ = waiting_in_accept_queue(run.records, *run.listener_last_seen);
    if (!run.stop_signal_ns) return;
    for (const RequestRecord& r : run.records)
        if (r.status && ended_ns(r) < *run.stop_signal_ns) statuses_before_.insert({r.template_index, r.status});
}

const std::string& DrainFailures::method_of(const RequestRecord& r) const {
    return run_.scenario.load.template_at(r.template_index).method;
}

bool DrainFailures::in_flight_at_signal(const RequestRecord& r) const {
    return run_.stop_signal_ns && int64_t(r.started_us) * 1000 < *run_.stop_signal_ns && ended_ns(r) >= *run_.stop_signal_ns;
}

bool DrainFailures::status_seen_before_signal(const RequestRecord& r) const {
    return statuses_before_.count({r.template_index, r.status}) != 0;
}

bool DrainFailures::is_backlog_reset(const RequestRecord& r) const {
    if (!listener_closed_ns_ || r.outcome != Outcome::dropped || !opened_a_connection(r) || !r.has(kPeerReset) ||
        r.response_bytes != 0)
        return false;
    int64_t reset_at = int64_t(r.ended_at_us()) * 1000;
    if (reset_at > *listener_closed_ns_ + kBacklogResetAfterNs) return false;
    // Seen waiting: reset after the listener was last seen open, so by its close.
    if (queued_at_last_seen_.count(r.connection_id) && reset_at >= run_.listener_last_seen->at_ns &&
        reset_at - connected_ns(r) <= kBacklogQueuedWaitNs)
        return true;
    // Connected moments before: a server that accepts would have taken a connection older than that,
    // so an older one was accepted and then dropped with the process (an in-flight request).
    return reset_at - connected_ns(r) <= kBacklogResetBeforeNs && reset_at >= *listener_closed_ns_ - kBacklogResetBeforeNs;
}

DrainJudgement DrainFailures::judge(const RequestRecord& r) const {
    bool retryable = is_idempotent(method_of(r));
    switch (r.outcome) {
    case Outcome::dropped:
        if (is_backlog_reset(r) && retryable) return {DrainFailure::backlog_reset_retryable};
        return {DrainFailure::dropped};
    case Outcome::truncated: return {DrainFailure::truncated};
    case Outcome::closed_idle:
        return {retryable ? DrainFailure::closed_idle_retryable : DrainFailure::closed_idle_unsafe};
    default: break;
    }
    if (!in_flight_at_signal(r)) return {};
    switch (r.outcome) {
    case Outcome::timeout: return {DrainFailure::timeout_in_flight};
    case Outcome::send_error: return {DrainFailure::send_error_in_flight};
    case Outcome::http_error:
        return {status_seen_before_signal(r) ? DrainFailure::usual_error_status_in_flight
                                             : DrainFailure::error_status_in_flight,
                r.status};
    case Outcome::ok:
        if (r.status >= 400 && r.status < 500 && !status_seen_before_signal(r))
            return {DrainFailure::new_client_status_in_flight, r.status};
        return {};
    default: return {};   // refused, connect_error: the connection was never accepted
    }
}

std::string DrainFailures::kind(const DrainJudgement& j) const {
    std::string status = j.status ? " " + std::to_string(j.status) : "";
    switch (j.failure) {
    case DrainFailure::none: return "";
    case DrainFailure::dropped: return "dropped";
    case DrainFailure::truncated: return "truncated";
    case DrainFailure::closed_idle_unsafe: return "closed_idle on non-idempotent requests";
    case DrainFailure::timeout_in_flight: return "timeout in flight";
    case DrainFailure::send_error_in_flight: return "send_error in flight";
    case DrainFailure::error_status_in_flight: return "http_error" + status + " in flight";
    case DrainFailure::new_client_status_in_flight:
        return fmt::format("status{} in flight, which the same request never got before {}", status, signal_);
    case DrainFailure::closed_idle_retryable: return "closed_idle on idempotent requests";
    case DrainFailure::backlog_reset_retryable:
        return "dropped in the listen backlog race on idempotent requests";
    case DrainFailure::usual_error_status_in_flight:
        return fmt::format("http_error{} in flight, which the same request also got before {}", status, signal_);
    }
    return "";
}

}  // namespace draincheck
