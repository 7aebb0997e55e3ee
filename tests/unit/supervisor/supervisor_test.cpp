// The supervisor against real processes.
#include "supervisor/supervisor.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

using namespace draincheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Runs a target to its exit (or fails the test after a generous safety limit).
struct Harness {
    asio::io_context io;
    RunClock clock;
    std::optional<ExitInfo> exit;
    std::unique_ptr<Supervisor> sup;

    explicit Harness(std::vector<std::string> argv, std::map<std::string, std::string> env = {}) {
        LaunchSpec spec;
        spec.argv = std::move(argv);
        spec.env = std::move(env);
        sup = std::make_unique<Supervisor>(io, clock, spec);
    }
    void start() { sup->start([this](const ExitInfo& e) { exit = e; }); }
    // Runs the loop until the target exited and its output was read to the end.
    void run_to_exit() {
        asio::steady_timer safety(io, 20s);
        safety.async_wait([this](boost::system::error_code ec) { if (!ec) io.stop(); });
        bool logs_closed = false;
        sup->on_logs_closed([&] { logs_closed = true; });
        while (!(exit && logs_closed) && !io.stopped()) io.run_one();
        ASSERT_TRUE(exit.has_value()) << "target did not exit";
    }
};

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Processes in process group `pgid` (from /proc/<pid>/stat, field 5).
int processes_in_group(pid_t pgid) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        std::string stat = read_file(e.path().string() + "/stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        std::string state;
        int ppid, group;
        rest >> state >> ppid >> group;
        if (group == pgid && state != "Z") ++n;
    }
    return n;
}

// SIGKILL is delivered asynchronously: give the kernel a bounded moment to finish the kill. These
// processes are not our children, so there is no exit to wait on; the deadline only bounds a failure.
int survivors_in_group(pid_t pgid) {
    auto deadline = std::chrono::steady_clock::now() + 2s;
    int n;
    while ((n = processes_in_group(pgid)) > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    return n;
}

}  // namespace

TEST(Supervisor, ExitCodeAndBothStreams) {
    Harness h({"/bin/sh", "-c", "echo out; echo err >&2; printf partial; exit 3"});
    int64_t before = h.clock.now_ns();
    h.start();
    h.run_to_exit();
    EXPECT_EQ(h.exit->code, 3);
    EXPECT_FALSE(h.exit->signal.has_value());
    EXPECT_FALSE(h.exit->forced);
    EXPECT_GT(h.exit->at_ns, before);
    auto tail = h.sup->log_tail();
    ASSERT_EQ(tail.size(), 3u);
    std::multiset<std::pair<bool, std::string>> lines;
    for (const auto& l : tail) lines.insert({l.is_stderr, l.text});
    EXPECT_EQ(lines.count({false, "out"}), 1u);
    EXPECT_EQ(lines.count({true, "err"}), 1u);
    EXPECT_EQ(lines.count({false, "partial"}), 1u);   // a last line without newline is kept
    EXPECT_EQ(h.sup->log_lines_total(), 3u);
}

TEST(Supervisor, TerminatingSignalIsReported) {
    Harness h({"/bin/sleep", "30"});
    h.start();
    EXPECT_TRUE(h.sup->send_signal(SIGTERM));
    h.run_to_exit();
    EXPECT_EQ(h.exit->signal, SIGTERM);
    EXPECT_FALSE(h.exit->code.has_value());
    EXPECT_FALSE(h.sup->send_signal(SIGTERM));   // gone
}

TEST(Supervisor, GraceExpiresIntoAForcedKillOfTheGroup) {
    // The shell ignores TERM, and so does its child; both must go.
    Harness h({"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo started; wait"});
    h.start();
    std::optional<int64_t> forced_at;
    // Wait for the child to exist before signalling (its output says so).
    while (h.sup->log_lines_total() == 0) h.io.run_one();
    h.sup->send_signal(SIGTERM);
    h.sup->kill_after(200ms, [&](int64_t at) { forced_at = at; });
    h.run_to_exit();
    ASSERT_TRUE(forced_at.has_value());
    EXPECT_TRUE(h.exit->forced);
    EXPECT_EQ(h.exit->signal, SIGKILL);
    EXPECT_GE(h.exit->at_ns, *forced_at);
    EXPECT_EQ(survivors_in_group(h.sup->pid()), 0);
}

