#pragma once
// A TCP proxy between the target and one dependency, on loopback. It relays bytes both ways on its
// own thread, records every connection (proxy_connection.h), and applies toxics (toxics/) that a
// scenario adds and removes while the run goes on.
#include "common/run_clock.h"
#include "proxy/proxy_connection.h"
#include "scenario/scenario.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace draincheck {

class FaultProxy {
public:
    // How long a target's close is held back from the dependency when the target's process was
    // already exiting: the moment the dependency has to close by itself if it was told goodbye.
    static constexpr std::chrono::nanoseconds kGoodbyeHold = std::chrono::milliseconds(100);

    struct Options {
        std::string listen_host = "127.0.0.1";
        uint16_t listen_port = 0;            // 0 = an ephemeral port (see port())
        std::string upstream_host = "127.0.0.1";
        uint16_t upstream_port = 0;
        // The process group whose sockets count as "the target" for owner lookup; 0 = not known yet
        // (set later with set_owner_group: the proxy starts before the target).
        int owner_group = 0;
        bool find_owners = false;            // look up the owner of each accepted connection
        uint64_t seed = 1;                   // for latency jitter
    };

    FaultProxy(const RunClock& clock, Options options);   // binds and listens; throws std::system_error
    ~FaultProxy();                                          // stop()
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    uint16_t port() const;
    void start();                            // relaying runs on the proxy's own thread
    // Closes the listener and every connection (closed_by end_of_run for those still open); joins.
    void stop();

    void set_owner_group(int pgid);          // thread-safe
    // Thread-safe; a toxic applies to bytes read after it was added, on every connection.
    uint64_t add_toxic(const ToxicSpec& toxic);
    void remove_toxic(uint64_t id);
    // Close every open connection now, as a dead dependency's kernel would (closed_by dependency).
    void reset_all(const std::string& detail);
    // Thread-safe; call before draincheck stops, kills, freezes or restarts the dependency: a close
    // by the dependency on a connection open now is then never taken for an answer to a goodbye.
    void harness_acts_on_dependency();

    std::vector<ProxyConnection> connections() const;   // thread-safe snapshot, in id order

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace draincheck
