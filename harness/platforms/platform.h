#pragma once
// A real platform that deploys the target's instances and stops them with its own commands: PM2
// (pm2/), Docker Swarm (swarm/). Each driver is an InstanceSet (deploy, instances, teardown, what
// happened to each instance) that also runs the platform's operations. The registry
// (platform_registry.cpp) picks draincheck's own fleet or a platform's driver from the scenario.
#include "common/run_clock.h"
#include "fleet/instance_set.h"
#include "plan/run_plan.h"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

namespace draincheck {

class Platform : public InstanceSet {
public:
    // Runs the platform's own command for an `action = "platform"` fault (its `operation`, and
    // `count` for "scale"). Its window goes into result().faults, and the instances it stops are
    // judged like the replicas a fleet fault stops.
    virtual void operate(const FaultSpec& fault) = 0;
};

using EmitEvent = std::function<void(RunEvent)>;

// [fleet]: draincheck's ReplicaSet; [platform]: that platform's driver. `plan` and `clock` must outlive it.
std::unique_ptr<InstanceSet> make_instance_set(boost::asio::io_context& io, const RunClock& clock, const RunPlan& plan,
                                               EmitEvent emit);

}  // namespace draincheck