TEST(Supervisor, ChildrenLeftBehindAreKilledWithTheTarget) {
    Harness h({"/bin/sh", "-c", "sleep 100 & sleep 100 & echo spawned; exit 0"});
    h.start();
    h.run_to_exit();
    EXPECT_EQ(h.exit->code, 0);
    EXPECT_EQ(survivors_in_group(h.sup->pid()), 0);
}

TEST(Supervisor, MissingOrUnusableBinaries) {
    asio::io_context io;
    RunClock clock;
    auto launch = [&](std::vector<std::string> argv, std::string cwd = "") {
        LaunchSpec spec;
        spec.argv = std::move(argv);
        spec.cwd = std::move(cwd);
        Supervisor s(io, clock, spec);
        try {
            s.start([](const ExitInfo&) {});
        } catch (const LaunchError& e) {
            return std::optional(std::make_pair(e.kind, std::string(e.what())));
        }
        return std::optional<std::pair<LaunchError::Kind, std::string>>();
    };
    auto missing = launch({"draincheck-no-such-program"});
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->first, LaunchError::Kind::missing_binary);
    EXPECT_NE(missing->second.find("not in PATH"), std::string::npos);
    auto missing_path = launch({"./no/such/file"}, "/tmp");
    ASSERT_TRUE(missing_path);
    EXPECT_EQ(missing_path->first, LaunchError::Kind::missing_binary);
    auto plain_file = std::filesystem::temp_directory_path() / ("dc-not-exec-" + std::to_string(::getpid()));
    std::ofstream(plain_file) << "not a program\n";
    std::filesystem::permissions(plain_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto not_exec = launch({plain_file.string()});
    std::filesystem::remove(plain_file);
    ASSERT_TRUE(not_exec);
    EXPECT_EQ(not_exec->first, LaunchError::Kind::not_executable);
    auto bad_cwd = launch({"/bin/true"}, "/nonexistent/dir");
    ASSERT_TRUE(bad_cwd);
    EXPECT_EQ(bad_cwd->first, LaunchError::Kind::spawn_failed);
}

TEST(Supervisor, EnvironmentCarriesOverridesAndTheRunMarker) {
    Harness h({"/bin/sh", "-c", "echo \"$FOO $DRAINCHECK_RUN\""}, {{"FOO", "bar"}});
    h.start();
    h.run_to_exit();
    ASSERT_EQ(h.sup->log_tail().size(), 1u);
    EXPECT_EQ(h.sup->log_tail()[0].text, "bar " + std::to_string(::getpid()));
}

TEST(Supervisor, TargetStartsWithCleanSignalStateEvenIfTheHarnessIgnoresSigpipe) {
    auto previous = std::signal(SIGPIPE, SIG_IGN);
    Harness h({"/bin/sh", "-c", "grep -E '^(SigIgn|SigBlk)' /proc/self/status"});
    h.start();
    h.run_to_exit();
    std::signal(SIGPIPE, previous);
    auto tail = h.sup->log_tail();
    ASSERT_EQ(tail.size(), 2u);
    for (const auto& l : tail) EXPECT_NE(l.text.find("0000000000000000"), std::string::npos) << l.text;
}

TEST(Supervisor, LogCaptureIsBoundedAndCutsLongLines) {
    LaunchSpec spec;
    spec.argv = {"/bin/sh", "-c", "i=0; while [ $i -lt 1000 ]; do echo line$i; i=$((i+1)); done; head -c 10000 /dev/zero | tr '\\0' x; echo"};
    spec.log_tail_lines = 200;
    spec.log_line_max_bytes = 100;
    asio::io_context io;
    RunClock clock;
    Supervisor sup(io, clock, spec);
    bool exited = false, closed = false;
    sup.start([&](const ExitInfo&) { exited = true; });
    sup.on_logs_closed([&] { closed = true; });
    while (!(exited && closed)) io.run_one();
    auto tail = sup.log_tail();
    EXPECT_EQ(tail.size(), 200u);
    EXPECT_EQ(sup.log_lines_total(), 1001u);
    EXPECT_EQ(tail[198].text, "line999");
    EXPECT_EQ(tail.back().text.size(), 100u + std::string(" …[cut]").size());
    EXPECT_GT(sup.log_bytes_total(), 10000u);
}

TEST(Supervisor, DestructorLeavesNothingRunning) {
    pid_t pid;
    {
        Harness h({"/bin/sleep", "30"});
        h.start();
        pid = h.sup->pid();
        EXPECT_TRUE(h.sup->running());
    }
    EXPECT_EQ(survivors_in_group(pid), 0);
    EXPECT_NE(::kill(pid, 0), 0);
}
