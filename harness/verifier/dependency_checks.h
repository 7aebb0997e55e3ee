#pragma once
// The assertions about dependencies: did the target close its connections before it exited, and
// how did it behave while a dependency was down and after it came back.
#include "verifier/run_result.h"
#include "verifier/verdict.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace draincheck {

// expect.dependency_closed_before_exit. Judged by what the target's group held the moment it began to
// exit where that was seen (run.exit_stops); a warning says when the weaker rule had to be used.
Assertion check_dependency_closed_before_exit(const RunResult& run, std::vector<std::string>& warnings);
// expect.dependency_down: one assertion per key set (max_latency, ready_fails, recovers_within).
std::vector<Assertion> check_dependency_down(const RunResult& run);

// [from, to) in ns: while a dependency was down, and until it had recovered (recovers_within after
// its return when that is set, else its return). Requests started there are not held against
// max_error_rate.
std::vector<std::pair<int64_t, int64_t>> outage_windows(const RunResult& run);

// How a connection ended, for the verdict and the reports: "closed by the target", "left open until
// the target exited", ...; `ok` says whether it satisfies dependency_closed_before_exit.
struct ConnectionJudgement {
    bool ok = false;
    std::string how;
};
ConnectionJudgement judge_connection(const ProxyConnection& c, const RunResult& run);

}  // namespace draincheck
