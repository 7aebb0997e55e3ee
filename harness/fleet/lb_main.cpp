// draincheck-lb: a fleet's load balancer on its own, for benchmarks and poking at by hand.
//   draincheck-lb [--lb builtin|haproxy] [--listen-port N] --backend PORT [--backend PORT ...]
//                 [--health-path PATH] [--balance round_robin|least_conn]
// The backends are replicas 0..n-1 on 127.0.0.1, in the order given. Without --health-path the
// health check is a TCP connect. Prints "listening on PORT" once it accepts and every backend has
// passed its health checks (or after 5 s, with a warning on stderr), then balances until SIGTERM or
// SIGINT. Health changes go to stderr.
#include "fleet/balancer.h"

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/core.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;

constexpr auto kHealthyWait = std::chrono::seconds(5);
constexpr auto kDrainEvery = std::chrono::seconds(1);

}  // namespace

int main(int argc, char** argv) {
    using namespace draincheck;
    BalancerOptions options;
    FleetSpec::Balancer kind = FleetSpec::Balancer::builtin;
    std::vector<uint16_t> backends;
    CLI::App app{"A fleet's load balancer on its own: replicas 0..n-1 are the --backend ports on 127.0.0.1, in order"};
    std::string lb = "builtin", balance = "round_robin";
    app.add_option("--lb", lb)->check(CLI::IsMember({"builtin", "haproxy"}));
    app.add_option("--listen-port", options.port, "0 for an ephemeral port")->check(CLI::Range(0, 65535));
    app.add_option("--backend", backends, "a replica's port")->required()->check(CLI::Range(1, 65535));
    app.add_option("--health-path", options.health.path, "HTTP health check path (default: TCP connect)")
        ->check(CLI::Validator([](std::string& path) { return path.starts_with('/') ? "" : std::string("must start with /"); },
                               "PATH"));
    app.add_option("--balance", balance)->check(CLI::IsMember({"round_robin", "least_conn"}));
    CLI11_PARSE(app, argc, argv);
    if (lb == "haproxy") kind = FleetSpec::Balancer::haproxy;
    if (balance == "least_conn") options.balance = FleetSpec::Balance::least_conn;

    try {
        asio::io_context io{1};
        RunClock clock;
        std::set<int> healthy;
        bool announced = false;
        std::unique_ptr<Balancer> balancer;
        asio::steady_timer healthy_wait(io);
        asio::steady_timer drain(io);
        // Caught from the start, so that a stop while starting still stops haproxy.
        asio::signal_set stop_signals(io, SIGTERM, SIGINT);
        stop_signals.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            healthy_wait.cancel();
            drain.cancel();
            if (balancer) balancer->stop();
            io.stop();
        });
        auto announce = [&] {
            if (announced) return;
            announced = true;
            healthy_wait.cancel();
            fmt::print("listening on {}\n", balancer->port());
            std::fflush(stdout);
        };

        // Health changes arrive on io's thread (this one), like the timers and the signals.
        balancer = make_balancer(kind, io, clock, options, [&](const HealthChange& change) {
            fmt::print(stderr, "draincheck-lb: replica {} {} ({})\n", change.replica,
                       change.healthy ? "healthy" : "unhealthy", change.detail);
            if (change.healthy) healthy.insert(change.replica);
            else healthy.erase(change.replica);
            if (healthy.size() == backends.size()) announce();
        });
        balancer->start();
        for (size_t i = 0; i < backends.size(); ++i) balancer->add_replica(static_cast<int>(i), backends[i]);

        healthy_wait.expires_after(kHealthyWait);
        healthy_wait.async_wait([&](const boost::system::error_code& ec) {
            if (ec || announced) return;
            fmt::print(stderr, "draincheck-lb: {} of {} backends healthy after {} s\n", healthy.size(),
                       backends.size(), kHealthyWait.count());
            announce();
        });

        // The record of backend attempts is for a fleet's report; here it would only grow.
        std::function<void()> drain_attempts = [&] {
            drain.expires_after(kDrainEvery);
            drain.async_wait([&](const boost::system::error_code& ec) {
                if (ec) return;
                balancer->take_attempts();
                drain_attempts();
            });
        };
        drain_attempts();

        io.run();
        balancer->stop();
        balancer.reset();
    } catch (const BalancerError& e) {
        fmt::print(stderr, "draincheck-lb: {}\n", e.what());
        return 3;
    } catch (const std::exception& e) {
        fmt::print(stderr, "draincheck-lb: {}\n", e.what());
        return 1;
    }
    return 0;
}
