#include "runtimes/target_runtime.h"

#include "runtimes/container/container_runtime.h"
#include "runtimes/process_runtime.h"

namespace draincheck {

std::unique_ptr<TargetRuntime> make_runtime(boost::asio::io_context& io, const RunClock& clock, LaunchSpec launch,
                                            const std::optional<ContainerPlan>& container) {
    if (container) return make_container_runtime(io, clock, *container, std::move(launch));
    return make_process_runtime(io, clock, std::move(launch));
}

std::unique_ptr<TargetRuntime> make_target_runtime(boost::asio::io_context& io, const RunClock& clock,
                                                   const RunPlan& plan, LaunchSpec launch, int replica) {
    std::optional<ContainerPlan> container = replica >= 0 ? replica_container(plan, launch) : plan.container;
    return make_runtime(io, clock, std::move(launch), container);
}

}  // namespace draincheck
