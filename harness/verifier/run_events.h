#pragma once
// The timeline of a run: what the harness did and saw, in one time base (ns since run start).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace draincheck {

enum class EventType {
    spawned,          // target process started (detail: pid)
    ready,            // ready probe passed
    load_started,
    signal_sent,      // a fault sent a signal (detail: signal name)
    ready_probe_failed,// first ready probe failure after the stop signal (detail: why)
    first_refused,    // first connection refused after the stop signal
    listener_closed,  // the target's listening socket disappeared
    exited,           // target exited (detail: "code N" / "signal NAME")
    forced_kill,      // harness sent SIGKILL to the group after kill_after
    load_stopped,
    note,             // anything else worth showing on the timeline
    // Dependencies (the event's subject names which one).
    dependency_spawned,   // its process started (detail: pid)
    dependency_ready,     // its ready probe passed
    dependency_down,      // killed or frozen by a fault: the outage starts
    dependency_up,        // back (restarted and ready, or continued): the outage ends
    dependency_exited,    // its process ended (detail as for `exited`)
    toxic_added,          // detail: the toxic, e.g. "latency 50ms downstream"
    toxic_removed,
    // Fleet replicas (the subject is "replica N") and the load balancer.
    replica_spawned,      // detail: pid and port
    replica_ready,        // its own ready probe passed
    lb_in,                // the balancer sends it traffic (health checks passed)
    lb_out,               // the balancer stopped sending it traffic (removed, or health checks failed)
    replica_signalled,    // detail: the signal
    replica_exited,       // detail as for `exited`
    fleet_fault,          // a fleet fault began or ended (detail says which); subject ""
    capacity_restored,    // every wanted replica is in the balancer again
};

std::string_view event_type_name(EventType t);

struct RunEvent {
    EventType type;
    int64_t at_ns;          // since run start
    std::string detail;
    std::string subject = {};   // what it happened to: "" = the target (or the fleet), else a dependency's
                                // name or "replica N"
};

// How the target's process ended.
struct ExitInfo {
    bool exited = false;         // false: still running at end of run (harness stopped it)
    int64_t at_ns = 0;
    std::optional<int> code;     // normal exit status
    std::optional<int> signal;   // terminating signal
    bool forced = false;         // killed by the harness after kill_after
    // When draincheck knew how it ended: for a process, at its exit; for a container, when Docker
    // reported the exit code (its `die` event), a little after PID 1 was gone. 0 = at_ns.
    int64_t known_ns = 0;
};

// A ready probe attempt made while the target was draining (signal → exit).
struct DrainProbe {
    int64_t at_ns = 0;
    bool ready = false;          // 2xx (http) or connected (tcp)
    std::string detail;          // "200", "503", "connection refused", "timeout"
    bool no_answer = false;      // timed out, or cut before a response (e.g. by the process being killed)
};

}  // namespace draincheck
