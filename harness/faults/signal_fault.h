#pragma once
#include "faults/fault.h"

namespace draincheck {

// action = "signal": sends one signal to the target process, like `kill -TERM <pid>`.
std::unique_ptr<Fault> make_signal_fault(const FaultSpec& spec);
// action = "stop": what the platform does, for a process and a container alike: the target's stop
// signal, then SIGKILL after target.kill_after.
std::unique_ptr<Fault> make_stop_fault(const FaultSpec& spec);

}  // namespace draincheck
