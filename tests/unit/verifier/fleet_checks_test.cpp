// The fleet assertions with hand-built replicas, backend attempts, fault windows, state checks and
// request records: no balancer, no processes.
#include "verifier/fleet_checks.h"
#include "verifier/verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

using namespace draincheck;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kMs = 1'000'000;
// Replica 0 is scaled down: out of the balancer at 1 s, SIGTERM at 1.5 s, exit at 2 s. The load runs
// 0–4 s; replicas 1 and 2 are stopped at the end of the run.
constexpr int64_t kSignalNs = 1500 * kMs;
constexpr int64_t kExitNs = 2000 * kMs;

// A request through the balancer, answered by replica `replica` (an index; -1: no replica named).
RequestRecord rec(uint32_t started_ms, uint32_t duration_ms, Outcome o, int replica = 0, uint16_t status = 0) {
    RequestRecord r;
    r.intended_us = r.started_us = started_ms * 1000;
    r.end_us = duration_ms * 1000;
    r.outcome = o;
    r.status = status ? status : o == Outcome::ok ? 200 : o == Outcome::http_error ? 502 : 0;
    r.connection_id = 1;
    r.replica = replica < 0 ? RequestRecord::kNoReplica : uint8_t(replica + 1);
    return r;
}

BackendAttempt attempt(uint64_t request, int replica, int64_t started_ms, int64_t ended_ms, BackendOutcome o,
                       bool retry = false) {
    BackendAttempt b;
    b.request = request;
    b.replica = replica;
    b.started_ns = started_ms * kMs;
    b.ended_ns = ended_ms * kMs;
    b.outcome = o;
    b.status = o == BackendOutcome::ok ? 200 : o == BackendOutcome::http_error ? 503 : 0;
    b.retry = retry;
    return b;
}

ReplicaResult replica(int index, std::string stopped_by, int64_t signalled_ns, int64_t exit_ns, int code = 0) {
    ReplicaResult r;
    r.index = index;
    r.port = uint16_t(41000 + index);
    r.pid = 1000 + index;
    r.spawned_ns = 0;
    r.ready_ns = 100 * kMs;
    r.in_lb_ns = 200 * kMs;
    r.out_lb_ns = signalled_ns - 500 * kMs;
    r.signalled_ns = signalled_ns;
    r.signal = SIGTERM;
    r.stopped_by = std::move(stopped_by);
    r.exit.exited = true;
    r.exit.at_ns = exit_ns;
    r.exit.code = code;
    return r;
}

// Three replicas behind the balancer; replica 0 scaled down at 1 s; 20 good requests over the run,
// spread over the replicas.
RunResult fleet_run() {
    RunResult run;
    run.scenario.load.mix = {RequestTemplate{"GET", "/", {}, "", 1}};
    run.load_started_ns = 0;
    run.load_stopped_ns = 4000 * kMs;
    for (uint32_t i = 0; i < 20; ++i) run.records.push_back(rec(i * 200, 5, Outcome::ok, int(i % 3)));
    FleetResult f;
    f.balancer = "builtin";
    f.lb_port = 40999;
    f.replicas = {replica(0, "scale_down", kSignalNs, kExitNs), replica(1, "end of run", 4100 * kMs, 4200 * kMs),
                  replica(2, "end of run", 4100 * kMs, 4200 * kMs)};
    f.faults.push_back({"scale_down", 1000 * kMs, 2000 * kMs, std::nullopt, 2});
    run.fleet = std::move(f);
    run.events = {{EventType::lb_out, 1000 * kMs, "removed", "replica 0"},
                  {EventType::replica_signalled, kSignalNs, "TERM", "replica 0"},
                  {EventType::replica_exited, kExitNs, "code 0", "replica 0"}};
    return run;
}

// The assertion named `name` that check_fleet produced (it must be exactly one).
Assertion only(const RunResult& run, const std::string& name) {
    std::vector<Assertion> as = check_fleet(run);
    EXPECT_EQ(as.size(), 1u);
    for (const Assertion& a : as)
        if (a.name == name) return a;
    ADD_FAILURE() << "no assertion " << name;
    return {};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

// ---- client_errors ----------------------------------------------------------------------------

TEST(FleetChecks, ClientErrorsPassWhenNoRequestFailed) {
    RunResult run = fleet_run();
    run.scenario.expect.client_errors = 0;
    Assertion a = only(run, "client_errors");
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.expected, "≤ 0");
    EXPECT_EQ(a.observed, "0 of 20");
    EXPECT_TRUE(a.evidence.empty());

    run.records.clear();   // nothing sent proves nothing
    a = only(run, "client_errors");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "no request was sent");
}

