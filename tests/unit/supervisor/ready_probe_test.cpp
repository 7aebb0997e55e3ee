// The ready probe against real sockets: an in-test server that is not ready, then is.
#include "supervisor/ready_probe.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <memory>

#include <poll.h>
#include <sys/socket.h>

using namespace draincheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Answers the first `not_ready` requests with 503, then 200. Runs on the test's io_context.
class HealthServer {
public:
    HealthServer(asio::io_context& io, int not_ready)
        : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), not_ready_(not_ready) { accept(); }
    uint16_t port() const { return acceptor_.local_endpoint().port(); }
    int requests = 0;

private:
    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;
            auto sock = std::make_shared<tcp::socket>(std::move(s));
            auto buf = std::make_shared<asio::streambuf>();
            asio::async_read_until(*sock, *buf, "\r\n\r\n", [this, sock, buf](boost::system::error_code ec, size_t) {
                if (ec) return;
                auto reply = std::make_shared<std::string>(++requests <= not_ready_
                    ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                asio::async_write(*sock, asio::buffer(*reply), [sock, reply](boost::system::error_code, size_t) {});
            });
            accept();
        });
    }
    tcp::acceptor acceptor_;
    int not_ready_;
};

uint16_t closed_port() {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

ReadyProbe http_probe(std::chrono::milliseconds timeout = 5000ms) {
    ReadyProbe p;
    p.kind = ReadyProbe::Kind::http;
    p.http_path = "/healthz";
    p.timeout = timeout;
    p.interval = 10ms;
    return p;
}

}  // namespace

TEST(ReadyProbe, WaitsUntilTheServiceAnswers2xx) {
    asio::io_context io;
    HealthServer server(io, 3);
    std::optional<std::pair<bool, ProbeResult>> result;
    async_wait_ready(io, "127.0.0.1", server.port(), http_probe(), [&](bool ok, ProbeResult r) { result.emplace(ok, r); io.stop(); });
    io.run_for(20s);
    ASSERT_TRUE(result);
    EXPECT_TRUE(result->first);
    EXPECT_EQ(result->second.detail, "200");
    EXPECT_EQ(server.requests, 4);
}

TEST(ReadyProbe, OneProbeReportsTheStatus) {
    asio::io_context io;
    HealthServer server(io, 1);
    std::optional<ProbeResult> r;
    async_probe_once(io, "127.0.0.1", server.port(), http_probe(), 2s, [&](ProbeResult p) { r = p; io.stop(); });
    io.run_for(20s);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ready);
    EXPECT_EQ(r->detail, "503");
}

TEST(ReadyProbe, TcpProbeAndRefusal) {
    asio::io_context io;
    HealthServer server(io, 0);
    ReadyProbe tcp_probe;   // default: tcp
    std::optional<ProbeResult> up, down;
    async_probe_once(io, "127.0.0.1", server.port(), tcp_probe, 2s, [&](ProbeResult p) { up = p; });
    async_probe_once(io, "127.0.0.1", closed_port(), tcp_probe, 2s, [&](ProbeResult p) { down = p; });
    auto limit = std::chrono::steady_clock::now() + 20s;   // the server accepts forever: run until both answered
    while (!(up && down) && std::chrono::steady_clock::now() < limit) io.run_one_for(100ms);
    ASSERT_TRUE(up && down);
    EXPECT_TRUE(up->ready);
    EXPECT_FALSE(down->ready);
    EXPECT_EQ(down->detail, "connection refused");
}

TEST(ReadyProbe, GivesUpAfterItsTimeoutWithTheLastReason) {
    asio::io_context io;
    std::optional<std::pair<bool, ProbeResult>> result;
    async_wait_ready(io, "127.0.0.1", closed_port(), http_probe(300ms), [&](bool ok, ProbeResult r) { result.emplace(ok, r); });
    io.run_for(20s);
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->first);
    EXPECT_EQ(result->second.detail, "connection refused");
}

TEST(ReadyProbe, CancelStopsIt) {
    asio::io_context io;
    bool called = false;
    auto cancel = async_wait_ready(io, "127.0.0.1", closed_port(), http_probe(300ms), [&](bool, ProbeResult) { called = true; });
    cancel();
    io.run_for(20s);   // returns as soon as nothing is left to do
    EXPECT_FALSE(called);
}

namespace {

// Accepts one connection and never answers.
class SilentServer {
public:
    explicit SilentServer(asio::io_context& io) : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (!ec) socket_ = std::make_unique<tcp::socket>(std::move(s));
        });
    }
    uint16_t port() const { return acceptor_.local_endpoint().port(); }
    bool accepted() const { return socket_ != nullptr; }
    // Whether the client has closed the connection, asked of the kernel without running the loop
    // (so no timer of the probe can have fired meanwhile); waits at most a few seconds for the FIN.
    bool client_closed() const {
        pollfd p{socket_->native_handle(), POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) return false;
        char c;
        return ::recv(socket_->native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
    }

private:
    tcp::acceptor acceptor_;
    std::unique_ptr<tcp::socket> socket_;
};

template <typename Pred>
bool run_until(asio::io_context& io, Pred done) {
    auto limit = std::chrono::steady_clock::now() + 20s;
    while (!done() && std::chrono::steady_clock::now() < limit) io.run_one_for(100ms);
    return done();
}

}  // namespace

// A drain probe in flight when the run lets go of it: cancelling closes its connection there and then,
// and it never calls back (its callback's owner may be gone).
TEST(ReadyProbe, CancelledProbeClosesItsConnectionAndNeverCallsBack) {
    asio::io_context io;
    SilentServer server(io);
    bool called = false;
    auto cancel = async_probe_once(io, "127.0.0.1", server.port(), http_probe(), 10s, [&](ProbeResult) { called = true; });
    ASSERT_TRUE(run_until(io, [&] { return server.accepted(); }));
    cancel();
    EXPECT_TRUE(server.client_closed());
    io.run_for(20s);   // returns once nothing is left: the probe's timer and read have completed
    EXPECT_FALSE(called);
}

TEST(ReadyProbe, CancelWhileAnAttemptIsInFlightClosesIt) {
    asio::io_context io;
    SilentServer server(io);
    bool called = false;
    auto cancel = async_wait_ready(io, "127.0.0.1", server.port(), http_probe(10s), [&](bool, ProbeResult) { called = true; });
    ASSERT_TRUE(run_until(io, [&] { return server.accepted(); }));
    cancel();
    EXPECT_TRUE(server.client_closed());
    io.run_for(20s);
    EXPECT_FALSE(called);
}
