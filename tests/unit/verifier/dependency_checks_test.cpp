// The dependency assertions with hand-built connections, outages and records.
#include "verifier/dependency_checks.h"
#include "verifier/verifier.h"
#include "stopped_run.h"

#include <gtest/gtest.h>

#include <csignal>

using namespace draincheck;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSignalNs = 8000 * kMs;
constexpr int64_t kExitNs = 8500 * kMs;

RequestRecord rec(uint32_t started_ms, uint32_t duration_ms, Outcome o) {
    RequestRecord r;
    r.intended_us = r.started_us = started_ms * 1000;
    r.end_us = duration_ms * 1000;
    r.outcome = o;
    r.status = o == Outcome::ok ? 200 : 503;
    r.connection_id = 1;
    return r;
}

ProxyConnection conn(ProxyConnection::Closer by, int64_t closed_ns, bool owner_exiting = false, std::string detail = "EOF") {
    ProxyConnection c;
    c.id = 1;
    c.opened_ns = 100 * kMs;
    c.closed_ns = closed_ns;
    c.closed_by = by;
    c.close_detail = std::move(detail);
    c.owner_pid = 42;
    c.owner_name = "service";
    c.owner_exiting_at_close = owner_exiting;
    return c;
}

RunResult run_with(std::vector<RequestRecord> records, std::vector<Outage> outages = {},
                   std::vector<ProxyConnection> connections = {}) {
    RunResult run =
        draincheck::testing::stopped_run({RequestTemplate{"GET", "/count", {}, "", 1}}, std::move(records), kSignalNs, kExitNs);
    run.load_stopped_ns = 9000 * kMs;
    DependencyResult d;
    d.name = "redis";
    d.outages = std::move(outages);
    d.connections = std::move(connections);
    run.dependencies.push_back(std::move(d));
    return run;
}

using C = ProxyConnection::Closer;

TEST(DependencyChecks, ConnectionsAreJudgedByWhoClosedThemAndWhen) {
    RunResult run = run_with({});
    EXPECT_TRUE(judge_connection(conn(C::target, 8400 * kMs), run).ok);
    EXPECT_FALSE(judge_connection(conn(C::target, 8499 * kMs, true), run).ok) << "closed by the kernel at exit";
    EXPECT_TRUE(judge_connection(conn(C::dependency, 8400 * kMs), run).ok) << "closed after QUIT";
    EXPECT_FALSE(judge_connection(conn(C::dependency, 8600 * kMs), run).ok) << "after the exit";
    EXPECT_TRUE(judge_connection(conn(C::dependency, 1000 * kMs, false, "dependency killed"), run).ok);
    EXPECT_TRUE(judge_connection(conn(C::proxy, 1000 * kMs, false, "toxic reset_peer"), run).ok);
    EXPECT_FALSE(judge_connection(conn(C::end_of_run, 9000 * kMs), run).ok);
    ProxyConnection open = conn(C::target, 0);
    open.closed_ns.reset();
    open.closed_by.reset();
    EXPECT_FALSE(judge_connection(open, run).ok);
}

// A goodbye is something the target sent: the dependency closing during the hold of a connection the
// target never wrote to is no answer to anything.
TEST(DependencyChecks, AGoodbyeNeedsBytesFromTheTarget) {
    auto run = run_with({});
    ProxyConnection said_goodbye = conn(C::target, 8499 * kMs, true);
    said_goodbye.dependency_closed_by_itself = true;
    said_goodbye.bytes_up = 6;   // e.g. QUIT
    EXPECT_TRUE(judge_connection(said_goodbye, run).ok);
    ProxyConnection silent = said_goodbye;
    silent.bytes_up = 0;
    ConnectionJudgement j = judge_connection(silent, run);
    EXPECT_FALSE(j.ok);
    EXPECT_NE(j.how.find("never wrote to it"), std::string::npos) << j.how;
}

TEST(DependencyChecks, ClosedBeforeExitNamesTheConnectionsLeftOpen) {
    RunResult run = run_with({}, {}, {conn(C::target, 8400 * kMs), conn(C::target, 8499 * kMs, true)});
    run.dependencies[0].connections[1].id = 2;
    std::vector<std::string> warnings;
    Assertion a = check_dependency_closed_before_exit(run, warnings);
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "1 of 2 connections left open until exit");
    EXPECT_NE(a.reason.find("redis #2 (pid 42 service"), std::string::npos) << a.reason;
    EXPECT_EQ(a.reason.find("redis #1"), std::string::npos) << a.reason;
    // No exit stop was seen: the weaker rule decided, and the verdict says so.
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("weaker rule"), std::string::npos) << warnings[0];

    run.dependencies[0].connections.pop_back();
    EXPECT_TRUE(check_dependency_closed_before_exit(run, warnings).passed);
}

