// The verifier with hand-built records: no sockets, no processes.
#include "verifier/run_stats.h"
#include "verifier/verifier.h"
#include "stopped_run.h"

#include <gtest/gtest.h>

#include <csignal>

using namespace draincheck;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kSignalNs = 2'000'000'000;   // TERM at 2 s
constexpr int64_t kExitNs = 2'500'000'000;     // exit at 2.5 s

RequestRecord rec(uint32_t started_ms, uint32_t duration_ms, Outcome o, uint8_t flags = 0, uint8_t tmpl = 0) {
    RequestRecord r;
    r.intended_us = started_ms * 1000;
    r.started_us = started_ms * 1000;
    r.end_us = duration_ms * 1000;
    r.outcome = o;
    r.flags = flags;
    r.status = o == Outcome::ok ? 200 : 0;
    r.connection_id = 1;
    r.template_index = tmpl;
    return r;
}

RunResult run_with(std::vector<RequestRecord> records) {
    return draincheck::testing::stopped_run({RequestTemplate{"GET", "/", {}, "", 1}, RequestTemplate{"POST", "/orders", {}, "x", 1}},
                                std::move(records), kSignalNs, kExitNs);
}

const Assertion& only(const Verdict& v) {
    EXPECT_EQ(v.assertions.size(), 1u);
    return v.assertions.front();
}

}  // namespace

TEST(Verifier, NoDropsPasses) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok), rec(1900, 800, Outcome::ok), rec(2100, 1, Outcome::refused)});
    run.scenario.expect.dropped_inflight = 0;
    Verdict v = verify(run);
    EXPECT_TRUE(v.passed);
    EXPECT_TRUE(only(v).passed);
    EXPECT_EQ(v.summary, "PASS: 0 of 3 requests dropped (1 in flight at TERM); exited 0 500ms after TERM");
    EXPECT_TRUE(v.warnings.empty());
}

TEST(Verifier, DropsAndTruncationsFailWithEvidence) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok), rec(1900, 600, Outcome::dropped),
                              rec(1950, 550, Outcome::truncated), rec(2100, 1, Outcome::refused)});
    run.scenario.expect.dropped_inflight = 0;
    Verdict v = verify(run);
    EXPECT_FALSE(v.passed);
    const Assertion& a = only(v);
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "2 (1 dropped, 1 truncated)");
    EXPECT_EQ(a.evidence, (std::vector<size_t>{1, 2}));
    EXPECT_EQ(a.reason, "2 requests dropped in flight, first 500ms after TERM");
    EXPECT_EQ(v.summary, "FAIL: " + a.reason + "; exited 0 500ms after TERM");
}

TEST(Verifier, AllowedDropCountIsABound) {
    RunResult run = run_with({rec(1900, 600, Outcome::dropped)});
    run.scenario.expect.dropped_inflight = 1;
    EXPECT_TRUE(verify(run).passed);
    run.records.push_back(rec(1910, 600, Outcome::dropped));
    EXPECT_FALSE(verify(run).passed);
}

TEST(Verifier, EvidenceIsLimitedToTen) {
    std::vector<RequestRecord> records;
    for (uint32_t i = 0; i < 25; ++i) records.push_back(rec(1500 + i, 600, Outcome::dropped));
    RunResult run = run_with(records);
    run.scenario.expect.dropped_inflight = 0;
    Verdict v = verify(run);
    const Assertion& a = only(v);
    EXPECT_EQ(a.evidence.size(), 10u);
    EXPECT_EQ(a.evidence.front(), 0u);
    EXPECT_EQ(a.observed, "25 (25 dropped, 0 truncated)");
}

TEST(Verifier, KeepAliveRaceCountsOnlyForNonIdempotentRequests) {
    RunResult run = run_with({rec(2100, 0, Outcome::closed_idle, kReusedConnection, 0)});   // GET
    run.scenario.expect.dropped_inflight = 0;
    Verdict get = verify(run);
    EXPECT_TRUE(get.passed);
    EXPECT_NE(only(get).observed.find("1 closed_idle on idempotent requests: not counted"), std::string::npos);
    run.records = {rec(2100, 0, Outcome::closed_idle, kReusedConnection, 1)};              // POST
    Verdict post = verify(run);
    EXPECT_FALSE(post.passed);
    EXPECT_NE(only(post).observed.find("closed_idle on non-idempotent"), std::string::npos);
}

