// The load generator against a real in-test server whose paths misbehave in known ways, so each
// outcome of the taxonomy is produced by a real socket event.
#include "load/load_generator.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <algorithm>

#include <future>
#include <map>
#include <poll.h>
#include <sys/socket.h>
#include <mutex>
#include <thread>

using namespace draincheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// /ok: 200; /error: 503; /drop: reads the request, works 20 ms, closes without answering;
// /truncate: headers and 10 of 100 body bytes, then closes; /hang: never answers; /ok-then-unread: 200
// with keep-alive, then waits for the next request to arrive and closes without reading it (RST).
class MisbehavingServer {
public:
    MisbehavingServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        port_ = acceptor_.local_endpoint().port();
        accept_thread_ = std::thread([this] { accept_loop(); });
    }
    ~MisbehavingServer() {
        boost::system::error_code ignored;
        ::shutdown(acceptor_.native_handle(), SHUT_RDWR);   // wakes the blocked accept()
        {
            std::lock_guard lock(mutex_);
            for (auto* s : sockets_) s->shutdown(tcp::socket::shutdown_both, ignored);
        }
        accept_thread_.join();
        for (auto& t : connections_) t.join();
        acceptor_.close(ignored);
    }
    uint16_t port() const { return port_; }

private:
    void accept_loop() {
        for (;;) {
            boost::system::error_code ec;
            tcp::socket socket = acceptor_.accept(ec);
            if (ec) return;
            connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(s); });
        }
    }

    void serve(tcp::socket& s) {
        { std::lock_guard lock(mutex_); sockets_.push_back(&s); }
        asio::streambuf buf;
        boost::system::error_code ec;
        for (;;) {
            size_t n = asio::read_until(s, buf, "\r\n\r\n", ec);
            if (ec) break;
            std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
            buf.consume(n);
            std::string path = head.substr(head.find(' ') + 1);
            path = path.substr(0, path.find(' '));
            if (path == "/ok") asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")), ec);
            else if (path == "/tagged")   // as the fleet's load balancer answers
                asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nx-draincheck-replica: 7\r\n"
                                                        "X-Draincheck-Retried: 2\r\nContent-Length: 2\r\n\r\nok")), ec);
            else if (path == "/error") asio::write(s, asio::buffer(std::string("HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n")), ec);
            else if (path == "/drop") { std::this_thread::sleep_for(20ms); break; }
            else if (path == "/ok-then-unread") {
                asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")), ec);
                pollfd p{s.native_handle(), POLLIN, 0};
                ::poll(&p, 1, 2000);   // the next request is there, unread: closing now sends RST
                break;
            }
            else if (path == "/truncate") {
                asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")), ec);
                break;
            } else if (path == "/hang") {
                char c;
                s.read_some(asio::buffer(&c, 1), ec);   // until the client gives up
                break;
            }
            if (ec) break;
        }
        // Under the lock: the destructor may be shutting this socket down from another thread.
        std::lock_guard lock(mutex_);
        boost::system::error_code ignored;
        s.close(ignored);
        sockets_.erase(std::find(sockets_.begin(), sockets_.end(), &s));
    }

    asio::io_context io_;
    tcp::acceptor acceptor_;
    uint16_t port_;
    std::thread accept_thread_;
    std::vector<std::thread> connections_;
    std::mutex mutex_;
    std::vector<tcp::socket*> sockets_;
};

LoadSpec closed_loop(std::vector<std::string> paths, unsigned connections = 1) {
    LoadSpec spec;
    spec.mode = LoadSpec::Mode::connections;
    spec.connections = connections;
    spec.duration = 400ms;
    spec.timeout = 150ms;
    for (const auto& p : paths) spec.mix.push_back(RequestTemplate{"GET", p, {}, "", 1});
    return spec;
}

LoadSpec open_loop(const std::string& path, Nanos duration, double rate = 200) {
    LoadSpec spec;
    spec.mode = LoadSpec::Mode::rate;
    spec.rate = rate;
    spec.duration = duration;
    spec.request.path = path;
    return spec;
}

std::vector<RequestRecord> run_load(const LoadSpec& spec, uint16_t port) {
    RunClock clock;
    LoadGenerator load(spec, "127.0.0.1", port, clock);
    load.start(nullptr);
    load.join();   // the load stops by itself
    EXPECT_EQ(load.progress().in_flight(), 0u);
    return load.take_records();
}

}  // namespace

