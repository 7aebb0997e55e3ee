#pragma once
// What happened to a fleet of replicas behind a load balancer during a run.
#include "fleet/balancer.h"
#include "supervisor/supervisor.h"
#include "verifier/run_events.h"

#include <optional>
#include <string>
#include <vector>

namespace draincheck {

// One replica's life.
struct ReplicaResult {
    int index = 0;
    uint16_t port = 0;
    pid_t pid = 0;
    std::vector<std::string> argv;
    int64_t spawned_ns = 0;
    std::optional<int64_t> ready_ns;         // its own ready probe passed
    std::optional<int64_t> in_lb_ns;         // first time the balancer sent it traffic
    std::optional<int64_t> out_lb_ns;        // taken out of the balancer (by a fault or the end of the run)
    std::optional<int64_t> signalled_ns;     // the stop signal (or SIGKILL) was sent
    std::optional<int> signal;
    std::string stopped_by;                  // "scale_down", "rolling_restart", "kill_replica", "end of run",
                                             // or a platform's operation: "platform reload", "platform update", ...
    ExitInfo exit;
    std::vector<LogLine> log_tail;

    // A fault stopped it on purpose, gracefully (its exit counts for exit_code / exit_within).
    bool stopped_gracefully_by_fault() const {
        return stopped_by == "scale_down" || stopped_by == "rolling_restart" || stopped_by.rfind("platform ", 0) == 0;
    }
};

// One fleet fault, from when it began to when it was done (replicas replaced / stopped) and to when
// every wanted replica was healthy in the balancer again.
struct FleetFaultWindow {
    std::string action;
    int64_t started_ns = 0;
    std::optional<int64_t> done_ns;
    std::optional<int64_t> capacity_restored_ns;
    unsigned wanted_replicas = 0;            // how many should be serving once it is done
};

// Created through one replica, read through another (the statelessness probe).
struct StateCheck {
    int64_t at_ns = 0;
    std::string when;                        // "before" or "after" the faults
    int created_on = -1;
    int read_on = -1;
    uint16_t status = 0;                     // of the read, 0 if none
    bool ok = false;
    std::string detail;                      // what went wrong, or the id read back
};

// The client connections an instance held when its stop signal reached it, read from /proc while the
// tracer held it stopped: the requests on them that were still running were in flight at that instance.
struct HeldConnections {
    int replica = -1;
    int64_t at_ns = 0;
    std::vector<uint16_t> client_ports;      // the clients' local ports
};

struct FleetResult {
    std::string platform;                    // "" for draincheck's own fleet, else "pm2", "swarm"
    std::string balancer;                    // "builtin", "haproxy"; "" when the platform balances itself
    uint16_t lb_port = 0;
    std::vector<ReplicaResult> replicas;     // by index
    std::vector<HealthChange> health;        // as the balancer saw it
    std::vector<BackendAttempt> attempts;    // every attempt the balancer made (builtin: all; haproxy: logged)
    std::vector<FleetFaultWindow> faults;
    std::vector<StateCheck> state_checks;
    std::vector<HeldConnections> held_at_signal;   // platforms that balance the load themselves (PM2's cluster)
    std::vector<LogLine> platform_log;       // the platform's own output (PM2 interleaves its workers', marked by id)
};

}  // namespace draincheck