TEST(FleetChecks, ClientErrorsNameTheOutcomeStatusAndReplica) {
    RunResult run = fleet_run();
    run.records[8] = rec(1600, 3, Outcome::http_error, 1, 502);   // via replica 1, after replica 0's signal
    run.scenario.expect.client_errors = 0;
    Assertion a = only(run, "client_errors");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.evidence, std::vector<size_t>{8});
    EXPECT_EQ(a.observed, "1 of 20 (1 http_error 502)");
    EXPECT_TRUE(has(a.reason, "1 requests failed for the client (limit 0)")) << a.reason;
    EXPECT_TRUE(has(a.reason, "the first at +1.6s: http_error 502 via replica 1")) << a.reason;
    // What the fleet was doing then: replica 0 had just been told to stop.
    EXPECT_TRUE(has(a.reason, "100ms after replica 0")) << a.reason;

    run.scenario.expect.client_errors = 1;   // a bound, not a count
    EXPECT_TRUE(only(run, "client_errors").passed);

    run.records[9] = rec(1800, 3, Outcome::dropped, -1);
    a = only(run, "client_errors");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.evidence, (std::vector<size_t>{8, 9}));
    EXPECT_EQ(a.observed, "2 of 20 (1 dropped; 1 http_error 502)");
}

TEST(FleetChecks, ClientErrorsObservedCountsFailuresTheBalancerHidByRetrying) {
    RunResult run = fleet_run();
    run.scenario.expect.client_errors = 0;
    run.fleet->attempts = {
        attempt(7, 0, 1400, 1600, BackendOutcome::reset),          // dropped by replica 0 ...
        attempt(7, 1, 1600, 1610, BackendOutcome::ok, true),       // ... and retried on replica 1: hidden
        attempt(8, 2, 1700, 1710, BackendOutcome::ok),
        attempt(9, 1, 1800, 1810, BackendOutcome::http_error),     // failed, not retried: not hidden
    };
    Assertion a = only(run, "client_errors");
    EXPECT_TRUE(a.passed) << "the client saw no error";
    EXPECT_EQ(a.observed, "0 of 20; the balancer hid 1 failed backend attempt(s) by retrying");

    run.fleet->attempts.erase(run.fleet->attempts.begin() + 1);   // no retry: nothing was hidden
    EXPECT_EQ(only(run, "client_errors").observed, "0 of 20");

    // Two failed attempts, then an answer: both hidden. A retry that failed too hid nothing.
    run.fleet->attempts = {
        attempt(7, 0, 1400, 1600, BackendOutcome::refused),
        attempt(7, 1, 1600, 1610, BackendOutcome::reset, true),
        attempt(7, 2, 1610, 1620, BackendOutcome::ok, true),
        attempt(8, 0, 1700, 1710, BackendOutcome::refused),
        attempt(8, 1, 1710, 1720, BackendOutcome::reset, true),
    };
    EXPECT_EQ(only(run, "client_errors").observed, "0 of 20; the balancer hid 2 failed backend attempt(s) by retrying");
}

// ---- dropped_inflight -------------------------------------------------------------------------

TEST(FleetChecks, DroppedInflightCountsAnAttemptCutAfterItsReplicasStopSignal) {
    RunResult run = fleet_run();
    run.scenario.expect.dropped_inflight = 0;
    // Accepted by replica 0 at 1.4 s, reset at 1.6 s: 100 ms after its SIGTERM. A retry hid it from the client.
    run.fleet->attempts = {attempt(7, 0, 1400, 1600, BackendOutcome::reset),
                           attempt(7, 1, 1600, 1610, BackendOutcome::ok, true)};
    Assertion a = only(run, "dropped_inflight");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "1 failed by stopping replicas (1 reset), 0 cut for the client");
    EXPECT_TRUE(has(a.reason, "1 requests in flight on stopping replicas were dropped: ")) << a.reason;
    EXPECT_TRUE(has(a.reason, "replica 0 reset a request at +1.6s (100ms after its stop signal)")) << a.reason;
    ASSERT_EQ(failed_by_stopping_replicas(run).size(), 1u);
    EXPECT_EQ(failed_by_stopping_replicas(run)[0], &run.fleet->attempts[0]);
    ASSERT_FALSE(a.breakdown.empty());
    EXPECT_EQ(a.breakdown[0].kind, "reset on stopping replicas");
    EXPECT_EQ(a.breakdown[0].count, 1u);

    // A timeout is no answer either.
    run.fleet->attempts[0].outcome = BackendOutcome::timeout;
    EXPECT_FALSE(only(run, "dropped_inflight").passed);
    // Answered, even late: drained.
    run.fleet->attempts[0].outcome = BackendOutcome::ok;
    a = only(run, "dropped_inflight");
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.observed, "0 failed by stopping replicas, 0 cut for the client");
}

