#pragma once
// Several instances of the target that something other than a single supervisor runs: draincheck's
// own fleet (replica_set.h: replicas behind its balancer, stopped the way a platform would) or a real
// platform (harness/platforms/: PM2, Docker Swarm). The run drives them all through this interface,
// and the verifier judges what they report the same way: one ReplicaResult per instance, one
// FleetFaultWindow per fault, the clients' records.
#include "supervisor/supervisor.h"
#include "verifier/fleet_result.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

class InstanceSet {
public:
    virtual ~InstanceSet() = default;

    // Deploys the instances and what carries the load to them. `done` once they take traffic at the
    // plan's port (error empty), or with the reason they cannot and the log lines that explain it.
    // Throws LaunchError or another std::exception when something cannot even be started.
    using Started = std::function<void(std::optional<std::string> error, std::vector<LogLine> log)>;
    virtual void start(Started done) = 0;

    // Instances taking traffic now / wanted (the scenario's count after the faults so far).
    virtual unsigned serving() const = 0;
    virtual unsigned wanted() const = 0;

    // End of the run: every instance still alive is stopped the platform's way; `done` once all
    // have exited and what carried the load is gone.
    virtual void stop_all(std::function<void()> done) = 0;
    // Now: SIGKILL to every instance and to what carries the load (a second Ctrl-C, or an error).
    // Idempotent.
    virtual void kill_all() = 0;
    // Calls `done` once every instance's output has reached EOF (or at once).
    virtual void on_logs_closed(std::function<void()> done) = 0;

    // After the run. `records` are the clients' (the load generator's), for a platform that learns
    // which instance held which connection from the connections themselves.
    virtual FleetResult result() = 0;
    virtual std::string_view kind() const = 0;   // "fleet", "pm2", "swarm"
};

}  // namespace draincheck
