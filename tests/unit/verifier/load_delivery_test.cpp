// The load delivered against the load asked for, from hand-built records: each shortfall warns when
// it happened, and stays silent when it did not.
#include "verifier/load_delivery.h"

#include "common/duration.h"
#include "verifier/run_result.h"
#include "verifier/verifier.h"

#include <gtest/gtest.h>

using namespace draincheck;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kLoadStartNs = 50'000'000;   // the load starts 50 ms into the run

// An open-loop run at `rate` req/s for `seconds`, every request sent on time and answered.
RunResult on_schedule(double rate, int seconds) {
    RunResult run;
    run.scenario.load.mode = LoadSpec::Mode::rate;
    run.scenario.load.rate = rate;
    run.scenario.load.duration = std::chrono::seconds(seconds);
    run.load_started_ns = kLoadStartNs;
    run.load_sending_stopped_ns = kLoadStartNs + int64_t(seconds) * 1'000'000'000;
    for (int64_t n = 0; n < int64_t(rate * seconds); ++n) {
        RequestRecord r;
        r.intended_us = uint32_t((kLoadStartNs + n * int64_t(1e9 / rate)) / 1000);
        r.started_us = r.intended_us;
        r.end_us = 1000;
        r.connection_id = 1;
        r.status = 200;
        run.records.push_back(r);
    }
    return run;
}

std::vector<std::string> warnings_of(const RunResult& run) {
    return load_shortfall_warnings(measure_load_delivery(run));
}

// The one warning `run` gets ("" when it gets none or several).
std::string only_warning(const RunResult& run) {
    auto w = warnings_of(run);
    EXPECT_EQ(w.size(), 1u) << ::testing::PrintToString(w);
    return w.size() == 1 ? w[0] : "";
}

bool mentions(const std::vector<std::string>& warnings, const std::string& needle) {
    for (const std::string& w : warnings)
        if (w.find(needle) != std::string::npos) return true;
    return false;
}

// Records started in [from_s, to_s) of the load.
template <typename F>
void for_started_between(RunResult& run, double from_s, double to_s, F&& f) {
    for (RequestRecord& r : run.records) {
        double at = (double(r.started_us) * 1000 - double(kLoadStartNs)) / 1e9;
        if (at >= from_s && at < to_s) f(r);
    }
}

}  // namespace

TEST(LoadDelivery, ALoadDeliveredAsAskedHasNoWarning) {
    RunResult run = on_schedule(200, 3);
    LoadDelivery d = measure_load_delivery(run);
    EXPECT_EQ(d.sent, 600u);
    EXPECT_EQ(d.whole_seconds, 3u);
    EXPECT_DOUBLE_EQ(d.achieved_rate, 200.0);
    EXPECT_EQ(d.overrun_ns, 0);
    EXPECT_TRUE(load_shortfall_warnings(d).empty());
}

TEST(LoadDelivery, ASecondBelow95PercentOfTheRateWarnsNamingIt) {
    RunResult run = on_schedule(200, 3);
    // 11 requests of the second second (1-2 s) go out only in the third: 189 of 200 left, 94.5 %.
    int moved = 0;
    for_started_between(run, 1.9, 2.0, [&](RequestRecord& r) {
        if (moved++ < 11) r.started_us += 100'000;
    });
    EXPECT_EQ(only_warning(run), "the load fell below 95% of the requested 200 req/s in 1 of 3 whole seconds (1-2s: "
                                 "189 sent of 200); achieved 200 req/s: the verdict was reached under less load than asked for");
}

TEST(LoadDelivery, ASecondAt95PercentOfTheRateDoesNotWarn) {
    RunResult run = on_schedule(200, 3);
    int removed = 0;   // 10 requests of 200 never made: 95 % exactly
    std::erase_if(run.records, [&](const RequestRecord& r) {
        double at = (double(r.started_us) * 1000 - double(kLoadStartNs)) / 1e9;
        return at >= 1.5 && at < 2.0 && removed++ < 10;
    });
    EXPECT_TRUE(measure_load_delivery(run).seconds_below_rate.empty());
    EXPECT_TRUE(warnings_of(run).empty());
}

