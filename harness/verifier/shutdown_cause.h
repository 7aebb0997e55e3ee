#pragma once
// Why a stop signal did not lead to a clean exit, named from what the host's /proc showed: the
// target's process tree just before the signal (who is PID 1, what each process catches or ignores),
// what was still running when the harness had to kill it, and how it ended. One line, with pids,
// command lines and signal names, e.g. "PID 1 is `/bin/sh -c node app.js` (shell-form CMD): it does
// not pass SIGTERM on; ...". The rules, and the evidence each uses: docs/shutdown-causes.md.
#include "supervisor/process_tree.h"
#include "verifier/run_events.h"

#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace draincheck {

struct StopFacts {
    int stop_signal = SIGTERM;
    std::string stop_signal_source;            // e.g. "the image's STOPSIGNAL", "the scenario" (for the text)
    bool in_container = false;                 // PID 1 rules apply only then
    std::vector<ProcessInfo> tree_at_signal;   // read just before the stop signal was sent; [0] is the
                                               // target's main process (PID 1 in a container)
    std::vector<ProcessInfo> alive_at_kill;    // those of the tree still alive when the harness sent
                                               // SIGKILL after the grace (empty when it did not have to)
    ExitInfo exit;                             // code or signal, forced, at_ns
    int64_t signal_ns = 0;                     // when the stop signal was sent (same clock as exit.at_ns)
};

// nullopt when the exit was clean (code 0, not forced) or no rule applies.
std::optional<std::string> shutdown_cause(const StopFacts& facts);

}  // namespace draincheck
