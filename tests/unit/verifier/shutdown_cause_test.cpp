// Naming why a stop signal did not end the target cleanly, from process trees written by hand as the
// host's /proc shows them (signal masks as measured: node always catches SIGINT and SIGTERM for
// itself, dash catches SIGINT and SIGCHLD, npm retitles itself "npm start"). One test a rule and
// variant, the clean exit, and the cases no rule names.
#include "verifier/shutdown_cause.h"

#include <gtest/gtest.h>

#include <csignal>
#include <initializer_list>
#include <vector>

using namespace draincheck;

namespace {

constexpr int64_t kSignalNs = 2'000'000'000;
constexpr int64_t kMs = 1'000'000;

uint64_t mask(const std::vector<int>& signals) {
    uint64_t m = 0;
    for (int s : signals) m |= 1ull << (s - 1);
    return m;
}

struct Proc {
    pid_t pid, ppid;
    std::string comm;
    std::vector<std::string> argv;
    std::vector<int> caught = {};
    std::vector<int> ignored = {};
    pid_t ns_pid = 0;   // 0: not in a pid namespace of its own
};

ProcessInfo info(const Proc& p) {
    ProcessInfo i;
    i.pid = p.pid;
    i.ppid = p.ppid;
    i.comm = p.comm;
    i.argv = p.argv;
    i.caught = mask(p.caught);
    i.ignored = mask(p.ignored);
    i.ns_pid = p.ns_pid ? p.ns_pid : p.pid;
    return i;
}

std::vector<ProcessInfo> tree(std::initializer_list<Proc> procs) {
    std::vector<ProcessInfo> t;
    for (const Proc& p : procs) t.push_back(info(p));
    return t;
}

ExitInfo ended_after(int64_t after_ns) {
    ExitInfo e;
    e.exited = true;
    e.at_ns = kSignalNs + after_ns;
    return e;
}

ExitInfo exited_with(int code, int64_t after_ns) {
    ExitInfo e = ended_after(after_ns);
    e.code = code;
    return e;
}

ExitInfo died_of(int signo, int64_t after_ns) {
    ExitInfo e = ended_after(after_ns);
    e.signal = signo;
    return e;
}

ExitInfo killed_at(int64_t after_ns) {
    ExitInfo e = died_of(SIGKILL, after_ns);
    e.forced = true;
    return e;
}

StopFacts facts(bool in_container, std::vector<ProcessInfo> at_signal, ExitInfo exit,
                std::vector<ProcessInfo> alive_at_kill = {}) {
    StopFacts f;
    f.in_container = in_container;
    f.tree_at_signal = std::move(at_signal);
    f.alive_at_kill = std::move(alive_at_kill);
    f.exit = exit;
    f.signal_ns = kSignalNs;
    return f;
}

// Killed at the grace `after_ns` after the signal, with every process still running (and still
// catching and ignoring what it did at the signal).
StopFacts killed_with_all_alive(bool in_container, std::initializer_list<Proc> procs, int64_t after_ns) {
    auto at_signal = tree(procs);
    return facts(in_container, at_signal, killed_at(after_ns), at_signal);
}

// As measured: PID 1 of a container, host pid 1201.
const Proc kNodePid1{1201, 1100, "node", {"node", "/app/graceful.js"}, {SIGINT, SIGTERM, SIGUSR1}, {SIGPIPE}, 1};
const Proc kDashPid1{1201, 1100, "sh", {"/bin/sh", "-c", "node /app/graceful.js"}, {SIGINT, SIGCHLD}, {}, 1};
const Proc kNodeUnderPid1{1207, 1201, "node", {"node", "/app/graceful.js"}, {SIGINT, SIGTERM, SIGUSR1}, {SIGPIPE}, 7};
const Proc kDockerInit{1201, 1100, "docker-init", {"/sbin/docker-init", "--", "node", "/app/graceful.js"}, {}, {}, 1};

}  // namespace

TEST(ShutdownCause, ACleanExitHasNone) {
    auto f = facts(true, tree({kDashPid1, kNodeUnderPid1}), exited_with(0, 300 * kMs));
    EXPECT_EQ(shutdown_cause(f), std::nullopt);
}

