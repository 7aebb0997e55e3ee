#pragma once
// Waits until a command exits 0 (e.g. `redis-cli -p PORT ping`, `pg_isready`), running it again every
// interval, for dependencies whose readiness a TCP connect does not prove.
#include "common/run_clock.h"
#include "supervisor/supervisor.h"

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>

namespace draincheck {

// `done(true, "exit 0")` on success; `done(false, last)` when `timeout` has passed, `last` telling
// how the last attempt ended. Returns a cancel function (done is then not called).
std::function<void()> async_wait_command_ready(boost::asio::io_context& io, const RunClock& clock, LaunchSpec command,
                                               std::chrono::nanoseconds timeout, std::chrono::nanoseconds interval,
                                               std::function<void(bool ready, std::string last)> done);

}  // namespace draincheck
