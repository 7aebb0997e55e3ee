// dropped_inflight counts every request in flight at the stop signal that did not end ok, kind by
// kind, with hand-built records: no sockets, no processes.
#include "verifier/breakdown.h"
#include "verifier/verifier.h"
#include "stopped_run.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

using namespace draincheck;

namespace {

constexpr int64_t kSignalNs = 2'000'000'000;   // TERM at 2 s
constexpr int64_t kExitNs = 2'500'000'000;     // exit at 2.5 s

// A request of [[load.mix]] entry `tmpl` (0: GET /work, 1: GET /), started and ended at these times,
// answered with `status` (0: no answer).
RequestRecord rec(uint32_t started_ms, uint32_t ended_ms, Outcome o, uint16_t status = 0, uint8_t tmpl = 0) {
    RequestRecord r;
    r.intended_us = r.started_us = started_ms * 1000;
    r.end_us = (ended_ms - started_ms) * 1000;
    r.outcome = o;
    r.status = status;
    r.connection_id = 1;
    r.template_index = tmpl;
    return r;
}

RequestRecord ok(uint32_t started_ms, uint32_t ended_ms, uint16_t status = 200, uint8_t tmpl = 0) {
    return rec(started_ms, ended_ms, Outcome::ok, status, tmpl);
}

RunResult run_with(std::vector<RequestRecord> records) {
    RunResult run = draincheck::testing::stopped_run(
        {RequestTemplate{"GET", "/work?ms=800", {}, "", 1}, RequestTemplate{"GET", "/", {}, "", 1}}, std::move(records),
        kSignalNs, kExitNs);
    run.scenario.expect.dropped_inflight = 0;
    return run;
}

Assertion dropped_inflight(const RunResult& run) {
    Verdict v = verify(run);
    EXPECT_EQ(v.assertions.size(), 1u);
    return v.assertions.empty() ? Assertion{} : v.assertions.front();
}

// The breakdown's entry for `kind`, or an empty one.
Tally tally(const Assertion& a, const std::string& kind) {
    for (const Tally& t : a.breakdown)
        if (t.kind == kind) return t;
    return {};
}

}  // namespace

TEST(InflightFailures, AnErrorStatusInFlightCounts) {
    // Every request in flight at TERM answered 503 at once: nothing cut on the wire, nothing served.
    RunResult run = run_with({ok(1000, 1800), rec(1500, 2001, Outcome::http_error, 503),
                              rec(1600, 2001, Outcome::http_error, 503), ok(1900, 1901, 200, 1)});
    Assertion a = dropped_inflight(run);
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "2 (0 dropped, 0 truncated, 2 http_error 503 in flight)");
    EXPECT_EQ(a.evidence, (std::vector<size_t>{1, 2}));
    Tally t = tally(a, "http_error 503 in flight");
    EXPECT_EQ(t.count, 2u);
    EXPECT_TRUE(t.counted);
    EXPECT_EQ(t.requests, (std::vector<size_t>{1, 2}));
    EXPECT_EQ(a.reason, "2 requests failed in flight, first 1ms after TERM");
}

TEST(InflightFailures, ATimeoutInFlightCounts) {
    // Abandoned at TERM: never answered, the client gave up.
    RunResult run = run_with({ok(1000, 1800), rec(1500, 5500, Outcome::timeout)});
    Assertion a = dropped_inflight(run);
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "1 (0 dropped, 0 truncated, 1 timeout in flight)");
    EXPECT_EQ(a.evidence, std::vector<size_t>{1});
    EXPECT_EQ(tally(a, "timeout in flight").count, 1u);
}

TEST(InflightFailures, ASendErrorInFlightCounts) {
    RunResult run = run_with({rec(1999, 2003, Outcome::send_error)});
    Assertion a = dropped_inflight(run);
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(tally(a, "send_error in flight").count, 1u);
}

TEST(InflightFailures, ARequestThatEndedOkInFlightDoesNotCount) {
    RunResult run = run_with({ok(1000, 1800), ok(1500, 2300), ok(1900, 2700)});
    Assertion a = dropped_inflight(run);
    EXPECT_TRUE(a.passed) << a.observed;
    EXPECT_EQ(a.observed, "0 (0 dropped, 0 truncated)");
    EXPECT_TRUE(a.evidence.empty());
}

