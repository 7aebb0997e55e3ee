#include "fleet/builtin_core.h"

#include "fleet/builtin_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <exception>

namespace draincheck {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Coroutines end by returning; an exception escaping one is a bug worth a line on stderr rather
// than a silent disappearance (asio::detached would swallow it).
void log_exception(std::exception_ptr e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        fmt::print(stderr, "builtin balancer: {}\n", x.what());
    }
}

asio::awaitable<void> serve_session(std::shared_ptr<BuiltinSession> session) { co_await session->run(); }

}  // namespace

BuiltinCore::BuiltinCore(asio::io_context& notify_io, const RunClock& clock, BalancerOptions options_in,
                         Balancer::HealthCallback on_health)
    : notify_io(notify_io),
      clock(clock),
      options(std::move(options_in)),
      pool(options.balance),
      on_health_(std::make_shared<const Balancer::HealthCallback>(std::move(on_health))) {}

void BuiltinCore::listen() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) throw BalancerError(fmt::format("builtin balancer: bad listen address {}", options.host));
    const tcp::endpoint at(address, options.port);
    acceptor_.open(at.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(at, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) port = acceptor_.local_endpoint(ec).port();
    if (ec) {
        throw BalancerError(
            fmt::format("builtin balancer: cannot listen on {}:{}: {}", options.host, options.port, ec.message()));
    }
}

void BuiltinCore::start_accepting() { asio::co_spawn(io, accept_loop(), log_exception); }

asio::awaitable<void> BuiltinCore::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (stopping || !acceptor_.is_open()) co_return;
        if (ec) {
            // Out of descriptors and the like: try again shortly rather than spin.
            accept_retry_.expires_after(std::chrono::milliseconds(10));
            co_await accept_retry_.async_wait(use_tuple);
            continue;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::co_spawn(io, serve_session(std::make_shared<BuiltinSession>(*this, std::move(socket))), log_exception);
    }
}

void BuiltinCore::add_replica(int index, uint16_t replica_port) {
    if (stopping) return;
    auto replica = pool.add(io, index, replica_port);
    if (replica) asio::co_spawn(io, health_loop(std::move(replica)), log_exception);
}

void BuiltinCore::remove_replica(int index) {
    auto replica = pool.find(index);
    if (!replica || replica->removed) return;
    // Attempts in flight hold their own connection and finish; put_idle() closes it afterwards.
    replica->removed = true;
    replica->close_idle();
    replica->stop_checks();
}

void BuiltinCore::close_everything() {
    stopping = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
    // close() leads each session to end and erase itself from `sessions`, hence the copy.
    const std::vector<BuiltinSession*> open(sessions.begin(), sessions.end());
    for (auto* session : open) session->close();
    for (const auto& replica : pool.replicas()) {
        replica->close_idle();
        replica->stop_checks();
    }
}

void BuiltinCore::record(const BackendAttempt& attempt) {
    std::lock_guard lock(attempts_mutex_);
    attempts_.push(attempt);
}

std::vector<BackendAttempt> BuiltinCore::take_attempts() {
    std::vector<BackendAttempt> taken;
    {
        std::lock_guard lock(attempts_mutex_);
        attempts_.take_into(taken);
    }
    sort_by_start(taken);
    return taken;
}

void BuiltinCore::refused_by(Replica& replica) {
    if (replica.mark_refused()) report(replica, "connection refused (passive)");
}

// The callback runs on the owner's io thread. A change still queued there when the balancer is
// destroyed is dropped: the callback's owner may be gone with it.
void BuiltinCore::report(const Replica& replica, std::string detail) {
    HealthChange change{clock.now_ns(), replica.index, replica.healthy, std::move(detail)};
    asio::post(notify_io, [weak = std::weak_ptr<const Balancer::HealthCallback>(on_health_), change = std::move(change)] {
        if (auto callback = weak.lock(); callback && *callback) (*callback)(change);
    });
}

// Checks start `interval` apart (a slow check is followed by the next one at once), the first one
// as soon as the replica is added so that it joins the rotation without waiting a whole interval.
asio::awaitable<void> BuiltinCore::health_loop(ReplicaPtr replica) {
    const auto& health = options.health;
    while (!stopping && !replica->removed) {
        const auto started = SteadyClock::now();
        CheckResult result = co_await check_once(*replica);
        if (stopping || replica->removed) co_return;
        if (auto changed = replica->count_check(result.ok, health.rise, health.fall)) report(*replica, result.detail);
        replica->check_timer.expires_at(started + health.interval);
        co_await replica->check_timer.async_wait(use_tuple);
    }
}

// A fresh connection each time, as a production balancer does: a replica that stopped accepting
// fails its check even while its old keep-alive connections still answer.
asio::awaitable<BuiltinCore::CheckResult> BuiltinCore::check_once(Replica& replica) {
    BackendConnection connection(io);
    replica.check = &connection;
    struct Forget {
        Replica& replica;
        ~Forget() { replica.check = nullptr; }
    } forget{replica};

    auto failed = [](const boost::system::error_code& ec) {
        if (ec == beast::error::timeout) return CheckResult{false, "timeout"};
        if (ec == asio::error::connection_refused) return CheckResult{false, "connection refused"};
        if (ec == asio::error::connection_reset || ec == asio::error::eof || ec == http::error::end_of_stream ||
            ec == http::error::partial_message)
            return CheckResult{false, "connection closed"};
        return CheckResult{false, ec.message()};
    };

    connection.stream.expires_after(options.health.timeout);
    auto [connect_ec] = co_await connection.stream.async_connect(replica.endpoint, use_tuple);
    if (connect_ec) co_return failed(connect_ec);
    if (options.health.path.empty()) co_return CheckResult{true, "connected"};

    const std::string request = fmt::format(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: draincheck-balancer\r\nConnection: close\r\n\r\n",
        options.health.path, replica.endpoint.port());
    auto [write_ec, written] = co_await asio::async_write(connection.stream, asio::buffer(request), use_tuple);
    if (write_ec) co_return failed(write_ec);

    // The status line decides; the body is not needed.
    http::response_parser<http::empty_body> parser;
    auto [read_ec, read] = co_await http::async_read_header(connection.stream, connection.buffer, parser, use_tuple);
    if (read_ec) co_return failed(read_ec);
    const unsigned status = parser.get().result_int();
    connection.close();
    co_return CheckResult{status >= 200 && status < 300, std::to_string(status)};
}

}  // namespace draincheck
