#pragma once
// Runs one planned scenario end to end: start the target, wait until it is ready, fire the load,
// inject the faults on schedule, watch the drain, and collect records + events into a RunResult.
#include "load/load_generator.h"
#include "plan/run_plan.h"
#include "verifier/run_result.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace draincheck {

// What a live display is told while a run goes on. Called on the run's control thread.
struct LiveStatus {
    double elapsed_s = 0;        // since load started (0 before)
    LoadProgress load;
    double requests_per_s = 0;   // completions in the last interval
    std::string phase;           // "starting", "before", "draining", "after", "stopping"
};

class RunObserver {
public:
    virtual ~RunObserver() = default;
    virtual void on_event(const RunEvent&) {}
    virtual void on_progress(const LiveStatus&) {}
    virtual void on_log(const LogLine&) {}
};

// The target or the machine kept the run from happening (exit code 3): missing binary, target
// exited or never became ready, etc. Carries the target's last output lines when there are any.
struct HarnessError : std::runtime_error {
    HarnessError(const std::string& what, std::vector<LogLine> tail = {})
        : std::runtime_error(what), log_tail(std::move(tail)) {}
    std::vector<LogLine> log_tail;
};

// Throws HarnessError. A run interrupted by SIGINT/SIGTERM to the harness returns a partial result
// with `aborted` set (and `aborted_by_signal` telling which).
RunResult run_scenario(const RunPlan& plan, RunObserver& observer, int* aborted_by_signal = nullptr);

}  // namespace draincheck