// With the target traced, the fact decides: what its group still held the moment it began to exit.
ProxyConnection at_ports(ProxyConnection c, uint16_t target_port) {
    c.proxy_port = 6000;
    c.target_port = target_port;
    return c;
}

ExitStop exit_stop(int pid, bool target, std::vector<HeldConnection> held) {
    return ExitStop{pid, kExitNs - 1 * kMs, target, std::move(held)};
}

TEST(DependencyChecks, AConnectionHeldAsTheTargetBeganToExitWasLeftToTheKernel) {
    RunResult run = run_with({});
    run.exit_stops.push_back(exit_stop(42, true, {HeldConnection{6000, 50001, {42}}}));
    ConnectionJudgement held = judge_connection(at_ports(conn(C::target, 8499 * kMs, true), 50001), run);
    EXPECT_FALSE(held.ok);
    EXPECT_NE(held.how.find("still open when the target began to exit (held by pid 42)"), std::string::npos) << held.how;
    // Closed by the target itself, even if the proxy read its close only once the process was exiting.
    ConnectionJudgement closed = judge_connection(at_ports(conn(C::target, 8499 * kMs, true), 50002), run);
    EXPECT_TRUE(closed.ok) << closed.how;
    EXPECT_EQ(closed.how, "closed by the target before it began to exit");
    // A connection reset by the target (SO_LINGER 0) is a close like any other.
    ConnectionJudgement reset = judge_connection(at_ports(conn(C::target, 8400 * kMs, false, "connection reset"), 50003), run);
    EXPECT_TRUE(reset.ok) << reset.how;
    std::vector<std::string> warnings;
    run.dependencies[0].connections = {at_ports(conn(C::target, 8499 * kMs, true), 50002)};
    EXPECT_TRUE(check_dependency_closed_before_exit(run, warnings).passed);
    EXPECT_TRUE(warnings.empty());
}

TEST(DependencyChecks, AGoodbyeSentBeforeTheExitStillCountsWhenTheSocketWasHeld) {
    RunResult run = run_with({});
    run.exit_stops.push_back(exit_stop(42, true, {HeldConnection{6000, 50001, {42}}}));
    ProxyConnection quit = at_ports(conn(C::target, 8499 * kMs, true), 50001);
    quit.bytes_up = 6;
    quit.dependency_closed_by_itself = true;
    EXPECT_TRUE(judge_connection(quit, run).ok);
    quit.bytes_up = 0;   // the dependency closed, but nothing was said to it
    EXPECT_FALSE(judge_connection(quit, run).ok);
}

// A child that inherited the socket still holds it when the target begins to exit: judged on the group.
TEST(DependencyChecks, AForkedChildHoldingTheConnectionAtTheTargetsExitCounts) {
    RunResult run = run_with({});
    run.exit_stops.push_back(exit_stop(42, true, {HeldConnection{6000, 50001, {42, 43}}}));
    ConnectionJudgement j = judge_connection(at_ports(conn(C::target, 8700 * kMs, true), 50001), run);
    EXPECT_FALSE(j.ok);
    EXPECT_NE(j.how.find("held by pid 42, 43"), std::string::npos) << j.how;
}

// A process the target forked, that alone held the connection as it began to exit, left it too.
TEST(DependencyChecks, AForkedProcessThatExitsHoldingItAloneLeftItToTheKernel) {
    RunResult run = run_with({});
    run.exit_stops.push_back(exit_stop(43, false, {HeldConnection{6000, 50001, {43}}}));
    run.exit_stops.push_back(exit_stop(42, true, {}));
    ProxyConnection c = at_ports(conn(C::target, 8000 * kMs, true), 50001);
    ConnectionJudgement j = judge_connection(c, run);
    EXPECT_FALSE(j.ok);
    EXPECT_NE(j.how.find("pid 43, forked by the target"), std::string::npos) << j.how;
    // Shared with another process at that moment: that exit did not close it.
    run.exit_stops[0].held[0].holders = {43, 44};
    EXPECT_TRUE(judge_connection(c, run).ok);
}

TEST(DependencyChecks, AConnectionOpenedAfterTheExitStopIsJudgedTheWeakerWay) {
    RunResult run = run_with({});
    run.exit_stops.push_back(exit_stop(42, true, {}));
    ProxyConnection late = at_ports(conn(C::target, 8499 * kMs, true), 50009);
    late.opened_ns = kExitNs;   // by a child, after the target had begun to exit
    EXPECT_FALSE(judge_connection(late, run).ok);
}

