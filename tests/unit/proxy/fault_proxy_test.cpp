// The fault proxy without toxics, against real sockets: relaying, byte counts, and who closed
// each connection first.
#include "proxy/fault_proxy.h"

#include "proxy_test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

using namespace draincheck;
using namespace proxy_test;

namespace {

std::string pattern(size_t size, unsigned seed) {
    std::string s(size, '\0');
    for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 8)) & 0xff);
    return s;
}

std::string own_comm() {
    std::ifstream in("/proc/self/comm");
    std::string name;
    std::getline(in, name);
    return name;
}

class FaultProxyTest : public ::testing::Test {
protected:
    RunClock clock;
    EchoServer echo;
};

TEST_F(FaultProxyTest, RelaysBothWaysAndCountsBytes) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    // 1 MiB in 16 KiB round trips: more than one read buffer each way.
    std::string sent, received;
    for (unsigned i = 0; i < 64; ++i) {
        const std::string chunk = pattern(16 * 1024, i);
        ASSERT_TRUE(client.send(chunk));
        const auto back = client.read_exact(chunk.size());
        ASSERT_TRUE(back.has_value()) << "round " << i;
        sent += chunk;
        received += *back;
    }
    EXPECT_EQ(received, sent);

    client.shutdown_write();
    const auto rest = client.read_to_end();
    EXPECT_EQ(rest.end, Client::End::eof);
    EXPECT_EQ(rest.data, "");

    const auto record = closed_record(proxy);
    EXPECT_EQ(record.id, 1u);
    EXPECT_EQ(record.bytes_up, sent.size());
    EXPECT_EQ(record.bytes_down, sent.size());
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::target);
    EXPECT_EQ(record.close_detail, "EOF");
    EXPECT_GE(*record.closed_ns, record.opened_ns);
    EXPECT_FALSE(record.owner_pid.has_value());   // no owner group given
    EXPECT_FALSE(record.owner_exiting_at_close);
}

TEST_F(FaultProxyTest, HalfCloseStillDeliversTheAnswer) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    const std::string request = pattern(20000, 3);
    ASSERT_TRUE(client.send(request));
    client.shutdown_write();   // before any answer has come back
    const auto rest = client.read_to_end();
    EXPECT_EQ(rest.end, Client::End::eof);
    EXPECT_EQ(rest.data, request);
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::target);
    EXPECT_EQ(record.bytes_down, request.size());
}

TEST_F(FaultProxyTest, ConnectionsAreNumberedInAcceptOrder) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<Client>(proxy.port()));
        ASSERT_TRUE(clients.back()->send("x"));
        ASSERT_EQ(clients.back()->read_exact(1), "x");
    }
    const auto all = proxy.connections();
    ASSERT_EQ(all.size(), 3u);
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].id, i + 1);
        EXPECT_FALSE(all[i].closed_ns.has_value());
        EXPECT_EQ(all[i].bytes_up, 1u);
    }
    EXPECT_LE(all[0].opened_ns, all[1].opened_ns);
    EXPECT_LE(all[1].opened_ns, all[2].opened_ns);
}

TEST_F(FaultProxyTest, ManyConnectionsAtOnce) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 40; ++i) clients.push_back(std::make_unique<Client>(proxy.port()));
    for (size_t i = 0; i < clients.size(); ++i) ASSERT_TRUE(clients[i]->send(pattern(1000, static_cast<unsigned>(i))));
    for (size_t i = 0; i < clients.size(); ++i) {
        EXPECT_EQ(clients[i]->read_exact(1000), pattern(1000, static_cast<unsigned>(i))) << "client " << i;
    }
    EXPECT_EQ(proxy.connections().size(), clients.size());
}

TEST_F(FaultProxyTest, DependencyClosingFirstIsRecorded) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    echo.close_all();
    const auto rest = client.read_to_end();
    EXPECT_EQ(rest.end, Client::End::eof);
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::dependency);
    EXPECT_EQ(record.close_detail, "EOF");
    EXPECT_EQ(record.bytes_up, 4u);
    EXPECT_EQ(record.bytes_down, 4u);
}

TEST_F(FaultProxyTest, TargetResetIsRecorded) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    client.reset();
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::target);
    EXPECT_EQ(record.close_detail, "connection reset");
}

TEST_F(FaultProxyTest, UpstreamRefusedClosesTheTargetAtOnce) {
    FaultProxy proxy(clock, options_for(closed_port()));
    proxy.start();
    Client client(proxy.port());
    const auto rest = client.read_to_end();
    EXPECT_NE(rest.end, Client::End::timeout);
    EXPECT_EQ(rest.data, "");
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::dependency);
    EXPECT_EQ(record.close_detail, "upstream refused");
}