TEST(LoadGenerator, EachMisbehaviourGetsItsOutcome) {
    MisbehavingServer server;
    LoadSpec spec = closed_loop({"/ok", "/error", "/drop", "/truncate", "/hang"});
    const std::map<std::string, Outcome> expected = {{"/ok", Outcome::ok}, {"/error", Outcome::http_error},
                                                     {"/drop", Outcome::dropped}, {"/truncate", Outcome::truncated},
                                                     {"/hang", Outcome::timeout}};
    auto records = run_load(spec, server.port());
    ASSERT_FALSE(records.empty());
    std::set<Outcome> seen;
    for (const auto& r : records) {
        const std::string& path = spec.mix[r.template_index].path;
        EXPECT_EQ(r.outcome, expected.at(path)) << path;
        seen.insert(r.outcome);
        EXPECT_NE(r.end_us, RequestRecord::kNever);
        if (r.outcome == Outcome::ok) {
            EXPECT_EQ(r.status, 200);
            EXPECT_NE(r.first_byte_us, RequestRecord::kNever);
            EXPECT_TRUE(r.has(kHeadersComplete));
        }
        if (r.outcome == Outcome::dropped) {
            EXPECT_TRUE(r.has(kFullyWritten));
            EXPECT_EQ(r.response_bytes, 0u);
        }
        if (r.outcome == Outcome::truncated) {
            EXPECT_GT(r.response_bytes, 0u);
        }
        if (r.outcome == Outcome::timeout) {
            EXPECT_TRUE(r.has(kLocalTimeout));
        }
    }
    EXPECT_GE(seen.size(), 3u) << "the mix should have produced several outcomes in 400 ms";
    // Sorted by start time.
    for (size_t i = 1; i < records.size(); ++i) EXPECT_LE(records[i - 1].started_us, records[i].started_us);
}

// A server that closes a keep-alive connection with the next request unread in it: its kernel sends
// RST, and the request is the keep-alive race (closed_idle), even with no time window at all.
TEST(LoadGenerator, ARequestResetUnreadOnAReusedConnectionIsClosedIdle) {
    MisbehavingServer server;
    LoadSpec spec = closed_loop({"/ok-then-unread"});
    spec.closed_idle_window = Nanos(0);
    auto records = run_load(spec, server.port());
    size_t raced = 0;
    for (const auto& r : records) {
        if (!r.has(kReusedConnection)) {
            EXPECT_EQ(r.outcome, Outcome::ok);
            continue;
        }
        EXPECT_EQ(r.outcome, Outcome::closed_idle);
        EXPECT_TRUE(r.has(kPeerReset));
        EXPECT_TRUE(r.has(kFullyWritten));
        EXPECT_EQ(r.response_bytes, 0u);
        ++raced;
    }
    EXPECT_GE(raced, 2u) << "each connection serves one request, then resets the next";
}

TEST(LoadGenerator, KeepAliveConnectionsAreReused) {
    MisbehavingServer server;
    auto records = run_load(closed_loop({"/ok"}), server.port());
    ASSERT_GT(records.size(), 10u);
    EXPECT_FALSE(records[0].has(kReusedConnection));
    EXPECT_NE(records[0].connected_us, RequestRecord::kNever);
    for (size_t i = 1; i < records.size(); ++i) {
        EXPECT_TRUE(records[i].has(kReusedConnection));
        EXPECT_EQ(records[i].connection_id, records[0].connection_id);
    }
}

TEST(LoadGenerator, RecordsTheReplicaTheLoadBalancerNamed) {
    MisbehavingServer server;
    auto records = run_load(closed_loop({"/tagged", "/ok"}), server.port());
    ASSERT_FALSE(records.empty());
    size_t tagged = 0;
    for (const auto& r : records) {
        bool is_tagged = r.template_index == 0;
        EXPECT_EQ(r.replica_index(), is_tagged ? 7 : -1);
        EXPECT_EQ(r.lb_retries, is_tagged ? 2 : 0);
        tagged += is_tagged;
    }
    EXPECT_GT(tagged, 0u);
}

TEST(LoadGenerator, RefusedConnectionsAreRefusedAndPaced) {
    uint16_t port;
    {
        asio::io_context io;
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }   // closed: nothing listens there now
    auto records = run_load(closed_loop({"/ok"}, 2), port);
    ASSERT_FALSE(records.empty());
    for (const auto& r : records) EXPECT_EQ(r.outcome, Outcome::refused);
    // 2 lanes pausing 10 ms after each refusal for 400 ms: far fewer than a spinning loop would make.
    EXPECT_LT(records.size(), 200u);
}