TEST(DependencyChecks, NoConnectionThroughTheProxyCannotPass) {
    std::vector<std::string> warnings;
    Assertion a = check_dependency_closed_before_exit(run_with({}), warnings);
    EXPECT_FALSE(a.passed);
    EXPECT_NE(a.reason.find("opened no connection"), std::string::npos);
}

ExpectSpec::DependencyDown down_expect(std::optional<Nanos> max_latency, std::optional<bool> ready_fails,
                                       std::optional<Nanos> recovers) {
    ExpectSpec::DependencyDown d;
    d.max_latency = max_latency;
    d.ready_fails = ready_fails;
    d.recovers_within = recovers;
    return d;
}

TEST(DependencyChecks, MaxLatencyJudgesRequestsStartedDuringTheOutage) {
    // Down from 2 s to 4 s.
    RunResult run = run_with({rec(1000, 900, Outcome::ok), rec(2100, 5, Outcome::http_error), rec(3000, 800, Outcome::ok),
                              rec(4500, 900, Outcome::ok)},
                             {{2000 * kMs, 4000 * kMs, "killed"}});
    run.scenario.expect.dependency_down = down_expect(500ms, std::nullopt, std::nullopt);
    auto as = check_dependency_down(run);
    ASSERT_EQ(as.size(), 1u);
    EXPECT_FALSE(as[0].passed);
    EXPECT_EQ(as[0].evidence, std::vector<size_t>{2});
    EXPECT_NE(as[0].observed.find("2 requests while down; slowest 800ms"), std::string::npos) << as[0].observed;

    run.records[2].end_us = 20'000;
    EXPECT_TRUE(check_dependency_down(run)[0].passed);
    run.records[2].end_us = RequestRecord::kNever;   // never answered
    EXPECT_FALSE(check_dependency_down(run)[0].passed);
}

TEST(DependencyChecks, ReadyFailsNeedsAFailedProbeDuringTheOutage) {
    RunResult run = run_with({}, {{2000 * kMs, 4000 * kMs, "frozen"}});
    run.scenario.expect.dependency_down = down_expect(std::nullopt, true, std::nullopt);
    run.outage_probes = {{2100 * kMs, true, "200"}, {2200 * kMs, true, "200"}};
    EXPECT_FALSE(check_dependency_down(run)[0].passed);
    run.outage_probes.push_back({2300 * kMs, false, "503"});
    Assertion a = check_dependency_down(run)[0];
    EXPECT_TRUE(a.passed);
    EXPECT_EQ(a.observed, "not ready 300ms after redis went down (503)");
}

TEST(DependencyChecks, RecoveryIsTheLastFailureAfterTheReturn) {
    RunResult run = run_with({rec(4100, 5, Outcome::http_error), rec(4700, 5, Outcome::http_error), rec(4800, 5, Outcome::ok),
                              rec(5000, 5, Outcome::ok)},
                             {{2000 * kMs, 4000 * kMs, "killed"}});
    run.scenario.expect.dependency_down = down_expect(std::nullopt, std::nullopt, 1s);
    Assertion a = check_dependency_down(run)[0];
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.observed, "serving again 700ms after redis came back");

    run.scenario.expect.dependency_down = down_expect(std::nullopt, std::nullopt, 500ms);
    a = check_dependency_down(run)[0];
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.evidence, std::vector<size_t>{1});

    // Nothing ok after the return: not recovered.
    for (auto& r : run.records) r.outcome = Outcome::http_error;
    EXPECT_FALSE(check_dependency_down(run)[0].passed);
    // Never back.
    run.dependencies[0].outages[0].up_ns.reset();
    EXPECT_NE(check_dependency_down(run)[0].reason.find("did not come back"), std::string::npos);
}

TEST(DependencyChecks, MaxErrorRateLeavesOutTheOutageAndItsRecovery) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok), rec(1990, 50, Outcome::http_error), rec(3000, 5, Outcome::http_error),
                              rec(4500, 5, Outcome::http_error), rec(6000, 5, Outcome::ok)},
                             {{2000 * kMs, 4000 * kMs, "killed"}});
    run.scenario.expect.max_error_rate = 0.0;
    run.scenario.expect.dependency_down = down_expect(std::nullopt, std::nullopt, 1s);
    Verdict v = verify(run);
    const Assertion* rate = nullptr;
    for (const auto& a : v.assertions)
        if (a.name == "max_error_rate") rate = &a;
    ASSERT_NE(rate, nullptr);
    EXPECT_TRUE(rate->passed) << rate->observed;
    EXPECT_EQ(rate->observed, "0.00% (0 of 2)");
}

}  // namespace
