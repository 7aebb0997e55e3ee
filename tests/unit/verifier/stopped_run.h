#pragma once
// The run the verifier tests put their hand-built records in: one target with this load mix, sent
// SIGTERM at `signal_ns` and exited 0 at `exit_ns` (ns since the load started).
#include "verifier/run_result.h"

#include <csignal>
#include <vector>

namespace draincheck::testing {

inline RunResult stopped_run(std::vector<RequestTemplate> mix, std::vector<RequestRecord> records, int64_t signal_ns,
                             int64_t exit_ns) {
    RunResult run;
    run.scenario.load.mix = std::move(mix);
    run.load_started_ns = 0;
    run.stop_signal_ns = signal_ns;
    run.stop_signal = SIGTERM;
    run.exit.exited = true;
    run.exit.at_ns = exit_ns;
    run.exit.code = 0;
    run.records = std::move(records);
    return run;
}

}  // namespace draincheck::testing