TEST(FleetChecks, DroppedInflightCountsAnErrorStatusFromAStoppingReplica) {
    RunResult run = fleet_run();
    run.scenario.expect.dropped_inflight = 0;
    // Accepted by replica 0 at 1.4 s, answered 503 at 1.6 s, after its SIGTERM: nothing was cut, nothing served.
    run.fleet->attempts = {attempt(7, 0, 1400, 1600, BackendOutcome::http_error)};
    Assertion a = only(run, "dropped_inflight");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "1 failed by stopping replicas (1 http_error 503), 0 cut for the client");
    EXPECT_TRUE(has(a.reason, "1 requests in flight on stopping replicas were dropped or answered with an error: "
                              "replica 0 answered 503 to a request at +1.6s")) << a.reason;
    EXPECT_EQ(failed_by_stopping_replicas(run).size(), 1u);

    // A 4xx the fleet never answered before its faults is the drain's too; one it did is an answer.
    run.fleet->attempts[0].outcome = BackendOutcome::ok;
    run.fleet->attempts[0].status = 404;
    a = only(run, "dropped_inflight");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "1 failed by stopping replicas (1 status 404 (never answered before the faults)), 0 cut for the client");
    run.fleet->attempts.push_back(attempt(3, 1, 500, 510, BackendOutcome::ok));
    run.fleet->attempts.back().status = 404;
    EXPECT_TRUE(only(run, "dropped_inflight").passed);
}

TEST(FleetChecks, DroppedInflightShowsAnErrorStatusTheFleetAlsoAnsweredBeforeItsFaults) {
    RunResult run = fleet_run();
    run.scenario.expect.dropped_inflight = 0;
    // The fleet answered 503 before the scale_down began (at 1 s): the stopping replica's 503 is its usual answer.
    run.fleet->attempts = {attempt(3, 1, 500, 510, BackendOutcome::http_error),
                           attempt(7, 0, 1400, 1600, BackendOutcome::http_error)};
    Assertion a = only(run, "dropped_inflight");
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.observed, "0 failed by stopping replicas, 0 cut for the client; 1 http_error 503 (also answered "
                          "before the faults) on stopping replicas: not counted");
    ASSERT_EQ(a.breakdown.size(), 1u);
    EXPECT_FALSE(a.breakdown[0].counted);
    EXPECT_TRUE(failed_by_stopping_replicas(run).empty());

    // A 503 after the faults began (replica 0 already out of the balancer) is no baseline.
    run.fleet->attempts[0] = attempt(3, 1, 1100, 1200, BackendOutcome::http_error);
    EXPECT_FALSE(only(run, "dropped_inflight").passed);
}

TEST(FleetChecks, DroppedInflightLeavesOutAKilledReplica) {
    RunResult run = fleet_run();
    run.scenario.expect.dropped_inflight = 0;
    run.fleet->replicas[0].stopped_by = "kill_replica";   // a crash drops by definition
    run.fleet->replicas[0].signal = SIGKILL;
    run.fleet->attempts = {attempt(7, 0, 1400, 1600, BackendOutcome::reset)};
    EXPECT_TRUE(only(run, "dropped_inflight").passed);
    EXPECT_TRUE(failed_by_stopping_replicas(run).empty());

    run.fleet->replicas[0].stopped_by = "scale_down";
    EXPECT_FALSE(only(run, "dropped_inflight").passed);
}

