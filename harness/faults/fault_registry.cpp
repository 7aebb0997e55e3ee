#include "faults/fault.h"
#include "faults/dependency_fault.h"
#include "faults/fleet_fault.h"
#include "faults/platform_fault.h"
#include "faults/signal_fault.h"
#include "faults/toxic_fault.h"

#include <csignal>
#include <stdexcept>

namespace draincheck {

const std::vector<std::pair<std::string, FaultFactory>>& fault_registry() {
    static const std::vector<std::pair<std::string, FaultFactory>> registry = {
        {"signal", &make_signal_fault},
        {"stop", &make_stop_fault},
        {"kill_dependency", &make_kill_dependency_fault},
        {"stop_dependency", &make_stop_dependency_fault},
        {"cont_dependency", &make_cont_dependency_fault},
        {"restart_dependency", &make_restart_dependency_fault},
        {"toxic", &make_toxic_fault},
        {"scale_down", &make_scale_down_fault},
        {"scale_up", &make_scale_up_fault},
        {"rolling_restart", &make_rolling_restart_fault},
        {"kill_replica", &make_kill_replica_fault},
        {"platform", &make_platform_fault},
    };
    return registry;
}

std::unique_ptr<Fault> make_fault(const FaultSpec& spec) {
    for (const auto& [name, factory] : fault_registry())
        if (name == spec.action) return factory(spec);
    throw std::invalid_argument("unknown fault action '" + spec.action + "'");
}

bool is_stop_signal(int signo, const TargetSpec& target) {
    return signo == target.stop_signal || signo == SIGTERM || signo == SIGINT || signo == SIGQUIT ||
           signo == SIGKILL;
}

}  // namespace draincheck
