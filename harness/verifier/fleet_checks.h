#pragma once
// The assertions about a fleet behind a load balancer: did any user see an error, did every replica
// a fault stopped drain and exit properly, did capacity come back, did latency hold, is the service
// stateless. "A user saw an error" (client records) is kept apart from "a replica failed and the
// balancer hid it by retrying" (the balancer's backend attempts).
#include "verifier/run_result.h"
#include "verifier/verdict.h"

#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

// One assertion per fleet [expect] key set; exit_code, exit_within and dropped_inflight are judged
// per replica in a fleet run.
std::vector<Assertion> check_fleet(const RunResult& run);

// One line for a PASS summary: requests, client errors, what the balancer hid, replicas stopped.
std::string fleet_facts(const RunResult& run);

// Backend attempts a replica ended after it was told to stop, for requests it had already accepted,
// without an answer or with an error status (>= 500, or a 4xx the fleet never answered before its
// faults): what a graceful drain must never do, even when a retry hid it. An error status the fleet
// also answered before its faults is its usual answer, not counted (dropped_inflight shows it).
std::vector<const BackendAttempt*> failed_by_stopping_replicas(const RunResult& run);

// How an attempt in flight at a replica's stop signal ended, as dropped_inflight judges it.
enum class InFlightEnd {
    answered,       // answered well (or with a 4xx status the fleet also answered before its faults)
    unanswered,     // reset or timed out: dropped
    error_status,   // answered >= 500, or a 4xx status the fleet never answered before its faults
    usual_status,   // answered >= 500 with a status the fleet also answered before its faults: shown, not counted
    refused,        // the connection was refused: never accepted
};
std::string_view in_flight_end_name(InFlightEnd e);   // "answered", "unanswered", ...

struct InFlightAttempt {
    BackendAttempt attempt;
    InFlightEnd end = InFlightEnd::answered;
    bool counted = false;   // dropped_inflight counts it: exactly the attempts of failed_by_stopping_replicas
};

// One replica's stop: the backend attempts in flight at it when it was signalled (started before the
// signal, ended at or after it), by start. `judged`: dropped_inflight holds the replica to its drain
// (not a replica crashed on purpose by kill_replica; its attempts are shown, never counted).
struct StopWaterfall {
    int replica = -1;
    int64_t signalled_ns = 0;
    bool judged = false;
    std::vector<InFlightAttempt> in_flight;
};

// Every signalled replica's stop, in replica order, with the same rule as dropped_inflight.
std::vector<StopWaterfall> stop_waterfalls(const RunResult& run);

}  // namespace draincheck
