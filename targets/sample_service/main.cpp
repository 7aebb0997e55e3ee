// sample_service: an HTTP service with one shutdown behaviour per --mode, good and deliberately
// broken, for draincheck's scenarios and tests. See targets/README.md.
#include "http_server.h"
#include "redis_client.h"
#include "service_routes.h"
#include "session_store.h"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace asio = boost::asio;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string mode = "graceful";
    long force_exit_ms = 10000;
    long drain_ms = 15000;
    long ready_delay_ms = 0;
    long abandon_ms = 6000;                      // abandon-inflight: the exit comes this long after the signal
    std::optional<sample::RedisAddress> redis;   // --redis, else REDIS_URL
    long redis_timeout_ms = 500;
    std::string redis_close = "quit";            // quit | forget
    std::string sessions;                        // memory | redis; empty = redis if configured
};

const char* kModes[] = {"graceful", "exit-immediately", "no-handler", "ignore-term", "slow-drain",
                        "exit-nonzero", "close-listener-late", "fail-inflight", "abandon-inflight"};

void log(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr, "sample_service: %s\nusage: sample_service --port N [--host ADDR] [--mode MODE] "
                         "[--force-exit-ms N] [--drain-ms N] [--ready-delay-ms N] [--abandon-ms N]\n"
                         "       [--redis HOST:PORT (else env REDIS_URL=redis://HOST:PORT)] [--redis-timeout-ms 500]\n"
                         "       [--redis-close quit|forget] [--sessions memory|redis]\nmodes:", problem.c_str());
    for (const char* m : kModes) std::fprintf(stderr, " %s", m);
    std::fprintf(stderr, "\n");
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc) usage("missing value for " + arg);
        std::string value = argv[++i];
        if (arg == "--port") o.port = std::atoi(value.c_str());
        else if (arg == "--host") o.host = value;
        else if (arg == "--mode") o.mode = value;
        else if (arg == "--force-exit-ms") o.force_exit_ms = std::atol(value.c_str());
        else if (arg == "--drain-ms") o.drain_ms = std::atol(value.c_str());
        else if (arg == "--ready-delay-ms") o.ready_delay_ms = std::atol(value.c_str());
        else if (arg == "--abandon-ms") o.abandon_ms = std::atol(value.c_str());
        else if (arg == "--redis") {
            o.redis = sample::parse_redis_address(value);
            if (!o.redis) usage("--redis wants HOST:PORT, not " + value);
        } else if (arg == "--redis-timeout-ms") o.redis_timeout_ms = std::atol(value.c_str());
        else if (arg == "--redis-close") o.redis_close = value;
        else if (arg == "--sessions") o.sessions = value;
        else usage("unknown option " + arg);
    }
    if (const char* url = std::getenv("REDIS_URL"); !o.redis && url && *url) {
        o.redis = sample::parse_redis_address(url);
        if (!o.redis) usage(std::string("REDIS_URL wants redis://HOST:PORT, not ") + url);
    }
    if (o.redis_timeout_ms <= 0) usage("--redis-timeout-ms must be a positive number of milliseconds");
    if (o.redis_close != "quit" && o.redis_close != "forget") usage("--redis-close is quit or forget");
    if (o.sessions.empty()) o.sessions = o.redis ? "redis" : "memory";
    if (o.sessions != "memory" && o.sessions != "redis") usage("--sessions is memory or redis");
    if (o.sessions == "redis" && !o.redis) usage("--sessions redis needs --redis or REDIS_URL");
    if (o.port <= 0 || o.port > 65535) usage("--port is required");
    bool known = false;
    for (const char* m : kModes) known = known || o.mode == m;
    if (!known) usage("unknown mode " + o.mode);
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt = parse(argc, argv);
    asio::io_context io(1);
    std::unique_ptr<sample::HttpServer> server;
    try {
        server = std::make_unique<sample::HttpServer>(
            io, asio::ip::tcp::endpoint(asio::ip::make_address(opt.host), uint16_t(opt.port)),
            std::chrono::milliseconds(opt.ready_delay_ms));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sample_service: cannot listen on %s:%d: %s\n", opt.host.c_str(), opt.port, e.what());
        return 1;
    }

    // Redis and the session store, when configured; without them the service is as it always was.
    std::unique_ptr<sample::RedisClient> redis;
    if (opt.redis) {
        sample::RedisClient::Options ro;
        ro.address = *opt.redis;
        ro.command_timeout = ro.connect_timeout = std::chrono::milliseconds(opt.redis_timeout_ms);
        ro.log = [](const std::string& line) { log(line); };
        redis = std::make_unique<sample::RedisClient>(io, std::move(ro));
    }
    std::unique_ptr<sample::SessionStore> sessions;
    if (opt.sessions == "redis") sessions = std::make_unique<sample::RedisSessionStore>(*redis);
    else sessions = std::make_unique<sample::MemorySessionStore>();
    sample::ServiceRoutes routes(redis.get(), *sessions);
    server->set_routes(&routes);

    server->start();
    log("listening on " + opt.host + ":" + std::to_string(opt.port) + " mode=" + opt.mode);
    if (redis) redis->connect();   // at once, so an outage shows in the log before the first request

    int exit_code = 0;
    asio::steady_timer force_exit(io), cleanup(io);
    asio::signal_set signals(io);
    if (opt.mode != "no-handler") {
        signals.add(SIGTERM);
        signals.add(SIGINT);
    }

    // Closing the Redis connection is part of closing resources, after the drain: the requests in
    // flight may still need it. --redis-close forget leaves it open to the exit, a bug to be caught.
    auto close_redis = [&](std::function<void()> then) {
        if (!redis) return then();
        if (opt.redis_close == "forget") {
            log("redis: left open (--redis-close forget)");
            return then();
        }
        redis->quit(std::move(then));
    };

    // What each mode does once its drain is over.
    auto finish = [&] {
        if (opt.mode == "exit-nonzero") {
            return close_redis([&] {
                log("closing resources failed: exit 1");
                exit_code = 1;
                io.stop();
            });
        }
        if (opt.mode == "slow-drain") {
            log("drained; cleanup takes " + std::to_string(opt.drain_ms) + "ms");
            cleanup.expires_after(std::chrono::milliseconds(opt.drain_ms));
            cleanup.async_wait([&](boost::system::error_code) {
                close_redis([&] { log("closed resources; exit 0"); io.stop(); });
            });
            return;
        }
        close_redis([&] { log("drained; closed resources; exit 0"); io.stop(); });
    };

    std::function<void()> wait_signal = [&] {
        signals.async_wait([&](boost::system::error_code ec, int signo) {
            if (ec) return;
            const char* name = signo == SIGTERM ? "SIGTERM" : "SIGINT";
            if (opt.mode == "exit-immediately") {
                log(std::string(name) + " received: exit 0 now");
                std::_Exit(0);
            }
            if (opt.mode == "ignore-term") {
                log(std::string(name) + " received: ignoring it");
                return wait_signal();
            }
            if (server->draining()) return wait_signal();
            if (opt.mode == "abandon-inflight") {
                log(std::string(name) + " received: abandoning " + std::to_string(server->busy_sessions()) +
                    " requests; exit 0 in " + std::to_string(opt.abandon_ms) + "ms");
                server->abandon();
                force_exit.expires_after(std::chrono::milliseconds(opt.abandon_ms));
                force_exit.async_wait([&](boost::system::error_code ec) {
                    if (ec) return;
                    log("exit 0");
                    io.stop();
                });
                return wait_signal();
            }
            log(std::string(name) + " received: draining " + std::to_string(server->busy_sessions()) + " requests");
            force_exit.expires_after(std::chrono::milliseconds(opt.force_exit_ms));
            force_exit.async_wait([&](boost::system::error_code ec) {
                if (ec) return;
                log("drain took too long: forced exit 1");
                std::_Exit(1);
            });
            server->drain(opt.mode != "close-listener-late", [&] {
                force_exit.cancel();
                finish();
            });
            if (opt.mode == "fail-inflight") {
                log("answering every request in flight with 503");
                server->fail_in_flight(503);
            }
            wait_signal();
        });
    };
    if (opt.mode != "no-handler") wait_signal();
    io.run();
    std::fflush(stdout);
    std::_Exit(exit_code);   // sockets still queued in the listener's backlog are reset by the exit
}
