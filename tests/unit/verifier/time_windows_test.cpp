// Every time window the verifier still uses (docs/outcomes.md "Time windows"), provoked on both sides
// of its edge, at the records' resolution (1 µs). The keep-alive race's window is in outcome_test
// (Outcome.KeepAliveRaceOnlyWithinTheWindow), the goodbye hold in goodbye_hold_test.
#include "verifier/verifier.h"
#include "stopped_run.h"

#include <gtest/gtest.h>

using namespace draincheck;

namespace {

constexpr int64_t kSignalNs = 2'000'000'000;        // TERM at 2 s
constexpr int64_t kListenerGoneNs = 2'100'000'000;  // the listener seen gone at 2.1 s
constexpr int64_t kExitNs = 2'500'000'000;

RunResult run_with(std::vector<RequestRecord> records) {
    RunResult run = draincheck::testing::stopped_run({RequestTemplate{"POST", "/orders", {}, "x", 1}}, std::move(records),
                                                     kSignalNs, kExitNs);
    run.events.push_back({EventType::listener_closed, kListenerGoneNs, "no socket listens"});
    run.scenario.expect.refused_after_close_clean = true;
    return run;
}

// A POST on a new connection, connected `connected_before_reset_us` before its reset (RST, nothing
// read), the reset at `reset_at_us` since the load started.
RequestRecord reset_in_backlog(int64_t reset_at_us, uint32_t connected_before_reset_us) {
    RequestRecord r;
    r.started_us = r.intended_us = uint32_t(reset_at_us - connected_before_reset_us - 10);
    r.connected_us = 10;
    r.end_us = connected_before_reset_us + 10;
    r.outcome = Outcome::dropped;
    r.flags = kPeerReset | kFullyWritten;
    r.connection_id = 1;
    return r;
}

// The backlog race is judged as a refusal by refused_after_close: clean inside the window, a
// violation outside it.
bool clean_refusal(const RequestRecord& r) { return verify(run_with({r})).passed; }

RequestRecord refused(uint32_t started_ms, uint32_t took_us) {
    RequestRecord r;
    r.started_us = r.intended_us = started_ms * 1000;
    r.end_us = took_us;
    r.outcome = Outcome::refused;
    r.connection_id = 1;
    return r;
}

}  // namespace

// The listen-backlog race: reset from 10 ms before to 2 ms after the listener was seen gone.
TEST(TimeWindows, BacklogResetFrom10msBeforeTheListenerWasSeenGone) {
    constexpr int64_t gone_us = kListenerGoneNs / 1000;
    EXPECT_TRUE(clean_refusal(reset_in_backlog(gone_us - 10'000, 100)));
    EXPECT_FALSE(clean_refusal(reset_in_backlog(gone_us - 10'001, 100)));
}

TEST(TimeWindows, BacklogResetUntil2msAfterTheListenerWasSeenGone) {
    constexpr int64_t gone_us = kListenerGoneNs / 1000;
    EXPECT_TRUE(clean_refusal(reset_in_backlog(gone_us + 2'000, 100)));
    EXPECT_FALSE(clean_refusal(reset_in_backlog(gone_us + 2'001, 100)));
}

TEST(TimeWindows, BacklogResetOnlyForAConnectionMadeAtMost10msBeforeIt) {
    constexpr int64_t gone_us = kListenerGoneNs / 1000;
    EXPECT_TRUE(clean_refusal(reset_in_backlog(gone_us, 10'000)));
    EXPECT_FALSE(clean_refusal(reset_in_backlog(gone_us, 10'001)));   // accepted, then dropped with the process
}

// A refusal after the stop signal is clean when it is prompt: under a second.
TEST(TimeWindows, ARefusalIsPromptUnderOneSecond) {
    EXPECT_TRUE(clean_refusal(refused(2200, 999'999)));
    EXPECT_FALSE(clean_refusal(refused(2200, 1'000'000)));
}

// A new connection after the signal that waited in the accept queue longer than 10 ms (a busy server accepts slowly) is
// known by the queue's length when the listener was last seen open: the latest connections made
// before that moment were the ones waiting.
namespace {

constexpr int64_t kLastSeenNs = kListenerGoneNs - 2'000'000;

bool clean_with_queue(std::vector<RequestRecord> records, uint32_t queued) {
    RunResult run = run_with(std::move(records));
    run.listener_last_seen = ListenerSeen{kLastSeenNs, queued};
    return verify(run).passed;
}

RequestRecord waited_in_queue(uint32_t id, int64_t reset_at_us, uint32_t connected_before_reset_us) {
    RequestRecord r = reset_in_backlog(reset_at_us, connected_before_reset_us);
    r.connection_id = id;
    return r;
}

}  // namespace

TEST(TimeWindows, BacklogResetAfterAnyWaitWhenTheKernelSaidItWasQueued) {
    constexpr int64_t gone_us = kListenerGoneNs / 1000;
    EXPECT_TRUE(clean_with_queue({waited_in_queue(1, gone_us, 50'000)}, 1));
    EXPECT_FALSE(clean_with_queue({waited_in_queue(1, gone_us, 50'000)}, 0));   // nothing was waiting
}

TEST(TimeWindows, BacklogResetCountsOnlyTheLatestConnectionsAsQueued) {
    constexpr int64_t gone_us = kListenerGoneNs / 1000;
    // Two connections reset at the close, one slot in the queue: the older one had been accepted.
    std::vector<RequestRecord> both{waited_in_queue(1, gone_us, 60'000), waited_in_queue(2, gone_us, 50'000)};
    EXPECT_FALSE(clean_with_queue(both, 1));
    EXPECT_TRUE(clean_with_queue(both, 2));
    // A connection made after the listener was last seen was not one of those the kernel counted,
    // so it takes no slot (its own reset is judged by its 1 ms wait).
    std::vector<RequestRecord> later{waited_in_queue(1, gone_us, 50'000), waited_in_queue(2, gone_us, 1'000)};
    EXPECT_TRUE(clean_with_queue(later, 1));
}

TEST(TimeWindows, BacklogResetOfAQueuedConnectionThatWaitedAtMost100ms) {
    constexpr int64_t gone_us = kListenerGoneNs / 1000;
    EXPECT_TRUE(clean_with_queue({waited_in_queue(1, gone_us + 1'000, 100'000)}, 1));
    // Left longer in the backlog of a listener nothing served: a request the service dropped.
    EXPECT_FALSE(clean_with_queue({waited_in_queue(1, gone_us + 1'000, 100'001)}, 1));
}

TEST(TimeWindows, BacklogResetOfAQueuedConnectionFromTheMomentTheListenerWasLastSeen) {
    constexpr int64_t last_seen_us = kLastSeenNs / 1000;
    EXPECT_TRUE(clean_with_queue({waited_in_queue(1, last_seen_us, 50'000)}, 1));
    EXPECT_FALSE(clean_with_queue({waited_in_queue(1, last_seen_us - 1, 50'000)}, 1));   // the listener was open
}