TEST(ShutdownCause, ShellFormPid1DoesNotPassTheSignalOn) {
    auto f = killed_with_all_alive(true, {kDashPid1, kNodeUnderPid1}, 5'000 * kMs);
    EXPECT_EQ(shutdown_cause(f),
              "PID 1 is `/bin/sh -c node /app/graceful.js` (shell-form CMD): it does not pass SIGTERM on; node (pid 7, host "
              "pid 1207) handles SIGTERM but was still running when it was killed 5.00 s later — use the exec form (CMD "
              "[\"node\", …]) or `exec` in the script");
}

TEST(ShutdownCause, ShellFormUnderAnInitAndAChildWithoutHandler) {
    Proc sh = kDashPid1;
    sh.pid = 1207, sh.ppid = 1201, sh.ns_pid = 7;
    Proc python{1208, 1207, "python3", {"python3", "app.py"}, {}, {}, 8};
    auto f = facts(true, tree({kDockerInit, sh, python}), exited_with(143, 40 * kMs));
    EXPECT_EQ(shutdown_cause(f),
              "docker-init's child is `/bin/sh -c node /app/graceful.js` (shell-form CMD): it does not pass SIGTERM on; "
              "python3 (pid 8, host pid 1208) has no SIGTERM handler and never got it — use the exec form (CMD "
              "[\"python3\", …]) or `exec` in the script");
}

TEST(ShutdownCause, AShellThatTrapsTheSignalIsNotBlamedForShellForm) {
    Proc forwarding = kDashPid1;
    forwarding.caught = {SIGINT, SIGTERM, SIGCHLD};
    auto f = killed_with_all_alive(true, {forwarding, kNodeUnderPid1}, 5'000 * kMs);
    EXPECT_EQ(shutdown_cause(f),
              "sh (pid 1, host pid 1201) handles SIGTERM but was still running 5.00 s later, when it was killed — the drain "
              "outlasted the grace, or something kept the process from exiting after it");
}

TEST(ShutdownCause, ShellFormIsAContainerRule) {
    Proc sh{4000, 1, "sh", {"/bin/sh", "-c", "node app.js"}, {SIGINT, SIGCHLD}};
    Proc node{4001, 4000, "node", {"node", "app.js"}, {SIGINT, SIGTERM}};
    auto f = facts(false, tree({sh, node}), died_of(SIGTERM, 10 * kMs));
    EXPECT_EQ(shutdown_cause(f),
              "sh (pid 4000) has no SIGTERM handler: it died of the signal 0.01 s after it, without draining — add a "
              "handler that drains");
}

TEST(ShutdownCause, NpmPid1ExitsAndTheProgramGoesWithIt) {
    Proc npm{1201, 1100, "npm start", {"npm start"}, {SIGINT, SIGTERM, SIGUSR1, SIGCHLD}, {SIGPIPE}, 1};
    Proc sh{1207, 1201, "sh", {"sh", "-c", "node server.js"}, {SIGINT, SIGCHLD}, {}, 7};
    Proc node{1208, 1207, "node", {"node", "server.js"}, {SIGINT, SIGTERM, SIGUSR1}, {SIGPIPE}, 8};
    auto f = facts(true, tree({npm, sh, node}), exited_with(1, 600 * kMs));
    EXPECT_EQ(shutdown_cause(f),
              "PID 1 is npm: it exited 1 0.60 s after SIGTERM and node (pid 8, host pid 1208) was killed with it — run node "
              "directly (exec form: CMD [\"node\", …])");
}

TEST(ShutdownCause, NpmIsKnownByNpmCliTooAndAKillIsSaidSo) {
    Proc npm{1201, 1100, "node", {"node", "/usr/lib/node_modules/npm/bin/npm-cli.js", "start"}, {SIGINT, SIGTERM}, {}, 1};
    Proc sh{1207, 1201, "sh", {"sh", "-c", "node server.js"}, {SIGINT, SIGCHLD}, {}, 7};
    Proc node{1208, 1207, "node", {"node", "server.js"}, {SIGINT, SIGTERM}, {}, 8};
    auto f = killed_with_all_alive(true, {npm, sh, node}, 10'000 * kMs);
    EXPECT_EQ(shutdown_cause(f),
              "PID 1 is npm: it was killed 10.0 s after SIGTERM and node (pid 8, host pid 1208) was killed with it — run "
              "node directly (exec form: CMD [\"node\", …])");
}

TEST(ShutdownCause, StopSignalTheProgramDoesNotHandle) {
    auto f = killed_with_all_alive(true, {kNodePid1}, 5'000 * kMs);
    f.stop_signal = SIGQUIT;
    f.stop_signal_source = "the image's STOPSIGNAL";
    EXPECT_EQ(shutdown_cause(f),
              "the stop signal is SIGQUIT (the image's STOPSIGNAL), but node (pid 1, host pid 1201) handles SIGTERM, not "
              "SIGQUIT: it was killed at the grace, 5.00 s later — stop it with SIGTERM or handle SIGQUIT");
}

TEST(ShutdownCause, StopSignalTheProgramDoesNotHandleUnderAnInit) {
    Proc tini{1201, 1100, "tini", {"/usr/bin/tini", "--", "node", "app.js"}, {}, {}, 1};
    auto f = facts(true, tree({tini, kNodeUnderPid1}), exited_with(128 + SIGQUIT, 50 * kMs));
    f.stop_signal = SIGQUIT;
    EXPECT_EQ(shutdown_cause(f),
              "the stop signal is SIGQUIT, but node (pid 7, host pid 1207) handles SIGTERM, not SIGQUIT: it died of it "
              "0.05 s later — stop it with SIGTERM or handle SIGQUIT");
}

TEST(ShutdownCause, PlainProgramHandlesOnlySigint) {
    Proc python{1234, 1, "python3", {"python3", "app.py"}, {SIGINT}};
    auto f = facts(false, tree({python}), died_of(SIGTERM, 10 * kMs));
    f.stop_signal_source = "the scenario";
    EXPECT_EQ(shutdown_cause(f),
              "the stop signal is SIGTERM (the scenario), but python3 (pid 1234) handles SIGINT, not SIGTERM: it died of it "
              "0.01 s later — stop it with SIGINT or handle SIGTERM");
}

TEST(ShutdownCause, Pid1WithoutHandler) {
    Proc python{1201, 1100, "python3", {"python3", "app.py"}, {}, {}, 1};
    auto f = killed_with_all_alive(true, {python}, 9'996 * kMs);
    EXPECT_EQ(shutdown_cause(f),
              "PID 1 is python3 (host pid 1201) with no SIGTERM handler: the kernel ignores the signal for PID 1 (it was "
              "killed 10.0 s later) — add a handler that drains, or run with init = true");
}

TEST(ShutdownCause, Pid1WhoseHandlerResetItself) {
    // node with no SIGTERM listener: its own handler resets to the default and re-raises; the
    // kernel drops the signal for PID 1, and /proc no longer shows SIGTERM caught.
    ProcessInfo later = info(kNodePid1);
    later.caught = mask({SIGINT, SIGUSR1});
    auto f = facts(true, tree({kNodePid1}), killed_at(5'000 * kMs), {later});
    EXPECT_EQ(shutdown_cause(f),
              "PID 1 is node (host pid 1201): it caught SIGTERM once and then no longer did — a handler that re-raises the "
              "signal, which the kernel ignores for PID 1 (node's own handler does this when the program has no SIGTERM "
              "listener); it was killed 5.00 s later — add a handler that drains, or run with init = true");
}

TEST(ShutdownCause, Pid1StillHandlingAtTheKill) {
    auto f = killed_with_all_alive(true, {kNodePid1}, 5'000 * kMs);
    EXPECT_EQ(shutdown_cause(f),
              "node (pid 1, host pid 1201) handles SIGTERM but was still running 5.00 s later, when it was killed — the "
              "drain outlasted the grace, or something kept the process from exiting after it");
}

TEST(ShutdownCause, NoneForAHandlingPid1WithoutAReadingAtTheKill) {
    // Rule d or the outlasted grace: only the handler's state at the kill tells them apart.
    auto f = facts(true, tree({kNodePid1}), killed_at(5'000 * kMs));
    EXPECT_EQ(shutdown_cause(f), std::nullopt);
}

TEST(ShutdownCause, InitPassesTheSignalToAProgramWithoutHandler) {
    Proc node = kNodeUnderPid1;
    node.caught = {};
    auto f = facts(true, tree({kDockerInit, node}), exited_with(143, 80 * kMs));
    EXPECT_EQ(shutdown_cause(f),
              "node (pid 7, host pid 1207) has no SIGTERM handler: docker-init passed SIGTERM on and node died of the "
              "signal 0.08 s after it, without draining — add a handler that drains");
}

TEST(ShutdownCause, InitPassesTheSignalToAProgramThatEndsWith143) {
    Proc tini{1201, 1100, "tini", {"/usr/bin/tini", "--", "node", "app.js"}, {}, {}, 1};
    auto f = facts(true, tree({tini, kNodeUnderPid1}), exited_with(143, 80 * kMs));
    EXPECT_EQ(shutdown_cause(f),
              "node (pid 7, host pid 1207) catches SIGTERM, yet the container ended with 143 (128 + SIGTERM) 0.08 s after "
              "tini passed the signal on: its handler re-raised it or exited with that code (node's own handler does this "
              "when the program has no SIGTERM listener) — exit with code 0 once drained");
}

TEST(ShutdownCause, PlainProgramWithoutHandlerDiesOfIt) {
    Proc node{1234, 1, "node", {"node", "app.js"}};
    auto f = facts(false, tree({node}), died_of(SIGTERM, 10 * kMs));
    EXPECT_EQ(shutdown_cause(f),
              "node (pid 1234) has no SIGTERM handler: it died of the signal 0.01 s after it, without draining — add a "
              "handler that drains");
}

TEST(ShutdownCause, PlainProgramReraisesIt) {
    Proc node{1234, 1, "node", {"node", "app.js"}, {SIGINT, SIGTERM, SIGUSR1}};
    auto f = facts(false, tree({node}), died_of(SIGTERM, 12 * kMs));
    EXPECT_EQ(shutdown_cause(f),
              "node (pid 1234) catches SIGTERM and re-raised it: it died of the signal 0.01 s after it (node's own handler "
              "does this when the program has no SIGTERM listener) — exit with code 0 once drained");
}

TEST(ShutdownCause, PlainProgramOutlastsTheGrace) {
    Proc node{1234, 1, "node", {"node", "app.js"}, {SIGINT, SIGTERM}};
    auto f = facts(false, tree({node}), killed_at(10'000 * kMs));
    EXPECT_EQ(shutdown_cause(f),
              "node (pid 1234) handles SIGTERM but was still running 10.0 s later, when it was killed — the drain "
              "outlasted the grace, or something kept the process from exiting after it");
}

TEST(ShutdownCause, AChildThatIgnoresTheSignalIsNamedBeforeTheDrain) {
    Proc node{1234, 1, "node", {"node", "app.js"}, {SIGINT, SIGTERM}};
    Proc worker{1240, 1234, "worker", {"./worker"}, {}, {SIGTERM}};
    auto f = killed_with_all_alive(false, {node, worker}, 10'000 * kMs);
    EXPECT_EQ(shutdown_cause(f),
              "worker (pid 1240) ignores SIGTERM (SIG_IGN, which a process inherits from its parent) and was still running "
              "when it was killed 10.0 s later — handle SIGTERM, or reset it to the default");
}

TEST(ShutdownCause, IgnoringProcessesAreCountedAndOnlyThoseAliveAtTheKill) {
    Proc sh{1234, 1, "sh", {"/bin/sh", "-c", "./serve"}, {}, {SIGTERM}};
    Proc serve{1235, 1234, "serve", {"./serve"}, {}, {SIGTERM}};
    Proc gone{1236, 1234, "logger", {"./logger"}, {}, {SIGTERM}};
    auto f = facts(false, tree({sh, serve, gone}), killed_at(10'000 * kMs), tree({sh, serve}));
    EXPECT_EQ(shutdown_cause(f),
              "sh (pid 1234) ignores SIGTERM (SIG_IGN, which a process inherits from its parent) and was still running when "
              "it was killed 10.0 s later (and 1 more of its processes that ignore it) — handle SIGTERM, or reset it to the "
              "default");
}

TEST(ShutdownCause, Pid1ThatIgnoresTheSignal) {
    Proc node = kNodePid1;
    node.caught = {SIGINT};
    node.ignored = {SIGTERM, SIGPIPE};
    auto f = killed_with_all_alive(true, {node}, 5'000 * kMs);
    EXPECT_EQ(shutdown_cause(f),
              "node (pid 1, host pid 1201) ignores SIGTERM (SIG_IGN, which a process inherits from its parent) and was still "
              "running when it was killed 5.00 s later — handle SIGTERM, or reset it to the default");
}

TEST(ShutdownCause, NoneWhereNoRuleApplies) {
    Proc node{1234, 1, "node", {"node", "app.js"}, {SIGINT, SIGTERM}};
    Proc java{1234, 1, "java", {"java", "-jar", "app.jar"}, {SIGINT, SIGTERM, SIGHUP}};
    // It handled the signal and chose its exit code.
    EXPECT_EQ(shutdown_cause(facts(false, tree({node}), exited_with(1, 200 * kMs))), std::nullopt);
    EXPECT_EQ(shutdown_cause(facts(false, tree({java}), exited_with(143, 200 * kMs))), std::nullopt);
    Proc java_pid1 = java;
    java_pid1.ns_pid = 1;
    EXPECT_EQ(shutdown_cause(facts(true, tree({java_pid1}), exited_with(143, 200 * kMs))), std::nullopt);
    // Nothing was read before the signal.
    EXPECT_EQ(shutdown_cause(facts(false, {}, killed_at(10'000 * kMs))), std::nullopt);
    // SIGKILL as the stop signal: nothing can handle it.
    auto killed = facts(false, tree({node}), died_of(SIGKILL, 1 * kMs));
    killed.stop_signal = SIGKILL;
    EXPECT_EQ(shutdown_cause(killed), std::nullopt);
}