TEST(InflightFailures, OnlyRequestsInFlightAtTheSignalAreJudgedByHowTheyEnded) {
    // A 503 that ended before TERM is max_error_rate's; a timeout started after it is refused_after_close's
    // (a new connection) or the draining service's business, not the drain of what was in flight.
    RunResult run = run_with({rec(1000, 1999, Outcome::http_error, 503), rec(2100, 6100, Outcome::timeout),
                              rec(1500, 2100, Outcome::refused)});
    Assertion a = dropped_inflight(run);
    EXPECT_TRUE(a.passed) << a.observed;
    // Started before TERM, ended at it: in flight.
    run.records.push_back(rec(1500, 2000, Outcome::http_error, 502));
    EXPECT_EQ(dropped_inflight(run).observed, "1 (0 dropped, 0 truncated, 1 http_error 502 in flight)");
}

TEST(InflightFailures, AClientStatusCountsWhenTheSameRequestNeverGotItBeforeTheSignal) {
    // /work answered 200 before TERM, then 429 to a request in flight: the drain's doing.
    RunResult run = run_with({ok(1000, 1800), ok(1500, 2300, 429)});
    Assertion a = dropped_inflight(run);
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(a.observed, "1 (0 dropped, 0 truncated, 1 status 429 in flight, which the same request never got before TERM)");
    // Another request kind's 429 before TERM says nothing about this one.
    run.records.insert(run.records.begin(), ok(900, 950, 429, 1));
    EXPECT_FALSE(dropped_inflight(run).passed);
}

TEST(InflightFailures, AClientStatusTheSameRequestGotBeforeTheSignalIsAnAnswer) {
    // /work answered 429 before TERM too: the service's usual answer, which a client acts on.
    RunResult run = run_with({ok(1000, 1800, 429), ok(1500, 2300, 429)});
    Assertion a = dropped_inflight(run);
    EXPECT_TRUE(a.passed) << a.observed;
    EXPECT_EQ(a.observed, "0 (0 dropped, 0 truncated)");
}

TEST(InflightFailures, AnErrorStatusTheSameRequestGotBeforeTheSignalIsShownNotCounted) {
    // /work answered 500 before TERM as well: its usual answer, shown but not the drain's failure.
    RunResult run = run_with({rec(1000, 1800, Outcome::http_error, 500), rec(1500, 2300, Outcome::http_error, 500)});
    Assertion a = dropped_inflight(run);
    EXPECT_TRUE(a.passed) << a.observed;
    EXPECT_EQ(a.observed, "0 (0 dropped, 0 truncated); 1 http_error 500 in flight, which the same request also got "
                          "before TERM: not counted");
    Tally t = tally(a, "http_error 500 in flight, which the same request also got before TERM");
    EXPECT_EQ(t.count, 1u);
    EXPECT_FALSE(t.counted);
    EXPECT_EQ(t.requests, std::vector<size_t>{1});
    EXPECT_TRUE(a.evidence.empty());

    // Another status than the one it got before: counted.
    run.records[1].status = 503;
    EXPECT_FALSE(dropped_inflight(run).passed);
    // The same status, but only another request kind got it before TERM: counted.
    run.records[1].status = 500;
    run.records[0].template_index = 1;
    a = dropped_inflight(run);
    EXPECT_FALSE(a.passed);
    EXPECT_EQ(tally(a, "http_error 500 in flight").count, 1u);
}

TEST(InflightFailures, EvidenceDrawsFromEveryCountedKind) {
    std::vector<RequestRecord> records;
    for (uint32_t i = 0; i < 20; ++i) records.push_back(rec(1500 + i, 2100, Outcome::dropped));
    records.push_back(rec(1600, 5600, Outcome::timeout));
    records.push_back(rec(1700, 2001, Outcome::http_error, 503));
    RunResult run = run_with(records);
    Assertion a = dropped_inflight(run);
    EXPECT_EQ(a.observed, "22 (20 dropped, 0 truncated, 1 timeout in flight, 1 http_error 503 in flight)");
    ASSERT_EQ(a.evidence.size(), 10u);
    EXPECT_EQ(a.evidence.front(), 0u);
    EXPECT_TRUE(std::count(a.evidence.begin(), a.evidence.end(), 20u)) << "the timeout";
    EXPECT_TRUE(std::count(a.evidence.begin(), a.evidence.end(), 21u)) << "the 503";
    EXPECT_TRUE(std::is_sorted(a.evidence.begin(), a.evidence.end()));
}

TEST(InflightFailures, BreakdownLinesNameEveryKindWithItsRequests) {
    RunResult run = run_with({rec(1000, 1800, Outcome::http_error, 500), rec(1500, 2300, Outcome::http_error, 500),
                              rec(1600, 5600, Outcome::timeout)});
    std::vector<std::string> lines = breakdown_lines(dropped_inflight(run).breakdown);
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "1 timeout in flight: #2",
                         "1 http_error 500 in flight, which the same request also got before TERM: not counted: #1"}));
}
