// draincheck init [FILE]: a commented starter scenario to copy and adapt.
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "reports/atomic_file.h"

#include <fmt/format.h>

#include <filesystem>

namespace draincheck {
namespace {

constexpr const char* kStarter = R"toml(# A draincheck scenario: does the service drop requests when it is told to stop?
# Every key: docs/scenario-reference.md. Check it with `draincheck validate FILE`, run it with
# `draincheck run FILE --out out/`.
name = "my-service-sigterm"
description = "SIGTERM under load: nothing in flight may be dropped, exit 0 within the grace period."

[target]
# The service's argv. {port} is replaced by a free port (also exported as PORT).
command = ["node", "server.js", "--port", "{port}"]
# cwd = "."                      # relative to this file
# env = { NODE_ENV = "production" }
ready = { http = "/healthz", timeout = "10s" }   # or { tcp = true }
stop_signal = "TERM"
kill_after = "10s"               # grace before SIGKILL, like `docker stop -t 10`

[load]
mode = "rate"                    # open loop: constant arrival rate; "connections" for closed loop
rate = 100                       # requests per second
duration = "15s"
timeout = "10s"

# A mix of fast and slow requests. Without slow ones in flight at the signal, the test proves little.
[[load.mix]]
path = "/"
weight = 0.8

[[load.mix]]
path = "/slow-endpoint"          # something your service takes a while to answer
weight = 0.2

[[faults]]
at = "5s"                        # from the start of load
action = "signal"
signal = "TERM"

[expect]
dropped_inflight = 0             # no request cut in flight
exit_code = 0
exit_within = "10s"              # from the signal, without a forced kill
max_error_rate = 0.0             # before the signal, everything answered
refused_after_close = "clean"    # new connections are refused once the listener closed, not left hanging
ready_fails_during_drain = true  # the ready probe fails while draining, so a load balancer stops routing
)toml";

}  // namespace

int init_command(const std::string& path) {
    if (std::filesystem::exists(path)) {
        fmt::print(stderr, "draincheck init: {} already exists; not overwriting it\n", path);
        return exit_code::invalid;
    }
    try {
        write_text_file(path, kStarter);
    } catch (const std::exception& e) {
        fmt::print(stderr, "draincheck init: {}\n", e.what());
        return exit_code::environment;
    }
    fmt::print("wrote {}: edit [target].command and the [[load.mix]] paths, then `draincheck run {}`\n", path, path);
    return exit_code::pass;
}

}  // namespace draincheck
