#pragma once
// The process runtime: a command draincheck launches and supervises itself.
#include "runtimes/target_runtime.h"

namespace draincheck {

std::unique_ptr<TargetRuntime> make_process_runtime(boost::asio::io_context& io, const RunClock& clock, LaunchSpec launch);

}  // namespace draincheck
