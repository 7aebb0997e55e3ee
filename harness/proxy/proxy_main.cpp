// draincheck-proxy: the fault proxy on its own, for benchmarks and poking at by hand.
//   draincheck-proxy --listen-port N --upstream-port M [--latency-ms X]
// Prints "listening on PORT" once it accepts, then relays until SIGTERM or SIGINT.
#include "proxy/fault_proxy.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

int main(int argc, char** argv) {
    using namespace draincheck;
    FaultProxy::Options options;
    std::optional<long> latency_ms;
    CLI::App app{"The fault proxy on its own: relays 127.0.0.1:--listen-port to 127.0.0.1:--upstream-port"};
    app.add_option("--listen-port", options.listen_port, "0 for an ephemeral port")->check(CLI::Range(0, 65535));
    app.add_option("--upstream-port", options.upstream_port)->required()->check(CLI::Range(1, 65535));
    app.add_option("--latency-ms", latency_ms, "a latency toxic on the answers")->check(CLI::Range(0, 3'600'000));
    CLI11_PARSE(app, argc, argv);

    // Blocked before the proxy thread exists, so that thread inherits the mask and the signals
    // wait for sigwait below.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    try {
        RunClock clock;
        FaultProxy proxy(clock, options);
        if (latency_ms) {
            ToxicSpec latency;
            latency.kind = ToxicSpec::Kind::latency;
            latency.direction = ToxicSpec::Direction::downstream;
            latency.latency = std::chrono::milliseconds(*latency_ms);
            proxy.add_toxic(latency);
        }
        proxy.start();
        fmt::print("listening on {}\n", proxy.port());
        std::fflush(stdout);
        int signo = 0;
        sigwait(&stop_signals, &signo);
        proxy.stop();
    } catch (const std::exception& e) {
        fmt::print(stderr, "draincheck-proxy: {}\n", e.what());
        return 1;
    }
    return 0;
}
