#pragma once
// The state of the builtin balancer that lives on its thread: the listener, the replicas, the
// client sessions, the health checks and the record of backend attempts. Everything except
// take_attempts() runs on that thread (io), so nothing but the attempt record locks.
#include "common/spill_log.h"
#include "fleet/backend_pool.h"
#include "fleet/balancer.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace draincheck {

class BuiltinSession;

struct BuiltinCore {
    BuiltinCore(boost::asio::io_context& notify_io, const RunClock& clock, BalancerOptions options,
                Balancer::HealthCallback on_health);

    void listen();              // binds and listens (throws BalancerError); sets port
    void start_accepting();
    void add_replica(int index, uint16_t port);
    void remove_replica(int index);
    // Closes the listener, every client and backend connection and every health check; once their
    // handlers have run, io.run() returns.
    void close_everything();

    void record(const BackendAttempt& attempt);
    std::vector<BackendAttempt> take_attempts();
    // A connect to the replica was refused: out of rotation now; the active checks bring it back.
    void refused_by(Replica& replica);

    // Declared before io: sessions still pending when io is destroyed erase themselves from here.
    std::unordered_set<BuiltinSession*> sessions;
    boost::asio::io_context io{1};
    boost::asio::io_context& notify_io;   // where health changes are posted
    const RunClock& clock;
    const BalancerOptions options;
    uint16_t port = 0;
    BackendPool pool;
    bool stopping = false;
    uint64_t next_request = 0;

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> health_loop(ReplicaPtr replica);
    struct CheckResult {
        bool ok = false;
        std::string detail;
    };
    boost::asio::awaitable<CheckResult> check_once(Replica& replica);
    void report(const Replica& replica, std::string detail);

    std::shared_ptr<const Balancer::HealthCallback> on_health_;
    boost::asio::ip::tcp::acceptor acceptor_{io};
    boost::asio::steady_timer accept_retry_{io};
    std::mutex attempts_mutex_;
    SpillLog<BackendAttempt> attempts_{kAttemptLogChunk};
};

}  // namespace draincheck
