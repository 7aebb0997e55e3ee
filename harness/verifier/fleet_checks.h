#pragma once
// The assertions about a fleet behind a load balancer: did any user see an error, did every replica
// a fault stopped drain and exit properly, did capacity come back, did latency hold, is the service
// stateless. "A user saw an error" (client records) is kept apart from "a replica failed and the
// balancer hid it by retrying" (the balancer's backend attempts).
#include "verifier/run_result.h"
#include "verifier/verdict.h"

#include <string>
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

}  // namespace draincheck
