#include "platforms/platform.h"

#include "fleet/replica_set.h"
#include "platforms/pm2/pm2_platform.h"
#include "platforms/swarm/swarm_platform.h"

#include <stdexcept>

namespace draincheck {

std::unique_ptr<InstanceSet> make_instance_set(boost::asio::io_context& io, const RunClock& clock, const RunPlan& plan,
                                               EmitEvent emit) {
    const Scenario& s = plan.scenario;
    if (s.fleet) return std::make_unique<ReplicaSet>(io, clock, plan, std::move(emit));
    if (!s.platform) throw std::logic_error("no [fleet] and no [platform]");
    switch (s.platform->kind) {
    case PlatformSpec::Kind::pm2: return std::make_unique<Pm2Platform>(io, clock, plan, std::move(emit));
    case PlatformSpec::Kind::swarm: return std::make_unique<SwarmPlatform>(io, clock, plan, std::move(emit));
    }
    throw std::logic_error("no driver for platform " + std::string(platform_name(s.platform->kind)));
}

}  // namespace draincheck