TEST(FleetChecks, DroppedInflightLeavesOutAttemptsThatEndedBeforeTheSignal) {
    RunResult run = fleet_run();
    run.scenario.expect.dropped_inflight = 0;
    run.fleet->attempts = {attempt(7, 0, 1200, 1499, BackendOutcome::reset)};   // before the SIGTERM at 1.5 s
    EXPECT_TRUE(only(run, "dropped_inflight").passed);
    EXPECT_TRUE(failed_by_stopping_replicas(run).empty());
    // Started after the signal: the replica never accepted it before being told to stop.
    run.fleet->attempts = {attempt(7, 0, 1501, 1502, BackendOutcome::reset)};
    EXPECT_TRUE(only(run, "dropped_inflight").passed);
    // A replica never signalled, or an attempt naming no replica, drops nothing here.
    run.fleet->attempts = {attempt(7, 1, 1400, 1600, BackendOutcome::reset), attempt(8, -1, 1400, 1600, BackendOutcome::reset),
                           attempt(9, 7, 1400, 1600, BackendOutcome::reset)};
    run.fleet->replicas[1].signalled_ns.reset();
    EXPECT_TRUE(only(run, "dropped_inflight").passed);

    run.fleet->attempts = {attempt(7, 0, 1200, 1500, BackendOutcome::reset)};   // cut at the signal
    EXPECT_FALSE(only(run, "dropped_inflight").passed);
}

TEST(FleetChecks, DroppedInflightCountsRequestsCutForTheClient) {
    RunResult run = fleet_run();
    run.scenario.expect.dropped_inflight = 0;
    run.records[8] = rec(1600, 30, Outcome::truncated, 1);
    Assertion a = only(run, "dropped_inflight");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.evidence, std::vector<size_t>{8});
    EXPECT_EQ(a.reason, "1 requests were cut for the client (dropped or truncated)");
    run.scenario.expect.dropped_inflight = 1;
    EXPECT_TRUE(only(run, "dropped_inflight").passed);
}

// ---- stop_waterfalls --------------------------------------------------------------------------

TEST(FleetChecks, StopWaterfallsListTheAttemptsInFlightAtEachSignalJudgedAsDroppedInflightJudgesThem) {
    RunResult run = fleet_run();
    run.fleet->attempts = {
        attempt(3, 1, 500, 510, BackendOutcome::http_error),      // replica 1, long before: the fleet's usual 503
        attempt(4, 0, 1200, 1499, BackendOutcome::ok),            // ended before replica 0's SIGTERM at 1.5 s
        attempt(5, 0, 1450, 1700, BackendOutcome::reset),         // in flight, dropped
        attempt(5, 1, 1700, 1710, BackendOutcome::ok, true),      // its retry elsewhere
        attempt(6, 0, 1300, 1900, BackendOutcome::ok),            // in flight, drained
        attempt(7, 0, 1400, 1600, BackendOutcome::http_error),    // in flight, the usual 503: not counted
        attempt(8, 0, 1420, 1500, BackendOutcome::timeout),       // in flight: cut at the signal itself
        attempt(9, 0, 1420, 1600, BackendOutcome::ok),            // in flight, a 404 never answered before
        attempt(10, 0, 1500, 1501, BackendOutcome::ok),           // started at the signal: not in flight
        attempt(11, 2, 4000, 4150, BackendOutcome::ok),           // replica 2 at the end of the run
        attempt(12, -1, 1400, 1600, BackendOutcome::reset),       // no replica named
        attempt(13, 9, 1400, 1600, BackendOutcome::reset),        // no such replica
    };
    run.fleet->attempts[7].status = 404;
    std::vector<StopWaterfall> stops = stop_waterfalls(run);
    ASSERT_EQ(stops.size(), 3u);   // every replica was signalled
    EXPECT_EQ(stops[0].replica, 0);
    EXPECT_EQ(stops[0].signalled_ns, kSignalNs);
    EXPECT_TRUE(stops[0].judged);
    // By start: 6 (1.3 s), 7 (1.4 s), 8 and 9 (1.42 s, as recorded), 5 (1.45 s).
    std::vector<uint64_t> requests;
    for (const InFlightAttempt& a : stops[0].in_flight) requests.push_back(a.attempt.request);
    EXPECT_EQ(requests, (std::vector<uint64_t>{6, 7, 8, 9, 5}));
    auto end_of = [&](size_t i) { return std::string(in_flight_end_name(stops[0].in_flight[i].end)); };
    EXPECT_EQ(end_of(0), "answered");
    EXPECT_EQ(end_of(1), "usual_status");
    EXPECT_EQ(end_of(2), "unanswered");
    EXPECT_EQ(end_of(3), "error_status");
    EXPECT_EQ(end_of(4), "unanswered");
    std::vector<bool> counted;
    for (const InFlightAttempt& a : stops[0].in_flight) counted.push_back(a.counted);
    EXPECT_EQ(counted, (std::vector<bool>{false, false, true, true, true}));
    // Exactly the attempts the verdict counts.
    std::vector<uint64_t> failed;
    for (const BackendAttempt* b : failed_by_stopping_replicas(run)) failed.push_back(b->request);
    std::sort(failed.begin(), failed.end());
    EXPECT_EQ(failed, (std::vector<uint64_t>{5, 8, 9}));
    run.scenario.expect.dropped_inflight = 0;
    EXPECT_EQ(only(run, "dropped_inflight").observed.rfind("3 failed by stopping replicas", 0), 0u);

    EXPECT_EQ(stops[1].replica, 1);
    EXPECT_TRUE(stops[1].in_flight.empty());
    ASSERT_EQ(stops[2].in_flight.size(), 1u);
    EXPECT_EQ(stops[2].in_flight[0].attempt.request, 11u);
    EXPECT_EQ(stops[2].in_flight[0].end, InFlightEnd::answered);
    EXPECT_FALSE(stops[2].in_flight[0].counted);
}

