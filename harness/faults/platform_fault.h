#pragma once
// action = "platform": the platform's own command (pm2 reload, docker service update, ...).
#include "faults/fault.h"

namespace draincheck {

std::unique_ptr<Fault> make_platform_fault(const FaultSpec& spec);

}  // namespace draincheck
