#pragma once
// `draincheck run --repeat N`: one scenario run N times, each with a fresh target and fresh ports.
// Real shutdown bugs are often 1-in-20 races; the summary says, per assertion, how many runs it held
// in and which runs it failed in, with each failing run's reason.
#include "verifier/verdict.h"

#include <optional>
#include <string>
#include <vector>

namespace draincheck {

// One of the runs, as its verdict (and the process exit code it gave) left it.
struct RepeatRun {
    unsigned index = 0;               // 1, 2, ...
    int exit_code = 0;
    std::optional<Verdict> verdict;   // nullopt: the harness could not run it (exit_code says why)
    std::string report;               // where that run's own JSON report was written, if it was
};

struct RepeatFailure {
    unsigned run = 0;
    std::string reason;
    std::string observed;
    std::string report;
};

struct RepeatTally {
    std::string name;                 // the assertion
    unsigned held = 0, failed = 0;
    std::vector<RepeatFailure> failures;   // in run order
};

struct RepeatSummary {
    unsigned asked = 0;               // --repeat N
    unsigned ran = 0;                 // fewer with --until-fail, or when a run could not be made
    bool until_fail = false;
    unsigned passed = 0, failed = 0;  // runs whose verdict passed / failed
    unsigned not_judged = 0;          // runs that ended without a verdict (the harness could not run it)
    int worst_exit_code = 0;
    unsigned worst_run = 0;           // the first run that gave worst_exit_code
    std::vector<RepeatTally> assertions;   // in the scenario's [expect] order
    std::vector<std::string> warnings;     // each distinct warning, with the runs it came with
};

// `runs` in order. `worse(a, b)` returns the worse of two exit codes (cli/exit_codes.h).
RepeatSummary summarize_repeats(const std::vector<RepeatRun>& runs, unsigned asked, bool until_fail,
                                int (*worse)(int, int));

// "20 runs: 18 passed, 2 failed; dropped_inflight held in 18 of 20 (failed in runs 4, 17)".
std::string repeat_line(const RepeatSummary& s);

}  // namespace draincheck
