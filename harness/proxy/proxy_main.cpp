// draincheck-proxy: the fault proxy on its own, for benchmarks and poking at by hand.
//   draincheck-proxy --listen-port N --upstream-port M [--latency-ms X]
// Prints "listening on PORT" once it accepts, then relays until SIGTERM or SIGINT.
#include "proxy/fault_proxy.h"

#include <fmt/core.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string_view>

namespace {

std::optional<long> number(const char* text) {
    long value = 0;
    const std::string_view s(text);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || value < 0) return std::nullopt;
    return value;
}

int usage() {
    fmt::print(stderr, "usage: draincheck-proxy --listen-port N --upstream-port M [--latency-ms X]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace draincheck;
    FaultProxy::Options options;
    std::optional<long> latency_ms;
    bool have_upstream = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) return usage();
        const auto value = number(argv[++i]);
        if (!value) return usage();
        if (arg == "--listen-port" && *value <= 65535) {
            options.listen_port = static_cast<uint16_t>(*value);
        } else if (arg == "--upstream-port" && *value > 0 && *value <= 65535) {
            options.upstream_port = static_cast<uint16_t>(*value);
            have_upstream = true;
        } else if (arg == "--latency-ms") {
            latency_ms = *value;
        } else {
            return usage();
        }
    }
    if (!have_upstream) return usage();

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
