// The ready probe against real sockets: an in-test server that is not ready, then is.
#include "supervisor/ready_probe.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <memory>

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
    io.run_for(20s);
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