TEST(FleetChecks, StopWaterfallsShowAKilledReplicasAttemptsWithoutCountingThem) {
    RunResult run = fleet_run();
    run.fleet->replicas[0].stopped_by = "kill_replica";   // a crash drops by definition
    run.fleet->replicas[0].signal = SIGKILL;
    run.fleet->replicas[1].signalled_ns.reset();          // never signalled: no stop
    run.fleet->attempts = {attempt(7, 0, 1400, 1600, BackendOutcome::reset),
                           attempt(8, 0, 1450, 1500, BackendOutcome::refused)};
    std::vector<StopWaterfall> stops = stop_waterfalls(run);
    ASSERT_EQ(stops.size(), 2u);
    EXPECT_EQ(stops[0].replica, 0);
    EXPECT_FALSE(stops[0].judged);
    ASSERT_EQ(stops[0].in_flight.size(), 2u);
    EXPECT_EQ(stops[0].in_flight[0].end, InFlightEnd::unanswered);
    EXPECT_EQ(stops[0].in_flight[1].end, InFlightEnd::refused);
    EXPECT_FALSE(stops[0].in_flight[0].counted);
    EXPECT_FALSE(stops[0].in_flight[1].counted);
    EXPECT_TRUE(failed_by_stopping_replicas(run).empty());
    EXPECT_EQ(stops[1].replica, 2);

    run.fleet.reset();
    EXPECT_TRUE(stop_waterfalls(run).empty());
}

// ---- exit_code / exit_within ------------------------------------------------------------------

TEST(FleetChecks, ExitCodeIsJudgedOnlyForReplicasAFaultStoppedGracefully) {
    RunResult run = fleet_run();
    run.scenario.expect.exit_code = 0;
    // Stopped at the end of the run, or crashed on purpose: not judged.
    run.fleet->replicas[1].exit.code = 1;
    run.fleet->replicas[2].stopped_by = "kill_replica";
    run.fleet->replicas[2].exit.code.reset();
    run.fleet->replicas[2].exit.signal = SIGKILL;
    Assertion a = only(run, "exit_code");
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.expected, "0 for every replica a fault stopped");
    EXPECT_EQ(a.observed, "replica 0 code 0");

    run.fleet->replicas[0].exit.code = 1;
    a = only(run, "exit_code");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "1 of 1 stopped replicas did not exit 0: replica 0 code 1");

    // A rolling restart's replicas are judged too.
    run.fleet->replicas[0].exit.code = 0;
    run.fleet->replicas[1].stopped_by = "rolling_restart";
    a = only(run, "exit_code");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "replica 0 code 0; replica 1 code 1");
    EXPECT_EQ(a.reason, "1 of 2 stopped replicas did not exit 0: replica 1 code 1");

    run.fleet->replicas[1].exit.exited = false;   // still running
    EXPECT_TRUE(has(only(run, "exit_code").reason, "replica 1 still running"));
}

