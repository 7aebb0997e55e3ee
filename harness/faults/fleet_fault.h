#pragma once
// Faults on a fleet of replicas: what a platform does when it scales or deploys, and a crash.
#include "faults/fault.h"

namespace draincheck {

std::unique_ptr<Fault> make_scale_down_fault(const FaultSpec& spec);
std::unique_ptr<Fault> make_scale_up_fault(const FaultSpec& spec);
std::unique_ptr<Fault> make_rolling_restart_fault(const FaultSpec& spec);
std::unique_ptr<Fault> make_kill_replica_fault(const FaultSpec& spec);

}  // namespace draincheck