// A new connection reset as the listener closed, with nothing read: it waited in the listen backlog.
RequestRecord backlog_reset(uint32_t reset_at_ms, uint8_t tmpl) {
    RequestRecord r = rec(2000, reset_at_ms - 2000, Outcome::dropped, kPeerReset | kFullyWritten, tmpl);
    r.connected_us = 100;
    r.status = 0;
    return r;
}

TEST(Verifier, BacklogResetAsTheListenerClosesCountsOnlyForNonIdempotentRequests) {
    RunResult run = run_with({backlog_reset(2004, 0)});   // GET, reset 1 ms before the listener was seen gone
    run.events.push_back({EventType::listener_closed, 2'005'000'000, "no socket listens"});
    run.scenario.expect.dropped_inflight = 0;
    run.scenario.expect.refused_after_close_clean = true;
    Verdict get = verify(run);
    EXPECT_TRUE(get.passed) << get.summary;
    EXPECT_NE(get.assertions[0].observed.find("1 dropped in the listen backlog race on idempotent requests: not counted"), std::string::npos)
        << get.assertions[0].observed;
    EXPECT_NE(get.assertions[1].observed.find("1 refused promptly"), std::string::npos) << get.assertions[1].observed;

    run.records = {backlog_reset(2004, 1)};                // POST: counted
    EXPECT_FALSE(verify(run).assertions[0].passed);
    run.records = {backlog_reset(1900, 0)};                // reset long before the listener closed: a drop
    EXPECT_FALSE(verify(run).assertions[0].passed);
    RequestRecord reused = backlog_reset(2004, 0);         // on a reused connection: a drop
    reused.flags |= kReusedConnection;
    run.records = {reused};
    EXPECT_FALSE(verify(run).assertions[0].passed);
    RequestRecord old_connection = backlog_reset(2004, 0);   // connected 500 ms before: accepted, then dropped
    old_connection.started_us = 1'500'000;
    old_connection.intended_us = 1'500'000;
    old_connection.end_us = 504'000;
    run.records = {old_connection};
    EXPECT_FALSE(verify(run).assertions[0].passed);
    run.records = {backlog_reset(2004, 0)};
    run.events.clear();                                    // without the listener's close time: a drop
    EXPECT_FALSE(verify(run).assertions[0].passed);
}

TEST(Verifier, ExitCode) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok)});
    run.scenario.expect.exit_code = 0;
    EXPECT_TRUE(verify(run).passed);
    run.exit.code = 1;
    EXPECT_EQ(only(verify(run)).reason, "exited with code 1, expected 0");
    run.exit.code.reset();
    run.exit.signal = SIGTERM;
    EXPECT_EQ(only(verify(run)).observed, "killed by signal TERM");
    run.exit.signal = SIGKILL;
    run.exit.forced = true;
    EXPECT_EQ(only(verify(run)).reason, "forced kill after the grace period, expected exit code 0");
    run.exit = ExitInfo{};
    EXPECT_EQ(only(verify(run)).observed, "still running at end of run");
    EXPECT_FALSE(verify(run).passed);
}

TEST(Verifier, ExitWithin) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok)});
    run.scenario.expect.exit_within = 500ms;
    EXPECT_TRUE(verify(run).passed);
    EXPECT_EQ(only(verify(run)).observed, "500ms after TERM");
    run.scenario.expect.exit_within = 499ms;
    EXPECT_EQ(only(verify(run)).reason, "exited 500ms after TERM, limit 499ms");
    run.scenario.expect.exit_within = 10s;
    run.exit.forced = true;   // killed at the grace, however quick
    EXPECT_FALSE(verify(run).passed);
    EXPECT_EQ(only(verify(run)).observed, "forced kill 500ms after TERM");
}