TEST(FleetChecks, ExitWithinIsMeasuredFromEachReplicasSignal) {
    RunResult run = fleet_run();
    run.fleet->replicas[1].stopped_by = "rolling_restart";   // signalled 4.1 s, exited 4.2 s
    run.fleet->replicas[2].exit.at_ns = 9000 * kMs;          // end of run: never judged
    run.scenario.expect.exit_within = Nanos(1s);
    Assertion a = only(run, "exit_within");
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.observed, "replica 0 500ms; replica 1 100ms");

    run.scenario.expect.exit_within = Nanos(400ms);
    a = only(run, "exit_within");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "replicas did not exit within 400ms of the stop signal: replica 0 500ms");
}

TEST(FleetChecks, ForcedExitFailsExitWithin) {
    RunResult run = fleet_run();
    ReplicaResult& r = run.fleet->replicas[0];
    r.exit.at_ns = kSignalNs + 900 * kMs;   // SIGKILLed by the harness, quickly enough in time
    r.exit.code.reset();
    r.exit.signal = SIGKILL;
    r.exit.forced = true;
    run.scenario.expect.exit_within = Nanos(10s);
    Assertion a = only(run, "exit_within");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "replica 0 900ms (forced)");
    EXPECT_TRUE(has(a.reason, "replica 0 900ms (forced)")) << a.reason;

    run.scenario.expect.exit_within.reset();
    run.scenario.expect.exit_code = 0;
    a = only(run, "exit_code");
    EXPECT_FALSE(a.passed);
    EXPECT_TRUE(has(a.reason, "replica 0 signal KILL (forced)")) << a.reason;

    r.exit.forced = false;
    r.exit.signal.reset();
    r.exit.code = 0;
    EXPECT_TRUE(only(run, "exit_code").passed);
    run.scenario.expect.exit_code.reset();
    run.scenario.expect.exit_within = Nanos(10s);
    EXPECT_TRUE(only(run, "exit_within").passed);
}

TEST(FleetChecks, NoReplicaStoppedByAFaultMeansNoExitCouldBeJudged) {
    RunResult run = fleet_run();
    run.fleet->replicas[0].stopped_by = "kill_replica";
    run.scenario.expect.exit_code = 0;
    run.scenario.expect.exit_within = Nanos(3s);
    std::vector<Assertion> as = check_fleet(run);
    ASSERT_EQ(as.size(), 2u);
    for (const Assertion& a : as) {
        EXPECT_FALSE(a.passed) << a.name;
        EXPECT_EQ(a.observed, "no replica was stopped by a fault") << a.name;
        EXPECT_EQ(a.reason, "no replica was stopped by a fault, so no exit could be judged") << a.name;
    }

    run.fleet->replicas[0].stopped_by = "scale_down";
    for (const Assertion& a : check_fleet(run)) EXPECT_TRUE(a.passed) << a.name << ": " << a.reason;
}

TEST(FleetChecks, ExitWithinNamesAStoppedReplicaThatWasNeverSignalled) {
    RunResult run = fleet_run();
    run.fleet->replicas[0].signalled_ns.reset();
    run.fleet->replicas[0].exit.exited = false;
    run.scenario.expect.exit_within = Nanos(3s);
    Assertion a = only(run, "exit_within");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "replica 0 was never signalled");
    EXPECT_EQ(a.reason, "replicas did not exit within 3s of the stop signal: replica 0 was never signalled");
}

// ---- capacity_restored_within ------------------------------------------------------------------

TEST(FleetChecks, CapacityRestoredWithinJudgesEachRollingRestartAndScaleUp) {
    RunResult run = fleet_run();
    run.fleet->faults = {{"rolling_restart", 1000 * kMs, 2500 * kMs, 2600 * kMs, 3}};
    run.scenario.expect.capacity_restored_within = Nanos(2s);
    Assertion a = only(run, "capacity_restored_within");
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.observed, "rolling_restart at +1s: 1.6s");

    // Late.
    run.scenario.expect.capacity_restored_within = Nanos(1s);
    a = only(run, "capacity_restored_within");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "capacity was not restored within 1s: rolling_restart at +1s: 1.6s");

    // Never restored, after one that was.
    run.scenario.expect.capacity_restored_within = Nanos(2s);
    run.fleet->faults.push_back({"scale_up", 3000 * kMs, 3000 * kMs, std::nullopt, 4});
    a = only(run, "capacity_restored_within");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "capacity was not restored within 2s: scale_up at +3s: 4 replicas never all took traffic");
}

