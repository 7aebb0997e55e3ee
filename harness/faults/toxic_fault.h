#pragma once
#include "faults/fault.h"

namespace draincheck {

// Adds a toxic to a dependency's proxy, and removes it at `until` if given.
std::unique_ptr<Fault> make_toxic_fault(const FaultSpec& spec);

}  // namespace draincheck