TEST(Verifier, ErrorRateBeforeTheFaultIgnoresWhatTheDrainDid) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok), rec(1100, 5, Outcome::http_error), rec(1200, 5, Outcome::ok),
                              rec(1300, 5, Outcome::ok), rec(1900, 600, Outcome::dropped)});
    run.scenario.expect.max_error_rate = 0.25;
    Verdict v = verify(run);
    EXPECT_TRUE(v.passed) << only(v).observed;
    EXPECT_EQ(only(v).observed, "25.00% (1 of 4)");
    run.scenario.expect.max_error_rate = 0.2;
    EXPECT_FALSE(verify(run).passed);
    EXPECT_EQ(only(verify(run)).evidence, std::vector<size_t>{1});
}

TEST(Verifier, RefusedAfterCloseMustBePromptAndNotHang) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok), rec(2100, 0, Outcome::refused), rec(2200, 2, Outcome::ok)});
    run.records[1].connection_id = 2;
    run.scenario.expect.refused_after_close_clean = true;
    Verdict v = verify(run);
    EXPECT_TRUE(v.passed);
    EXPECT_EQ(only(v).observed, "2 new connections after TERM: 1 served, 1 refused promptly");
    // Accepted into a backlog nobody serves, then reset at exit.
    run.records.push_back(rec(2300, 200, Outcome::dropped));
    // A refusal that took a SYN retransmit is not prompt.
    run.records.push_back(rec(2310, 1100, Outcome::refused));
    Verdict bad = verify(run);
    EXPECT_FALSE(bad.passed);
    EXPECT_EQ(only(bad).evidence, (std::vector<size_t>{3, 4}));
    EXPECT_NE(only(bad).observed.find("1 refused, 1 dropped"), std::string::npos) << only(bad).observed;
    // Requests on reused connections are not new connections.
    run.records.resize(3);
    run.records.push_back(rec(2300, 200, Outcome::dropped, kReusedConnection));
    EXPECT_TRUE(verify(run).passed);
}

TEST(Verifier, RefusedAfterCloseWithNothingToLookAtWarns) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok)});
    run.scenario.expect.refused_after_close_clean = true;
    Verdict v = verify(run);
    EXPECT_TRUE(v.passed);
    ASSERT_FALSE(v.warnings.empty());
    EXPECT_NE(v.warnings.front().find("no new connection"), std::string::npos);
}

TEST(Verifier, ReadyMustFailDuringTheDrain) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok)});
    run.scenario.expect.ready_fails_during_drain = true;
    run.drain_probes = {{2'050'000'000, true, "200"}, {2'100'000'000, false, "connection refused"}};
    Verdict v = verify(run);
    EXPECT_TRUE(v.passed);
    EXPECT_EQ(only(v).observed, "not ready 100ms after TERM (connection refused)");
    run.drain_probes = {{2'050'000'000, true, "200"}, {2'100'000'000, true, "200"}};
    EXPECT_FALSE(verify(run).passed);
    EXPECT_EQ(only(verify(run)).observed, "ready in all 2 probes during the drain");
    // A probe that timed out (a loaded machine) is no answer: the target still said "ready".
    run.drain_probes = {{2'050'000'000, true, "200"}, {2'100'000'000, false, "timeout", true}};
    EXPECT_FALSE(verify(run).passed);
    EXPECT_EQ(only(verify(run)).observed, "ready in 1 probes during the drain (1 timed out)");
    // Nor is a probe cut before any answer, as when the process is killed with it in flight.
    run.drain_probes = {{2'050'000'000, true, "200"}, {5'000'000'000, false, "connection reset", true}};
    EXPECT_FALSE(verify(run).passed);
    run.drain_probes.clear();   // gone before the first probe: nothing routed to it
    EXPECT_TRUE(verify(run).passed);
    run.scenario.expect.ready_fails_during_drain = false;
    run.drain_probes = {{2'100'000'000, false, "503"}};
    EXPECT_FALSE(verify(run).passed);
}

TEST(Verifier, WarnsWhenNothingWasInFlightAtTheSignal) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok), rec(2100, 1, Outcome::refused)});
    run.scenario.expect.dropped_inflight = 0;
    Verdict v = verify(run);
    ASSERT_EQ(v.warnings.size(), 1u);
    EXPECT_NE(v.warnings[0].find("no request was in flight"), std::string::npos);
}

