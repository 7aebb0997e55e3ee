#pragma once
// Everything a run produced, handed to the verifier and the report writers.
#include "load/request_record.h"
#include "proxy/proxy_connection.h"
#include "scenario/scenario.h"
#include "supervisor/process_tree.h"
#include "supervisor/supervisor.h"
#include "verifier/fleet_result.h"
#include "verifier/phase.h"
#include "verifier/run_events.h"

#include <algorithm>
#include <string>
#include <vector>

namespace draincheck {

// One stretch of time in which a dependency was down (killed or frozen).
struct Outage {
    int64_t down_ns = 0;
    std::optional<int64_t> up_ns;            // nullopt: still down at the end of the run
    std::string how;                         // "killed", "frozen"
};

// What happened to one dependency and between it and the target.
struct DependencyResult {
    std::string name;
    uint16_t port = 0;
    uint16_t proxy_port = 0;
    std::vector<std::string> argv;
    std::vector<ProxyConnection> connections;   // every connection through its proxy, in order
    std::vector<Outage> outages;
    std::vector<LogLine> log_tail;           // its own output (the last process's)
};

// The moment a process of the target's group began to exit (ptrace's exit stop, before the kernel
// closed its descriptors), and the dependency connections the group still held then.
struct ExitStop {
    int pid = 0;
    int64_t at_ns = 0;
    bool target = false;                     // the target's own process (not one it forked)
    std::vector<HeldConnection> held;
};

struct ListenerSeen {
    int64_t at_ns = 0;
    uint32_t accept_queue = 0;
};

struct RunResult {
    Scenario scenario;
    std::string host;
    uint16_t port = 0;
    std::vector<std::string> argv;           // the command as launched (placeholders substituted)
    pid_t pid = 0;

    int64_t load_started_ns = 0;
    int64_t load_sending_stopped_ns = 0;     // when the load stopped sending new requests (0: it sent none)
    int64_t load_stopped_ns = 0;             // when its last request ended
    std::vector<RequestRecord> records;      // sorted by started_us
    std::vector<RunEvent> events;            // sorted by at_ns
    ExitInfo exit;
    std::optional<int64_t> stop_signal_ns;   // the first fault that asked the target to stop
    std::optional<int> stop_signal;          // its signal number
    std::vector<DrainProbe> drain_probes;    // ready probes between stop signal and exit
    // The last time the target's listener was seen open after the stop signal, and how many
    // connections then waited in its accept queue (none: it was never asked, or could not be).
    std::optional<ListenerSeen> listener_last_seen;
    std::vector<LogLine> log_tail;
    uint64_t log_lines_total = 0;
    bool aborted = false;                    // the harness was interrupted (partial result)
    uint64_t requests_not_recorded = 0;      // beyond max_requests or record capacity
    uint64_t requests_not_sent = 0;          // open loop: still waiting for a free connection when the load stopped
    std::vector<DependencyResult> dependencies;   // in scenario order
    std::vector<DrainProbe> outage_probes;   // the target's ready probes while a dependency was down
    std::optional<FleetResult> fleet;        // [fleet] runs: the replicas and the balancer
    // With dependencies: each exit of a process of the target's group, seen as it began; and why the
    // target could not be traced, if it could not (then closes are judged by the weaker rule).
    std::vector<ExitStop> exit_stops;
    std::string exit_trace_error;
    // What names why a stop was not clean (shutdown_cause.h): the target's processes just before its
    // stop signal and just before a forced SIGKILL; whether it ran in a container, and whose stop
    // signal it got ("the scenario", "the image's STOPSIGNAL", "Docker's default"; "" for a process).
    std::vector<ProcessInfo> tree_at_signal, tree_at_kill;
    bool in_container = false;
    std::string stop_signal_source;
};

// The instants that split this run into phases. A fleet run has no single stop signal: its
// `draining` phase is the time its faults ran, from the first one's start to the end of the last
// one (or of the load, for one that never finished), when replicas were stopped, added or replaced.
inline PhaseBounds phase_bounds(const RunResult& run) {
    if (run.fleet) {
        if (run.fleet->faults.empty()) return {};
        int64_t to = run.fleet->faults.front().started_ns;
        for (const FleetFaultWindow& w : run.fleet->faults) to = std::max(to, w.done_ns.value_or(run.load_stopped_ns));
        return {run.fleet->faults.front().started_ns, to};
    }
    return {run.stop_signal_ns, run.exit.exited ? std::optional(run.exit.at_ns) : std::nullopt};
}

}  // namespace draincheck
