// Each toxic through a real proxy. Time is only ever bounded from below: a loaded machine may
// make anything slower, never faster.
#include "proxy/fault_proxy.h"

#include "proxy_test_support.h"

#include <gtest/gtest.h>

#include <thread>

using namespace draincheck;
using namespace proxy_test;

namespace {

ToxicSpec toxic(ToxicSpec::Kind kind, ToxicSpec::Direction direction = ToxicSpec::Direction::downstream) {
    ToxicSpec spec;
    spec.kind = kind;
    spec.direction = direction;
    return spec;
}

std::string bytes(size_t size) {
    std::string s(size, '\0');
    for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

class ToxicsTest : public ::testing::Test {
protected:
    RunClock clock;
    EchoServer echo;
};

TEST_F(ToxicsTest, ToxicIdsStartAtOne) {
    FaultProxy proxy(clock, options_for(echo.port()));
    EXPECT_EQ(proxy.add_toxic(toxic(ToxicSpec::Kind::latency)), 1u);
    proxy.start();
    EXPECT_EQ(proxy.add_toxic(toxic(ToxicSpec::Kind::blackhole)), 2u);
    proxy.remove_toxic(1);
    proxy.remove_toxic(42);   // unknown: nothing happens
    EXPECT_EQ(proxy.add_toxic(toxic(ToxicSpec::Kind::slow_close)), 3u);
}

TEST_F(ToxicsTest, LatencyDelaysEveryAnswer) {
    FaultProxy proxy(clock, options_for(echo.port()));
    auto latency = toxic(ToxicSpec::Kind::latency);
    latency.latency = 150ms;
    proxy.add_toxic(latency);   // before start: applies to the first connection too
    proxy.start();
    Client client(proxy.port());
    for (int i = 0; i < 3; ++i) {
        const auto sent = Clock::now();
        ASSERT_TRUE(client.send("ping"));
        ASSERT_EQ(client.read_exact(4), "ping");
        EXPECT_GE(Clock::now() - sent, 150ms) << "round trip " << i;
    }
}

TEST_F(ToxicsTest, LatencyWithJitterKeepsTheOrder) {
    auto options = options_for(echo.port());
    options.seed = 7;
    FaultProxy proxy(clock, options);
    proxy.start();
    auto latency = toxic(ToxicSpec::Kind::latency, ToxicSpec::Direction::upstream);
    latency.latency = 30ms;
    latency.jitter = 25ms;
    proxy.add_toxic(latency);
    Client client(proxy.port());
    std::string expected;
    const auto sent = Clock::now();
    for (int i = 0; i < 50; ++i) {
        const std::string message = "m" + std::to_string(100 + i) + ";";
        expected += message;
        ASSERT_TRUE(client.send(message));
    }
    EXPECT_EQ(client.read_exact(expected.size()), expected);
    EXPECT_GE(Clock::now() - sent, 5ms);   // latency - jitter, at the very least
}

TEST_F(ToxicsTest, LatencyAddedLaterAppliesToOpenConnections) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("a"));
    ASSERT_EQ(client.read_exact(1), "a");
    auto latency = toxic(ToxicSpec::Kind::latency, ToxicSpec::Direction::both);
    latency.latency = 100ms;
    proxy.add_toxic(latency);
    const auto sent = Clock::now();
    ASSERT_TRUE(client.send("b"));
    ASSERT_EQ(client.read_exact(1), "b");
    EXPECT_GE(Clock::now() - sent, 200ms);   // once each way
}

TEST_F(ToxicsTest, BandwidthLimitsTheRate) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    auto bandwidth = toxic(ToxicSpec::Kind::bandwidth);
    bandwidth.rate = 20000;   // bytes per second
    proxy.add_toxic(bandwidth);
    Client client(proxy.port());
    const std::string data = bytes(10000);
    const auto sent = Clock::now();
    ASSERT_TRUE(client.send(data));
    EXPECT_EQ(client.read_exact(data.size()), data);
    EXPECT_GE(Clock::now() - sent, 500ms);   // 10000 bytes at 20000 bytes/s
}

TEST_F(ToxicsTest, BlackholeDropsBytesButKeepsTheConnection) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("hello"));
    ASSERT_EQ(client.read_exact(5), "hello");

    const uint64_t id = proxy.add_toxic(toxic(ToxicSpec::Kind::blackhole, ToxicSpec::Direction::upstream));
    ASSERT_TRUE(client.send("lost"));
    ASSERT_TRUE(wait_until([&] { return proxy.connections().at(0).bytes_up == 9; }));   // read, counted...
    EXPECT_FALSE(client.readable_within(200ms));                                         // ...and dropped

    proxy.remove_toxic(id);
    ASSERT_TRUE(client.send("found"));
    EXPECT_EQ(client.read_exact(5), "found");
    EXPECT_FALSE(proxy.connections().at(0).closed_ns.has_value());
}