TEST(Verifier, NoExpectationsMeansNothingChecked) {
    Verdict v = verify(run_with({rec(1900, 600, Outcome::ok)}));
    EXPECT_TRUE(v.passed);
    EXPECT_TRUE(v.assertions.empty());
    EXPECT_EQ(v.warnings.back(), "no [expect] keys: nothing was checked");
}

TEST(Phase, ByStartTime) {
    PhaseBounds b{kSignalNs, kExitNs};
    EXPECT_EQ(b.phase_of(rec(1999, 5000, Outcome::ok)), Phase::before);
    EXPECT_EQ(b.phase_of(rec(2000, 1, Outcome::ok)), Phase::draining);
    EXPECT_EQ(b.phase_of(rec(2499, 1, Outcome::ok)), Phase::draining);
    EXPECT_EQ(b.phase_of(rec(2500, 1, Outcome::refused)), Phase::after);
    PhaseBounds no_signal{std::nullopt, std::nullopt};
    EXPECT_EQ(no_signal.phase_of(rec(9000, 1, Outcome::ok)), Phase::before);
}

TEST(RunStats, CountsAndNearestRankPercentiles) {
    std::vector<RequestRecord> records;
    for (uint32_t i = 1; i <= 100; ++i) records.push_back(rec(100 + i, i, Outcome::ok));   // latencies 1..100 ms
    records.push_back(rec(2100, 1, Outcome::refused));
    records.push_back(rec(1900, 700, Outcome::dropped));
    RunStats s = compute_stats(records, PhaseBounds{kSignalNs, kExitNs}, 0);
    EXPECT_EQ(s.total, 102u);
    EXPECT_EQ(s.counts[size_t(Phase::before)][size_t(Outcome::ok)], 100u);
    EXPECT_EQ(s.counts[size_t(Phase::before)][size_t(Outcome::dropped)], 1u);
    EXPECT_EQ(s.counts[size_t(Phase::draining)][size_t(Outcome::refused)], 1u);
    const LatencySummary& l = s.latency[size_t(Phase::before)];
    EXPECT_EQ(l.count, 100u);   // only complete responses have a latency
    EXPECT_EQ(l.p50_us, 50'000u);
    EXPECT_EQ(l.p90_us, 90'000u);
    EXPECT_EQ(l.p99_us, 99'000u);
    EXPECT_EQ(l.max_us, 100'000u);
    ASSERT_EQ(s.per_second.size(), 3u);
    EXPECT_EQ(s.per_second[0].by_outcome[size_t(Outcome::ok)], 100u);
    EXPECT_EQ(s.per_second[1].by_outcome[size_t(Outcome::dropped)], 1u);
    EXPECT_EQ(s.per_second[2].by_outcome[size_t(Outcome::refused)], 1u);
    EXPECT_EQ(s.per_100ms.size(), 22u);   // up to the bucket of the request started at 2.1 s
    EXPECT_EQ(s.per_100ms[21].by_outcome[size_t(Outcome::refused)], 1u);
}

TEST(RunStats, LatencyCountsFromTheIntendedSendTime) {
    RequestRecord r = rec(1000, 10, Outcome::ok);
    r.intended_us = 900'000;   // the client was 100 ms late: that is latency the user saw
    EXPECT_EQ(latency_us(r), 110'000u);
}

TEST(Verifier, AnAbortedRunNeverPasses) {
    RunResult run = run_with({rec(1000, 5, Outcome::ok)});
    run.scenario.expect.exit_code = 0;
    run.aborted = true;
    Verdict v = verify(run);
    EXPECT_FALSE(v.passed);
    EXPECT_EQ(v.summary.rfind("ABORTED (partial result): ", 0), 0u) << v.summary;
    EXPECT_NE(std::find(v.warnings.begin(), v.warnings.end(), "the run was aborted: partial result"), v.warnings.end());
}
