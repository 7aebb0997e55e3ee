#pragma once
#include "faults/fault.h"

namespace draincheck {

// action = "signal": sends one signal to the target process, like `kill -TERM <pid>`.
std::unique_ptr<Fault> make_signal_fault(const FaultSpec& spec);

}  // namespace draincheck