TEST_F(ToxicsTest, LimitDataClosesAfterTheLimit) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    auto limit = toxic(ToxicSpec::Kind::limit_data);
    limit.bytes = 10;
    proxy.add_toxic(limit);
    Client client(proxy.port());
    const std::string data = bytes(25);
    ASSERT_TRUE(client.send(data));
    const auto rest = client.read_to_end();
    EXPECT_NE(rest.end, Client::End::timeout);
    EXPECT_EQ(rest.data, data.substr(0, 10));
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::proxy);
    EXPECT_EQ(record.close_detail, "toxic limit_data");
}

TEST_F(ToxicsTest, LimitDataCountsAcrossChunks) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    auto limit = toxic(ToxicSpec::Kind::limit_data, ToxicSpec::Direction::upstream);
    limit.bytes = 6;
    proxy.add_toxic(limit);
    Client client(proxy.port());
    ASSERT_TRUE(client.send("abcd"));
    ASSERT_EQ(client.read_exact(4), "abcd");
    ASSERT_TRUE(client.send("efgh"));
    const auto rest = client.read_to_end();
    EXPECT_NE(rest.end, Client::End::timeout);
    // The proxy closes right after passing "ef" on; the echo of it may or may not come back first.
    EXPECT_TRUE(rest.data == "" || rest.data == "ef") << rest.data;
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::proxy);
    EXPECT_EQ(record.close_detail, "toxic limit_data");
    EXPECT_EQ(record.bytes_up, 8u);   // all read from the target, only 6 passed on
}

TEST_F(ToxicsTest, ResetPeerWithoutTimeoutResetsOpenConnections) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    proxy.add_toxic(toxic(ToxicSpec::Kind::reset_peer));
    EXPECT_EQ(client.read_to_end().end, Client::End::reset);
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::proxy);
    EXPECT_EQ(record.close_detail, "toxic reset_peer");
}

TEST_F(ToxicsTest, ResetPeerWaitsForTheConnectionsAge) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    auto reset = toxic(ToxicSpec::Kind::reset_peer);
    reset.timeout = 400ms;
    proxy.add_toxic(reset);
    const auto connected = Clock::now();
    Client client(proxy.port());
    EXPECT_EQ(client.read_to_end().end, Client::End::reset);
    EXPECT_GE(Clock::now() - connected, 400ms);
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.close_detail, "toxic reset_peer");
    EXPECT_GE(*record.closed_ns - record.opened_ns, std::chrono::nanoseconds(400ms).count());
}

TEST_F(ToxicsTest, SlowCloseHoldsBackTheClose) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    auto slow = toxic(ToxicSpec::Kind::slow_close);
    slow.delay = 300ms;
    proxy.add_toxic(slow);
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    const auto closed = Clock::now();
    echo.close_all();
    EXPECT_EQ(client.read_to_end().end, Client::End::eof);
    EXPECT_GE(Clock::now() - closed, 300ms);
    // The close is recorded when the proxy saw it, not when it passed it on.
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::dependency);
}

TEST_F(ToxicsTest, BulkTransferThroughAToxicKeepsEveryByte) {
    // Answers come faster than the bandwidth toxic lets them through, so more than the 1 MiB a
    // direction may queue piles up and reading pauses and resumes; latency shapes the other way.
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    auto bandwidth = toxic(ToxicSpec::Kind::bandwidth);
    bandwidth.rate = 8 * 1024 * 1024;
    proxy.add_toxic(bandwidth);
    auto latency = toxic(ToxicSpec::Kind::latency, ToxicSpec::Direction::upstream);
    latency.latency = 1ms;
    proxy.add_toxic(latency);
    Client client(proxy.port());
    const auto started = Clock::now();
    std::string data(3 * 1024 * 1024, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
    std::optional<std::string> back;
    std::thread reader([&] { back = client.read_exact(data.size(), 60s); });
    const bool sent = client.send(data);
    reader.join();
    ASSERT_TRUE(sent);
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(*back == data);
    EXPECT_GE(Clock::now() - started, 375ms);   // 3 MiB at 8 MiB/s
    const auto record = proxy.connections().at(0);
    EXPECT_EQ(record.bytes_up, data.size());
    EXPECT_EQ(record.bytes_down, data.size());
}

}  // namespace