TEST(LoadDelivery, OnlyWholeSecondsOfTheScheduleAreHeldToTheRate) {
    // Stopped 1.5 s into a 3 s load (the target had exited): only its first second is whole.
    RunResult run = on_schedule(200, 3);
    run.load_sending_stopped_ns = kLoadStartNs + 1'500'000'000;
    std::erase_if(run.records, [](const RequestRecord& r) { return int64_t(r.started_us) * 1000 >= kLoadStartNs + 1'500'000'000; });
    LoadDelivery d = measure_load_delivery(run);
    EXPECT_EQ(d.whole_seconds, 1u);
    EXPECT_TRUE(load_shortfall_warnings(d).empty());
    // The same first second with half its requests missing falls short.
    std::erase_if(run.records, [](const RequestRecord& r) { return r.intended_us % 10'000 != 0; });
    EXPECT_TRUE(mentions(warnings_of(run), "0-1s: 100 sent of 200"));
}

TEST(LoadDelivery, RequestsThatWaitedForAConnectionWarnWithTheLongestWait) {
    RunResult run = on_schedule(200, 3);
    run.scenario.load.max_connections = 64;
    EXPECT_TRUE(warnings_of(run).empty());
    run.records[10].flags |= kWaitedForConnection;
    run.records[10].started_us += 30'000;
    run.records[11].flags |= kWaitedForConnection;
    run.records[11].started_us += 250'000;
    run.records[12].flags |= kWaitedForConnection | kLocalTimeout;   // waited past its timeout: never sent
    run.records[12].connection_id = 0;
    run.records[12].end_us = 10'000'000;
    run.requests_not_sent = 5;   // still waiting when the load stopped
    LoadDelivery d = measure_load_delivery(run);
    EXPECT_EQ(d.waited_for_connection, 8u);
    EXPECT_EQ(d.never_sent, 6u);
    EXPECT_EQ(d.longest_wait_ns, 10'000'000'000);
    EXPECT_EQ(d.sent, 599u);
    EXPECT_EQ(d.sent_late, 0u) << "waiting for a connection is its own warning";
    EXPECT_EQ(only_warning(run), "8 requests waited for a free connection (max_connections = 64 were open), the longest 10s; "
                    "6 of them were never sent");
}

TEST(LoadDelivery, RequestsSentLaterThanTheBoundWarn) {
    RunResult run = on_schedule(200, 3);
    uint32_t bound_us = uint32_t(std::chrono::microseconds(kLateSendBound).count());
    run.records[100].started_us += bound_us;   // exactly at the bound: not late
    run.records[101].started_us += bound_us - 1;
    run.records[102].started_us += 180'000;    // a busy machine's hiccup
    EXPECT_TRUE(warnings_of(run).empty());
    run.records[300].started_us += bound_us + 1;
    run.records[301].started_us += bound_us + 40'000;
    EXPECT_EQ(only_warning(run), "2 requests were sent more than " + format_duration(kLateSendBound) +
                                     " after their scheduled time, the latest " +
                                     format_duration(kLateSendBound + std::chrono::milliseconds(40)) +
                                     " late: the load generator did not keep to its schedule");
}

TEST(LoadDelivery, ALoadThatKeptSendingPastItsDurationWarns) {
    RunResult run = on_schedule(200, 3);
    int64_t end = run.load_sending_stopped_ns;
    run.load_sending_stopped_ns = end + std::chrono::nanoseconds(kOverrunTolerance).count();
    EXPECT_TRUE(warnings_of(run).empty()) << "within the tolerance";
    run.load_sending_stopped_ns = end + 2'600'000'000;
    EXPECT_EQ(only_warning(run), "the load overran its 3s duration: it was still sending new requests 2.6s after it");
    EXPECT_EQ(measure_load_delivery(run).overrun_ns, 2'600'000'000);
}

// Closed loop asks for connections, not a rate: however few requests went out, and however they were
// spaced, only an overrun is a shortfall.
TEST(LoadDelivery, ClosedLoopWarnsOnlyOfAnOverrun) {
    RunResult run = on_schedule(200, 3);
    run.scenario.load.mode = LoadSpec::Mode::connections;
    std::erase_if(run.records, [](const RequestRecord& r) { return r.intended_us % 20'000 != 0; });
    for (RequestRecord& r : run.records) r.started_us += uint32_t(std::chrono::microseconds(kLateSendBound).count()) + 1;
    LoadDelivery d = measure_load_delivery(run);
    EXPECT_FALSE(d.open_loop);
    EXPECT_EQ(d.whole_seconds, 0u);
    EXPECT_TRUE(load_shortfall_warnings(d).empty());
    run.load_sending_stopped_ns += std::chrono::nanoseconds(kOverrunTolerance).count() + 1;
    EXPECT_NE(only_warning(run).find("overran"), std::string::npos);
}

// The shortfalls are the verdict's warnings, next to the others, and the verdict carries the figures
// the reports show.
TEST(LoadDelivery, ShortfallsAreWarningsOfTheVerdict) {
    RunResult run = on_schedule(200, 2);
    run.scenario.load.rate = 1e7;   // asked for; 200 req/s went out
    run.scenario.expect.exit_code = 0;
    run.exit.exited = true;
    run.exit.code = 0;
    Verdict v = verify(run);
    EXPECT_TRUE(v.passed) << "the verdict is still reached";
    EXPECT_EQ(v.summary, "PASS: 0 of 400 requests dropped; exited 0 (reached under less load than asked for: 1 warning)");
    EXPECT_EQ(v.load.sent, 400u);
    EXPECT_DOUBLE_EQ(v.load.achieved_rate, 200.0);
    EXPECT_TRUE(mentions(v.warnings, "below 95% of the requested 10000000 req/s in 2 of 2 whole seconds (0-1s: 200 sent of "
                                     "10000000; 1-2s: 200 sent of 10000000); achieved 200 req/s"))
        << ::testing::PrintToString(v.warnings);
}
