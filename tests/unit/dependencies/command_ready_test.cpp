// A dependency's ready command, run for real: it is retried until it exits 0, and the way it ends
// — success, failure, the deadline, a cancel — may destroy its supervisor from inside the
// supervisor's own callbacks. Under AddressSanitizer (CI) these tests fail on any use after free.
#include "dependencies/command_ready.h"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <optional>

using namespace draincheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

LaunchSpec shell(const std::string& script) {
    LaunchSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    return spec;
}

struct Outcome {
    bool ready = false;
    std::string last;
};

// Runs the wait until the loop has nothing left to do: every handler queued by the command's
// supervisors has completed. `ran_dry` is false if the safety limit was hit instead.
std::optional<Outcome> wait_for(const std::string& script, std::chrono::milliseconds timeout,
                                std::chrono::milliseconds interval, bool* ran_dry = nullptr) {
    asio::io_context io;
    RunClock clock;
    std::optional<Outcome> outcome;
    async_wait_command_ready(io, clock, shell(script), timeout, interval,
                             [&](bool ready, std::string last) { outcome = Outcome{ready, std::move(last)}; });
    io.run_for(30s);
    if (ran_dry) *ran_dry = io.stopped();
    return outcome;
}

}  // namespace

TEST(CommandReady, ExitZeroIsReady) {
    auto o = wait_for("exit 0", 10s, 10ms);
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->ready);
    EXPECT_EQ(o->last, "exit 0");
}

TEST(CommandReady, FailureSaysHowTheLastAttemptEndedWithItsLastLine) {
    // Attempts 1 s apart within 2.5 s: the last one ends long before the deadline, even on a loaded machine.
    auto o = wait_for("echo first >&2; echo 'Could not connect' >&2; exit 3", 2500ms, 1s);
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->ready);
    EXPECT_EQ(o->last, "exit 3: Could not connect");
}

TEST(CommandReady, RetriedUntilItSucceeds) {
    std::string flag = ::testing::TempDir() + "command_ready_" + std::to_string(::getpid());
    std::remove(flag.c_str());
    // Fails twice, then succeeds.
    auto o = wait_for("n=$(cat " + flag + " 2>/dev/null || echo 0); echo $((n+1)) > " + flag + "; [ $n -ge 2 ]", 20s, 5ms);
    std::remove(flag.c_str());
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->ready);
}

TEST(CommandReady, ACommandThatHangsIsKilledAtTheDeadline) {
    bool ran_dry = false;
    auto o = wait_for("exec sleep 30", 50ms, 10ms, &ran_dry);
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->ready);
    EXPECT_EQ(o->last, "the command did not finish");
    EXPECT_TRUE(ran_dry);   // nothing of the killed command is left waiting
}

// The failure path again and again, ending at every kind of moment: inside the exit callback
// (the deadline already passed), from the deadline timer while a command runs, or cancelled at
// once. 200 rounds, clean under AddressSanitizer.
TEST(CommandReady, FailurePathStress) {
    for (int round = 0; round < 200; ++round) {
        asio::io_context io;
        RunClock clock;
        int calls = 0;
        auto timeout = std::chrono::milliseconds(round % 3 == 0 ? 0 : round % 7);
        auto cancel = async_wait_command_ready(io, clock, shell(round % 2 ? "exit 1" : "echo no; exit 2"), timeout, 1ms,
                                               [&](bool ready, std::string) {
                                                   ++calls;
                                                   EXPECT_FALSE(ready);
                                               });
        if (round % 5 == 0) cancel();
        io.run_for(30s);
        ASSERT_TRUE(io.stopped()) << "round " << round << ": handlers still pending";
        EXPECT_EQ(calls, round % 5 == 0 ? 0 : 1) << "round " << round;
    }
}