TEST(FleetChecks, CapacityRestoredWithinNeedsAFaultThatAddsReplicas) {
    RunResult run = fleet_run();   // only a scale_down
    run.scenario.expect.capacity_restored_within = Nanos(2s);
    Assertion a = only(run, "capacity_restored_within");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "no scale_up, rolling_restart or platform operation ran");
}

// ---- max_p99_during_fault -----------------------------------------------------------------------

TEST(FleetChecks, MaxP99DuringFaultCountsOnlyRequestsStartedDuringTheFaults) {
    RunResult run = fleet_run();   // the scale_down runs from 1 s to 2 s
    run.records.clear();
    for (uint32_t i = 0; i < 50; ++i) run.records.push_back(rec(1000 + i * 20, 10, Outcome::ok, int(i % 3)));
    run.records.push_back(rec(500, 3000, Outcome::ok, 0));    // slow, but started before the fault
    run.records.push_back(rec(2100, 3000, Outcome::ok, 1));   // slow, after it
    run.scenario.expect.max_p99_during_fault = Nanos(100ms);
    Assertion a = only(run, "max_p99_during_fault");
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.observed, "10ms over 50 requests from +1s to +2s");

    run.records[7].end_us = 900'000;   // one slow request in 50 is the p99
    a = only(run, "max_p99_during_fault");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "p99 latency during the faults was 900ms (limit 100ms)");
    ASSERT_FALSE(a.evidence.empty());
    EXPECT_EQ(a.evidence.front(), 7u) << "the slowest first";
}

TEST(FleetChecks, MaxP99DuringFaultWindowEndsWithTheLastFault) {
    RunResult run = fleet_run();
    run.records = {rec(1100, 10, Outcome::ok), rec(2500, 900, Outcome::ok)};
    run.fleet->faults.push_back({"scale_up", 2400 * kMs, 2700 * kMs, 3000 * kMs, 3});
    run.scenario.expect.max_p99_during_fault = Nanos(100ms);
    Assertion a = only(run, "max_p99_during_fault");
    EXPECT_FALSE(a.passed) << "the slow request started during the second fault";
    EXPECT_TRUE(has(a.observed, "over 2 requests from +1s to +2.7s")) << a.observed;

    run.fleet->faults.clear();
    a = only(run, "max_p99_during_fault");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "no fleet fault ran");
}

// A fleet has no single stop signal: its phases are split by the time its faults ran, the same
// window max_p99_during_fault judges.
TEST(FleetChecks, PhasesOfAFleetRunAreBeforeDuringAndAfterItsFaults) {
    RunResult run = fleet_run();   // the scale_down runs from 1 s to 2 s
    run.fleet->faults.push_back({"scale_up", 2400 * kMs, 2700 * kMs, 3000 * kMs, 3});
    PhaseBounds bounds = phase_bounds(run);
    EXPECT_EQ(bounds.phase_of(rec(999, 5, Outcome::ok)), Phase::before);
    EXPECT_EQ(bounds.phase_of(rec(1000, 5, Outcome::ok)), Phase::draining);
    EXPECT_EQ(bounds.phase_of(rec(2200, 5, Outcome::ok)), Phase::draining) << "between two faults";
    EXPECT_EQ(bounds.phase_of(rec(2699, 5, Outcome::ok)), Phase::draining);
    EXPECT_EQ(bounds.phase_of(rec(2700, 5, Outcome::ok)), Phase::after);

    run.fleet->faults.back().done_ns.reset();   // never finished: its window lasts to the end of the load
    EXPECT_EQ(phase_bounds(run).phase_of(rec(3999, 5, Outcome::ok)), Phase::draining);

    run.fleet->faults.clear();   // no fault: one steady phase
    EXPECT_EQ(phase_bounds(run).phase_of(rec(3999, 5, Outcome::ok)), Phase::before);
}

// ---- stateless ---------------------------------------------------------------------------------

TEST(FleetChecks, StatelessPassesWhenEveryReadFindsTheState) {
    RunResult run = fleet_run();
    run.fleet->state_checks = {{100 * kMs, "before", 0, 1, 200, true, "id 42"}, {100 * kMs, "before", 0, 2, 200, true, "id 42"},
                               {3900 * kMs, "after", 1, 2, 200, true, "id 43"}};
    run.scenario.expect.stateless = true;
    Assertion a = only(run, "stateless");
    EXPECT_TRUE(a.passed) << a.reason;
    EXPECT_EQ(a.observed, "all 3 reads through other replicas found the state");

    run.scenario.expect.stateless = false;   // asserting the service keeps state per replica
    a = only(run, "stateless");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.reason, "every replica found the state created through another");
}

