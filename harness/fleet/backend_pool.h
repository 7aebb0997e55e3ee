#pragma once
// The builtin balancer's replicas: where each one listens, whether it is in rotation, its health
// counters, its idle keep-alive connections, and the choice of a replica for the next request.
// Used on the balancer's thread only: nothing here locks.
#include "scenario/scenario.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace draincheck {

// A connection to a replica and its read buffer, kept together so a pooled connection reuses both.
struct BackendConnection {
    explicit BackendConnection(boost::asio::io_context& io) : stream(io) {}
    // False when the replica has closed it (or sent something unasked) while it sat idle.
    bool still_open();
    void close();

    boost::beast::tcp_stream stream;
    boost::beast::flat_buffer buffer;
};
using BackendConnectionPtr = std::unique_ptr<BackendConnection>;

struct Replica {
    Replica(boost::asio::io_context& io, int index, uint16_t port);

    bool eligible() const { return !removed && healthy; }
    // Counts one active check; returns the new health when it changed (after `rise`/`fall`).
    std::optional<bool> count_check(bool success, unsigned rise, unsigned fall);
    // A refused connect: out of rotation at once; returns true when it was healthy until now.
    bool mark_refused();

    // An idle connection the replica has not closed, newest first; null when there is none.
    BackendConnectionPtr take_idle();
    void put_idle(BackendConnectionPtr connection);
    void close_idle();
    // Ends the health checks: the timer between checks and the check under way.
    void stop_checks();

    const int index;
    const boost::asio::ip::tcp::endpoint endpoint;
    bool removed = false;
    bool healthy = false;          // unhealthy until `rise` checks passed
    unsigned successes = 0;        // consecutive
    unsigned failures = 0;         // consecutive
    int in_flight = 0;             // attempts under way, for least_conn
    std::vector<BackendConnectionPtr> idle;
    boost::asio::steady_timer check_timer;
    BackendConnection* check = nullptr;   // the health check under way, if any
};
using ReplicaPtr = std::shared_ptr<Replica>;

class BackendPool {
public:
    explicit BackendPool(FleetSpec::Balance balance) : balance_(balance) {}

    // A new replica, or null when `index` is already in rotation. A removed replica of the same
    // index is replaced (attempts still running on the old one keep it alive).
    ReplicaPtr add(boost::asio::io_context& io, int index, uint16_t port);
    ReplicaPtr find(int index) const;
    // The replica for the next attempt: eligible and not in `tried`, by the balance policy.
    ReplicaPtr pick(std::span<const int> tried);
    const std::vector<ReplicaPtr>& replicas() const { return replicas_; }

private:
    FleetSpec::Balance balance_;
    std::vector<ReplicaPtr> replicas_;   // by index; removed ones stay (few: one per replica ever added)
    size_t cursor_ = 0;                  // where the rotation goes on
};

}  // namespace draincheck
