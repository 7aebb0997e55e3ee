// A supervisor may be destroyed at any moment — with its exit wait, output reads and grace timer
// still queued, or from inside one of its own callbacks — and the loop then goes on: no handler may
// touch freed memory (run under AddressSanitizer in CI) and none of its callbacks may run again.
#include "supervisor/supervisor.h"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <memory>

using namespace draincheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// What a supervisor called back, counted after its destruction too.
struct Callbacks {
    int exits = 0, lines = 0, logs_closed = 0, forced = 0;
    int lines_at_destruction = -1;
};

struct Fixture {
    asio::io_context io;
    RunClock clock;
    Callbacks seen;
    std::unique_ptr<Supervisor> sup;
    pid_t pid = 0;

    explicit Fixture(std::vector<std::string> argv) {
        LaunchSpec spec;
        spec.argv = std::move(argv);
        spec.on_line = [this](const LogLine&) { ++seen.lines; };
        sup = std::make_unique<Supervisor>(io, clock, spec);
    }

    void start(std::function<void()> on_exit_extra = nullptr) {
        sup->start([this, on_exit_extra](const ExitInfo&) {
            ++seen.exits;
            if (on_exit_extra) on_exit_extra();
        });
        pid = sup->pid();
    }

    void destroy() {
        seen.lines_at_destruction = seen.lines;
        sup.reset();
    }

    // Runs until nothing is left to do: every handler the destroyed supervisor left queued has
    // completed. True if the loop ran dry (rather than hitting the safety limit).
    bool run_dry() {
        io.restart();
        io.run_for(20s);
        return io.stopped();
    }

    // Runs one handler at a time until `done`, bounded.
    template <typename Pred>
    bool run_until(Pred done) {
        auto limit = std::chrono::steady_clock::now() + 20s;
        while (!done() && std::chrono::steady_clock::now() < limit) io.run_one_for(100ms);
        return done();
    }
};

bool process_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

TEST(SupervisorLifetime, DestroyedWhileTheExitWaitAndReadsArePending) {
    Fixture f({"/bin/sh", "-c", "echo started; exec sleep 30"});
    f.start();
    f.sup->on_logs_closed([&] { ++f.seen.logs_closed; });
    ASSERT_TRUE(f.run_until([&] { return f.seen.lines == 1; }));
    f.destroy();
    EXPECT_TRUE(process_gone(f.pid));   // killed and reaped by the destructor
    EXPECT_TRUE(f.run_dry());
    EXPECT_EQ(f.seen.exits, 0);
    EXPECT_EQ(f.seen.logs_closed, 0);
    EXPECT_EQ(f.seen.lines, 1);
}

TEST(SupervisorLifetime, DestroyedWithItsGraceTimerArmed) {
    Fixture f({"/bin/sh", "-c", "trap '' TERM; echo started; while :; do sleep 1; done"});
    f.start();
    ASSERT_TRUE(f.run_until([&] { return f.seen.lines == 1; }));
    f.sup->send_signal(SIGTERM);
    f.sup->kill_after(10ms, [&](int64_t) { ++f.seen.forced; });
    f.destroy();
    EXPECT_TRUE(f.run_dry());
    EXPECT_EQ(f.seen.forced, 0);
    EXPECT_EQ(f.seen.exits, 0);
    EXPECT_TRUE(process_gone(f.pid));
}

// The path of a dependency's ready command that fails: the owner lets go of the supervisor as soon
// as it hears of the exit, while the reads of its output are still queued.
TEST(SupervisorLifetime, DestroyedFromInsideItsOwnExitCallback) {
    Fixture f({"/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo line $i; done; exit 3"});
    f.start([&] { f.destroy(); });
    EXPECT_TRUE(f.run_dry());
    EXPECT_EQ(f.seen.exits, 1);
    EXPECT_EQ(f.seen.lines, f.seen.lines_at_destruction);   // nothing forwarded after it was gone
    EXPECT_EQ(f.sup, nullptr);
}

TEST(SupervisorLifetime, DestroyedFromInsideItsLogsClosedCallback) {
    Fixture f({"/bin/sh", "-c", "echo one; echo two >&2"});
    f.start();
    f.sup->on_logs_closed([&] {
        ++f.seen.logs_closed;
        f.destroy();
    });
    EXPECT_TRUE(f.run_dry());
    EXPECT_EQ(f.seen.logs_closed, 1);
    EXPECT_EQ(f.seen.lines, 2);
    EXPECT_LE(f.seen.exits, 1);   // the exit may have been heard before the logs closed, or not
}

// Much output still unread when the process has exited: the reads are cancelled mid-stream.
TEST(SupervisorLifetime, DestroyedWithOutputStillUnread) {
    Fixture f({"/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done"});
    f.start();
    ASSERT_TRUE(f.run_until([&] { return f.seen.lines > 0; }));
    f.destroy();
    EXPECT_TRUE(f.run_dry());
    EXPECT_EQ(f.seen.lines, f.seen.lines_at_destruction);
    EXPECT_EQ(f.seen.exits, 0);
    EXPECT_TRUE(process_gone(f.pid));
}

// The same, at every moment a loop step can land on: destroyed after 0, 1, 2, ... handlers ran.
TEST(SupervisorLifetime, DestroyedAfterAnyNumberOfHandlers) {
    for (int steps = 0; steps < 40; ++steps) {
        Fixture f({"/bin/sh", "-c", "echo out; echo err >&2; exit 1"});
        f.start();
        for (int i = 0; i < steps && f.seen.exits == 0; ++i) f.io.run_one_for(1s);
        int exits = f.seen.exits;
        f.destroy();
        EXPECT_TRUE(f.run_dry()) << "after " << steps << " steps";
        EXPECT_EQ(f.seen.exits, exits) << "after " << steps << " steps";
        EXPECT_EQ(f.seen.lines, f.seen.lines_at_destruction) << "after " << steps << " steps";
        EXPECT_TRUE(process_gone(f.pid));
    }
}