TEST(LoadGenerator, OpenLoopFollowsItsScheduleExactly) {
    MisbehavingServer server;
    auto records = run_load(open_loop("/ok", 500ms), server.port());
    ASSERT_EQ(records.size(), 100u);   // 200/s for 0.5 s, whatever the machine's speed
    std::vector<uint32_t> intended;
    for (const auto& r : records) intended.push_back(r.intended_us);
    std::sort(intended.begin(), intended.end());
    for (size_t i = 1; i < intended.size(); ++i) EXPECT_NEAR(double(intended[i] - intended[i - 1]), 5000.0, 1.0);
    for (const auto& r : records) {
        EXPECT_EQ(r.outcome, Outcome::ok);
        EXPECT_GE(r.started_us, r.intended_us);   // never early
    }
}

TEST(LoadGenerator, MaxRequestsBoundsTheLoad) {
    MisbehavingServer server;
    LoadSpec spec = closed_loop({"/ok"}, 4);
    spec.duration = 10s;
    spec.max_requests = 50;
    auto records = run_load(spec, server.port());
    EXPECT_EQ(records.size(), 50u);
}

TEST(LoadGenerator, StopEndsTheLoadEarly) {
    MisbehavingServer server;
    LoadSpec spec = closed_loop({"/ok"}, 2);
    spec.duration = 60s;
    RunClock clock;
    LoadGenerator load(spec, "127.0.0.1", server.port(), clock);
    std::promise<void> finished;
    load.start([&] { finished.set_value(); });
    while (load.progress().completed < 20) std::this_thread::yield();
    load.stop();
    finished.get_future().wait();
    load.join();
    auto records = load.take_records();
    EXPECT_GE(records.size(), 20u);
    for (const auto& r : records) EXPECT_EQ(r.outcome, Outcome::ok);
}

// Open loop with one connection, held by a request that hangs until its timeout: the requests due
// meanwhile wait for it, are flagged, and those that waited past their timeout never go out.
TEST(LoadGenerator, RequestsDueWhileEveryConnectionIsBusyWaitForOne) {
    MisbehavingServer server;
    LoadSpec spec = open_loop("/hang", 400ms);
    spec.timeout = 150ms;
    spec.max_connections = 1;
    RunClock clock;
    LoadGenerator load(spec, "127.0.0.1", server.port(), clock);
    load.start(nullptr);
    load.join();
    auto records = load.take_records();
    ASSERT_FALSE(records.empty());
    // The first request due (records are in start order: a late tick can start it after one that then
    // waited, but whose intended time was later) finds its connection free.
    auto first_due = std::min_element(records.begin(), records.end(),
                                      [](const RequestRecord& a, const RequestRecord& b) { return a.intended_us < b.intended_us; });
    EXPECT_FALSE(first_due->has(kWaitedForConnection)) << "the first request finds its connection free";
    size_t waited = 0, never_sent = 0;
    for (const auto& r : records) {
        waited += r.has(kWaitedForConnection);
        if (r.never_sent()) {
            ++never_sent;
            EXPECT_TRUE(r.has(kWaitedForConnection));
            EXPECT_EQ(r.outcome, Outcome::timeout);
        }
    }
    EXPECT_GT(waited, 0u);
    EXPECT_GT(never_sent, 0u) << "with every request hanging 150 ms, the queue outgrows the timeout";
    EXPECT_GT(load.requests_not_sent(), 0u) << "still queued when the load stopped";
}

TEST(LoadGenerator, NothingWaitsWhileConnectionsAreFree) {
    MisbehavingServer server;
    LoadSpec spec = open_loop("/hang", 300ms);
    spec.timeout = 100ms;
    auto records = run_load(spec, server.port());
    ASSERT_EQ(records.size(), 60u);
    for (const auto& r : records) EXPECT_FALSE(r.has(kWaitedForConnection));
}

// When the load stopped sending: at the end of its duration (never before), or when it was stopped.
TEST(LoadGenerator, SendingStopsAtTheEndOfTheDurationOrWhenStopped) {
    MisbehavingServer server;
    RunClock clock;
    {
        LoadSpec spec = open_loop("/ok", 300ms);
        LoadGenerator load(spec, "127.0.0.1", server.port(), clock);
        int64_t start = load.start(nullptr);
        load.join();
        EXPECT_GE(load.sending_stopped_ns(), start + spec.duration.count());
    }
    LoadSpec spec = closed_loop({"/ok"}, 2);
    spec.duration = 60s;
    LoadGenerator load(spec, "127.0.0.1", server.port(), clock);
    std::promise<void> finished;
    int64_t start = load.start([&] { finished.set_value(); });
    while (load.progress().completed < 20) std::this_thread::yield();
    load.stop();
    finished.get_future().wait();
    load.join();
    EXPECT_GT(load.sending_stopped_ns(), start);
    EXPECT_LT(load.sending_stopped_ns(), start + spec.duration.count());
}
