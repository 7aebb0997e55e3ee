#pragma once
// What the drain did to each request, for dropped_inflight (one target, no fleet). Over the whole run
// a request cut on its connection (dropped, truncated, a keep-alive race on a method no client may
// retry) is a failure; a request in flight at the stop signal (started before it, not ended before
// it) is one too whenever it did not end `ok`: it timed out, broke while being sent, or was answered
// with an error status, or with a 4xx status the same request never got before the signal. Races a
// client retries safely, and an error status the same request also got before the signal (the
// service's usual answer, not the drain's doing), are told apart: shown, never counted.
// See docs/outcomes.md.
#include "verifier/run_result.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace draincheck {

enum class DrainFailure : uint8_t {
    none,                          // ended ok, or is another assertion's business (refused, connect_error,
                                   // a request started after the signal that timed out, ...)
    // Counted, anywhere in the run.
    dropped,
    truncated,
    closed_idle_unsafe,            // the keep-alive race, on a method a client cannot safely retry
    // Counted, in flight at the stop signal.
    timeout_in_flight,
    send_error_in_flight,
    error_status_in_flight,        // >= 500, a status the same request did not get before the signal
    new_client_status_in_flight,   // 4xx, a status the same request never got before the signal
    // Shown, not counted.
    closed_idle_retryable,         // the keep-alive race on an idempotent method
    backlog_reset_retryable,       // the listen-backlog race on an idempotent method
    usual_error_status_in_flight,  // >= 500, a status the same request also got before the signal
};

struct DrainJudgement {
    DrainFailure failure = DrainFailure::none;
    uint16_t status = 0;           // for the status kinds
    bool counted() const;
};

bool is_idempotent(const std::string& method);

class DrainFailures {
public:
    explicit DrainFailures(const RunResult& run);

    DrainJudgement judge(const RequestRecord& r) const;
    // The text of a judgement's kind, e.g. "http_error 503 in flight"; "" for none.
    std::string kind(const DrainJudgement& j) const;

    // Started before the stop signal and not ended before it (false without a stop signal).
    bool in_flight_at_signal(const RequestRecord& r) const;
    // A new connection the kernel had completed into the listen backlog, reset as the listener closed
    // with it: the application never read the request. Like closed_idle, a race no server can close by
    // itself (a load balancer's deregistration delay does). Known two ways: the connection was made
    // moments before the reset, or it was one of the connections the kernel said were waiting in the
    // accept queue when the listener was last seen open (however long they had waited there).
    bool is_backlog_reset(const RequestRecord& r) const;

private:
    const std::string& method_of(const RequestRecord& r) const;
    // The same [[load.mix]] entry got this request's status in a request that ended before the signal.
    bool status_seen_before_signal(const RequestRecord& r) const;

    const RunResult& run_;
    std::string signal_;
    std::optional<int64_t> listener_closed_ns_;
    // Connections that were waiting in the accept queue when the listener was last seen open.
    std::set<uint32_t> queued_at_last_seen_;
    std::set<std::pair<uint8_t, uint16_t>> statuses_before_;   // (template index, status) ended before the signal
};

}  // namespace draincheck
