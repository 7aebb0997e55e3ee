#include "verifier/run_events.h"

namespace draincheck {

std::string_view event_type_name(EventType t) {
    switch (t) {
    case EventType::spawned: return "spawned";
    case EventType::ready: return "ready";
    case EventType::load_started: return "load_started";
    case EventType::signal_sent: return "signal_sent";
    case EventType::ready_probe_failed: return "ready_probe_failed";
    case EventType::first_refused: return "first_refused";
    case EventType::listener_closed: return "listener_closed";
    case EventType::exited: return "exited";
    case EventType::forced_kill: return "forced_kill";
    case EventType::load_stopped: return "load_stopped";
    case EventType::note: return "note";
    case EventType::dependency_spawned: return "dependency_spawned";
    case EventType::dependency_ready: return "dependency_ready";
    case EventType::dependency_down: return "dependency_down";
    case EventType::dependency_up: return "dependency_up";
    case EventType::dependency_exited: return "dependency_exited";
    case EventType::toxic_added: return "toxic_added";
    case EventType::toxic_removed: return "toxic_removed";
    case EventType::replica_spawned: return "replica_spawned";
    case EventType::replica_ready: return "replica_ready";
    case EventType::lb_in: return "lb_in";
    case EventType::lb_out: return "lb_out";
    case EventType::replica_signalled: return "replica_signalled";
    case EventType::replica_exited: return "replica_exited";
    case EventType::fleet_fault: return "fleet_fault";
    case EventType::capacity_restored: return "capacity_restored";
    }
    return "?";
}

}  // namespace draincheck
