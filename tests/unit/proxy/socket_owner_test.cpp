// Finding a socket's owning process in /proc, and telling whether a process is exiting.
#include "proxy/socket_owner.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

using namespace draincheck;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string own_comm() {
    std::ifstream in("/proc/self/comm");
    std::string name;
    std::getline(in, name);
    return name;
}

TEST(ProcNetEndpoint, ParsesIpv4) {
    const auto e = parse_proc_net_endpoint("0100007F:1F90");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->address(), asio::ip::make_address("127.0.0.1"));
    EXPECT_EQ(e->port(), 8080);
}

TEST(ProcNetEndpoint, ParsesIpv6) {
    const auto loopback = parse_proc_net_endpoint("00000000000000000000000001000000:0050");
    ASSERT_TRUE(loopback.has_value());
    EXPECT_EQ(loopback->address(), asio::ip::make_address("::1"));
    EXPECT_EQ(loopback->port(), 80);
    const auto mapped = parse_proc_net_endpoint("0000000000000000FFFF00000100007F:01BB");
    ASSERT_TRUE(mapped.has_value());
    EXPECT_EQ(mapped->address(), asio::ip::make_address("::ffff:127.0.0.1"));
    EXPECT_EQ(mapped->port(), 443);
}

TEST(ProcNetEndpoint, RejectsGarbage) {
    EXPECT_FALSE(parse_proc_net_endpoint(""));
    EXPECT_FALSE(parse_proc_net_endpoint("0100007F"));
    EXPECT_FALSE(parse_proc_net_endpoint("0100007G:1F90"));
    EXPECT_FALSE(parse_proc_net_endpoint("0100007F:1F90A"));
    EXPECT_FALSE(parse_proc_net_endpoint("00007F:1F90"));
}

// A connection within this process: `client` connected to `accepted`.
struct LoopbackPair {
    explicit LoopbackPair(const char* address)
        : acceptor(io, tcp::endpoint(asio::ip::make_address(address), 0)), client(io), accepted(io) {
        client.connect(acceptor.local_endpoint());
        acceptor.accept(accepted);
    }
    asio::io_context io;
    tcp::acceptor acceptor;
    tcp::socket client;
    tcp::socket accepted;
};

TEST(SocketOwner, FindsThisProcessAsTheOwnerOfItsClientSocket) {
    LoopbackPair pair("127.0.0.1");
    const auto owner = find_peer_owner(pair.accepted.local_endpoint(), pair.accepted.remote_endpoint(), getpgrp());
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(owner->pid, getpid());
    EXPECT_EQ(owner->name, own_comm());
}

TEST(SocketOwner, FindsTheClientSocketsInodeNotTheAcceptedOnes) {
    LoopbackPair pair("127.0.0.1");
    const auto client_inode = tcp_socket_inode(pair.client.local_endpoint(), pair.client.remote_endpoint());
    const auto accepted_inode = tcp_socket_inode(pair.accepted.local_endpoint(), pair.accepted.remote_endpoint());
    ASSERT_TRUE(client_inode.has_value());
    ASSERT_TRUE(accepted_inode.has_value());
    EXPECT_NE(*client_inode, *accepted_inode);
    const std::string link = "socket:[" + std::to_string(*client_inode) + "]";
    char target[64] = {};
    const std::string fd_path = "/proc/self/fd/" + std::to_string(pair.client.native_handle());
    ASSERT_GT(readlink(fd_path.c_str(), target, sizeof target - 1), 0);
    EXPECT_EQ(link, target);
}

TEST(SocketOwner, FindsIpv6LoopbackConnections) {
    std::unique_ptr<LoopbackPair> pair;
    try {
        pair = std::make_unique<LoopbackPair>("::1");
    } catch (const std::exception& e) {
        GTEST_SKIP() << "no IPv6 loopback: " << e.what();
    }
    const auto owner = find_peer_owner(pair->accepted.local_endpoint(), pair->accepted.remote_endpoint(), getpgrp());
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(owner->pid, getpid());
}

TEST(SocketOwner, LooksOnlyInTheGivenProcessGroup) {
    if (getpgrp() == 1) GTEST_SKIP() << "running in process group 1";
    LoopbackPair pair("127.0.0.1");
    EXPECT_FALSE(find_peer_owner(pair.accepted.local_endpoint(), pair.accepted.remote_endpoint(), 1).has_value());
}

TEST(SocketOwner, NoSocketNoOwner) {
    const tcp::endpoint nowhere(asio::ip::make_address("127.0.0.1"), 1);
    EXPECT_FALSE(tcp_socket_inode(nowhere, nowhere).has_value());
}

TEST(ProcessGroup, IsThisProcesssGroup) { EXPECT_EQ(process_group(getpid()), getpgrp()); }

TEST(ProcessExiting, FalseForThisProcess) { EXPECT_FALSE(process_exiting(getpid())); }

TEST(ProcessExiting, TrueForAZombie) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(0);
    // Wait for the exit without reaping, so the child stays a zombie.
    siginfo_t info{};
    ASSERT_EQ(waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
    EXPECT_TRUE(process_exiting(child));
    ASSERT_EQ(waitpid(child, nullptr, 0), child);
}

TEST(ProcessExiting, TrueForAReapedChild) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(0);
    ASSERT_EQ(waitpid(child, nullptr, 0), child);
    EXPECT_TRUE(process_exiting(child));
}

}  // namespace
