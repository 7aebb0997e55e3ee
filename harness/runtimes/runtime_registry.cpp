#include "runtimes/target_runtime.h"

#include "runtimes/container/container_runtime.h"
#include "runtimes/process_runtime.h"

namespace draincheck {

std::unique_ptr<TargetRuntime> make_target_runtime(boost::asio::io_context& io, const RunClock& clock,
                                                   const RunPlan& plan, LaunchSpec launch, int replica) {
    if (plan.container) {
        ContainerPlan container = replica >= 0 ? *replica_container(plan, launch) : *plan.container;
        return make_container_runtime(io, clock, container, std::move(launch));
    }
    return make_process_runtime(io, clock, plan, std::move(launch));
}

}  // namespace draincheck
