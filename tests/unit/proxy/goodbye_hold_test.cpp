// The goodbye hold: when the target's side of a connection closes while its process is exiting, the
// proxy holds that close back from the dependency for FaultProxy::kGoodbyeHold. A dependency that
// closes by itself inside the hold was told goodbye (Redis after QUIT); one that closes only once the
// proxy passed the close on, or after draincheck began to act on it, was not. Both sides of the edge,
// with a real process that exits holding its connection.
#include "proxy/fault_proxy.h"

#include "proxy_test_support.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

using namespace draincheck;
using namespace proxy_test;

namespace {

// A process of its own group that connects to `port`, says "QUIT", and exits -- leaving the socket to
// the kernel -- when told to.
class ExitingClient {
public:
    explicit ExitingClient(uint16_t port) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::close(fds[1]);
            int s = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(port);
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(s, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ::_exit(2);
            if (::write(s, "QUIT\r\n", 6) != 6) ::_exit(3);
            char c;
            while (::read(fds[0], &c, 1) > 0) {}   // until told to exit
            ::_exit(0);                             // the socket is still open: the kernel closes it
        }
        ::setpgid(pid_, pid_);   // as the child does: whichever runs first
        ::close(fds[0]);
        exit_pipe_ = fds[1];
    }
    ~ExitingClient() {
        if (exit_pipe_ >= 0) exit_now();
    }
    pid_t pid() const { return pid_; }
    void exit_now() {
        ::close(exit_pipe_);
        exit_pipe_ = -1;
        int status;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
    }

private:
    pid_t pid_ = -1;
    int exit_pipe_ = -1;
};

template <typename Pred>
bool wait_until(Pred done) {
    auto deadline = Clock::now() + 10s;
    while (!done() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    return done();
}

class GoodbyeHold : public ::testing::Test {
protected:
    GoodbyeHold() : proxy(clock, options()) { proxy.start(); }

    FaultProxy::Options options() {
        FaultProxy::Options o;
        o.upstream_port = echo.port();
        o.find_owners = true;
        return o;
    }

    // The client's connection once the proxy knows its owner and relayed its QUIT; then the client
    // exits, and this returns once the proxy has seen its side close (as an exiting process's).
    ProxyConnection exit_after_quit(ExitingClient& client) {
        proxy.set_owner_group(client.pid());
        EXPECT_TRUE(wait_until([&] {
            auto all = proxy.connections();
            return all.size() == 1 && all[0].owner_pid == client.pid() && all[0].bytes_up == 6;
        }));
        client.exit_now();
        EXPECT_TRUE(wait_until([&] { return proxy.connections().at(0).closed_ns.has_value(); }));
        return proxy.connections().at(0);
    }

    RunClock clock;
    EchoServer echo;
    FaultProxy proxy;
};

}  // namespace

TEST_F(GoodbyeHold, ADependencyClosingInsideTheHoldAnsweredAGoodbye) {
    ExitingClient client(proxy.port());
    ProxyConnection c = exit_after_quit(client);
    ASSERT_EQ(c.closed_by, ProxyConnection::Closer::target);
    EXPECT_TRUE(c.owner_exiting_at_close);
    echo.close_all();   // inside the 100 ms hold: the proxy has not passed the close on yet
    ASSERT_TRUE(wait_until([&] { return proxy.connections().at(0).dependency_closed_by_itself; }));
    EXPECT_EQ(echo.ends_seen(), 0) << "the close reached the dependency before the hold ran out";
}

TEST_F(GoodbyeHold, ADependencyClosingOnlyOnceTheCloseIsPassedOnWasNotToldGoodbye) {
    ExitingClient client(proxy.port());
    ProxyConnection c = exit_after_quit(client);
    ASSERT_EQ(c.closed_by, ProxyConnection::Closer::target);
    // The echo server closes only when it sees the proxy pass the target's close on: after the hold.
    ASSERT_TRUE(wait_until([&] { return echo.ends_seen() == 1; }));
    proxy.stop();   // every handler has run: the dependency's close has been seen too
    EXPECT_FALSE(proxy.connections().at(0).dependency_closed_by_itself);
}

TEST_F(GoodbyeHold, NothingAfterDraincheckActsOnTheDependencyIsAGoodbye) {
    ExitingClient client(proxy.port());
    exit_after_quit(client);
    proxy.harness_acts_on_dependency();   // e.g. draincheck sends the dependency its stop signal
    echo.close_all();                     // still inside the hold
    proxy.stop();
    EXPECT_FALSE(proxy.connections().at(0).dependency_closed_by_itself);
    EXPECT_EQ(echo.ends_seen(), 0);
}