TEST_F(FaultProxyTest, ResetAllSendsAnRstToTheTarget) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    proxy.reset_all("dependency killed");
    const auto rest = client.read_to_end();
    EXPECT_EQ(rest.end, Client::End::reset);
    const auto record = closed_record(proxy);
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::dependency);
    EXPECT_EQ(record.close_detail, "dependency killed");

    // The proxy keeps accepting afterwards.
    Client again(proxy.port());
    ASSERT_TRUE(again.send("pong"));
    EXPECT_EQ(again.read_exact(4), "pong");
}

TEST_F(FaultProxyTest, OnlyTheFirstCloseIsRecorded) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    echo.close_all();
    ASSERT_EQ(client.read_to_end().end, Client::End::eof);
    const auto first = closed_record(proxy);
    proxy.reset_all("too late");
    proxy.stop();
    const auto after = proxy.connections().at(0);
    EXPECT_EQ(after.closed_by, ProxyConnection::Closer::dependency);
    EXPECT_EQ(after.close_detail, "EOF");
    EXPECT_EQ(after.closed_ns, first.closed_ns);
}

TEST_F(FaultProxyTest, StopRecordsEndOfRunAndIsIdempotent) {
    FaultProxy proxy(clock, options_for(echo.port()));
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    proxy.stop();
    const auto all = proxy.connections();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].closed_by, ProxyConnection::Closer::end_of_run);
    EXPECT_TRUE(all[0].closed_ns.has_value());
    EXPECT_NE(client.read_to_end().end, Client::End::timeout);
    proxy.stop();
    EXPECT_EQ(proxy.connections().size(), 1u);
}

TEST_F(FaultProxyTest, StopWithoutStart) {
    FaultProxy proxy(clock, options_for(echo.port()));
    EXPECT_NE(proxy.port(), 0);
    proxy.stop();
    EXPECT_TRUE(proxy.connections().empty());
}

TEST_F(FaultProxyTest, BindingATakenPortThrows) {
    FaultProxy first(clock, options_for(echo.port()));
    auto options = options_for(echo.port());
    options.listen_port = first.port();
    EXPECT_THROW(FaultProxy(clock, options), std::system_error);
}

TEST_F(FaultProxyTest, OwnerLookupFindsThisProcess) {
    auto options = options_for(echo.port());
    options.owner_group = getpgrp();
    options.find_owners = true;
    FaultProxy proxy(clock, options);
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    client.shutdown_write();
    ASSERT_EQ(client.read_to_end().end, Client::End::eof);
    const auto record = closed_record(proxy);
    ASSERT_TRUE(record.owner_pid.has_value());
    EXPECT_EQ(*record.owner_pid, getpid());
    EXPECT_EQ(record.owner_name, own_comm());
    EXPECT_EQ(record.closed_by, ProxyConnection::Closer::target);
    EXPECT_FALSE(record.owner_exiting_at_close);   // this process is alive and well
}

TEST_F(FaultProxyTest, OwnerGroupCanBeSetAfterConstruction) {
    auto options = options_for(echo.port());
    options.find_owners = true;
    FaultProxy proxy(clock, options);
    proxy.start();
    {
        Client gone(proxy.port());   // closed before the group is known: its owner stays unknown
        ASSERT_TRUE(gone.send("a"));
        ASSERT_EQ(gone.read_exact(1), "a");
        gone.shutdown_write();
        ASSERT_EQ(gone.read_to_end().end, Client::End::eof);
    }
    Client early(proxy.port());      // open when the group becomes known: found then
    ASSERT_TRUE(early.send("b"));
    ASSERT_EQ(early.read_exact(1), "b");
    proxy.set_owner_group(getpgrp());
    // The lookup is retried on the proxy thread; wait for it (bounded), as a caller would.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!proxy.connections().at(1).owner_pid && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    Client after(proxy.port());
    ASSERT_TRUE(after.send("c"));
    ASSERT_EQ(after.read_exact(1), "c");
    const auto all = proxy.connections();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_FALSE(all[0].owner_pid.has_value());
    EXPECT_EQ(all[1].owner_pid, getpid());
    EXPECT_EQ(all[2].owner_pid, getpid());
}

TEST_F(FaultProxyTest, OwnerLookupIgnoresOtherGroups) {
    if (getpgrp() == 1) GTEST_SKIP() << "running in process group 1";
    auto options = options_for(echo.port());
    options.owner_group = 1;
    options.find_owners = true;
    FaultProxy proxy(clock, options);
    proxy.start();
    Client client(proxy.port());
    ASSERT_TRUE(client.send("ping"));
    ASSERT_EQ(client.read_exact(4), "ping");
    EXPECT_FALSE(proxy.connections().at(0).owner_pid.has_value());
}

}  // namespace