TEST(FleetChecks, StatelessFailsNamingTheReplicasOfAFailedRead) {
    RunResult run = fleet_run();
    run.fleet->state_checks = {{100 * kMs, "before", 0, 1, 200, true, "id 42"},
                               {100 * kMs, "before", 0, 2, 404, false, "404 Not Found"}};
    run.scenario.expect.stateless = true;
    Assertion a = only(run, "stateless");
    EXPECT_FALSE(a.passed);
    EXPECT_TRUE(has(a.reason, "created on replica 0, read on replica 2")) << a.reason;
    EXPECT_TRUE(has(a.reason, "before the faults")) << a.reason;
    EXPECT_TRUE(has(a.reason, "404")) << a.reason;
    EXPECT_EQ(a.observed, "1 of 2 reads failed: before the faults: created on replica 0, read on replica 2: 404 Not Found");

    run.scenario.expect.stateless = false;
    EXPECT_TRUE(only(run, "stateless").passed);

    run.fleet->state_checks.clear();   // nothing to judge
    a = only(run, "stateless");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "no state check ran");
}

// ---- the verdict of a fleet run ---------------------------------------------------------------

TEST(FleetChecks, MaxErrorRateInAFleetRunIsJudgedOverTheWholeRun) {
    RunResult run = fleet_run();
    // After replica 0's stop signal: a single-target run would leave these out of the error rate.
    run.records[12] = rec(2400, 5, Outcome::http_error, 1, 502);
    run.records[15] = rec(3000, 5, Outcome::refused, -1);
    run.scenario.expect.max_error_rate = 0.05;
    Verdict v = verify(run);
    ASSERT_EQ(v.assertions.size(), 1u);
    const Assertion& a = v.assertions[0];
    EXPECT_EQ(a.name, "max_error_rate");
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "10.00% (2 of 20)");
    EXPECT_EQ(a.evidence, (std::vector<size_t>{12, 15}));
    EXPECT_FALSE(v.passed);

    run.scenario.expect.max_error_rate = 0.1;
    EXPECT_TRUE(verify(run).passed);
}

TEST(FleetChecks, AFleetVerdictHasTheFleetAssertionsAndAFleetSummary) {
    RunResult run = fleet_run();
    run.scenario.expect.client_errors = 0;
    run.scenario.expect.dropped_inflight = 0;
    run.scenario.expect.exit_code = 0;
    run.scenario.expect.exit_within = Nanos(3s);
    EXPECT_EQ(fleet_facts(run), "0 of 20 requests failed for the client; 1 replica(s) stopped by faults");
    Verdict v = verify(run);
    EXPECT_TRUE(v.passed) << v.summary;
    ASSERT_EQ(v.assertions.size(), 4u);
    EXPECT_EQ(v.assertions[0].name, "client_errors");
    EXPECT_EQ(v.assertions[1].name, "dropped_inflight");
    EXPECT_EQ(v.assertions[2].name, "exit_code");
    EXPECT_EQ(v.assertions[3].name, "exit_within");
    EXPECT_EQ(v.summary, "PASS: 0 of 20 requests failed for the client; 1 replica(s) stopped by faults");

    run.fleet->replicas[1].stopped_by = "rolling_restart";
    run.records[3].outcome = Outcome::timeout;
    EXPECT_EQ(fleet_facts(run), "1 of 20 requests failed for the client; 2 replica(s) stopped by faults");
    v = verify(run);
    EXPECT_FALSE(v.passed);
    EXPECT_EQ(v.summary.rfind("FAIL: 1 requests failed for the client", 0), 0u) << v.summary;
}

TEST(FleetChecks, NothingFleetWithoutAFleet) {
    RunResult run = fleet_run();
    run.fleet->attempts = {attempt(7, 0, 1400, 1600, BackendOutcome::reset)};
    EXPECT_EQ(failed_by_stopping_replicas(run).size(), 1u);
    run.scenario.expect.client_errors = 0;
    run.fleet.reset();
    EXPECT_TRUE(check_fleet(run).empty());
    EXPECT_EQ(fleet_facts(run), "");
    EXPECT_TRUE(failed_by_stopping_replicas(run).empty());
}
