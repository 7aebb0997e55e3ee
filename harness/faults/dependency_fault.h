#pragma once
#include "faults/fault.h"

namespace draincheck {

// kill_dependency, stop_dependency, cont_dependency, restart_dependency.
std::unique_ptr<Fault> make_kill_dependency_fault(const FaultSpec& spec);
std::unique_ptr<Fault> make_stop_dependency_fault(const FaultSpec& spec);
std::unique_ptr<Fault> make_cont_dependency_fault(const FaultSpec& spec);
std::unique_ptr<Fault> make_restart_dependency_fault(const FaultSpec& spec);

}  // namespace draincheck
