#include "load/outcome.h"

#include <gtest/gtest.h>

using namespace draincheck;

namespace {

ClassifyInput input(EndKind end, bool reused = false, uint32_t bytes = 0, uint32_t written_to_end_us = 5000) {
    ClassifyInput in;
    in.end = end;
    in.reused_connection = reused;
    in.response_bytes = bytes;
    in.written_to_end_us = written_to_end_us;
    in.closed_idle_window_us = 1000;
    return in;
}

}  // namespace

TEST(Outcome, CompleteResponsesByStatus) {
    ClassifyInput in = input(EndKind::complete);
    in.status = 200;
    EXPECT_EQ(classify(in), Outcome::ok);
    in.status = 404;
    EXPECT_EQ(classify(in), Outcome::ok);
    in.status = 503;
    EXPECT_EQ(classify(in), Outcome::http_error);
}

TEST(Outcome, ConnectFailures) {
    EXPECT_EQ(classify(input(EndKind::connect_refused)), Outcome::refused);
    EXPECT_EQ(classify(input(EndKind::connect_failed)), Outcome::connect_error);
    EXPECT_EQ(classify(input(EndKind::timed_out)), Outcome::timeout);
}

TEST(Outcome, CutAfterTheResponseStartedIsTruncated) {
    EXPECT_EQ(classify(input(EndKind::peer_closed, false, 120)), Outcome::truncated);
    EXPECT_EQ(classify(input(EndKind::peer_closed, true, 120, 10)), Outcome::truncated);
}

TEST(Outcome, NoResponseOnAFreshConnectionIsAlwaysADrop) {
    EXPECT_EQ(classify(input(EndKind::peer_closed, false, 0, 10)), Outcome::dropped);
    EXPECT_EQ(classify(input(EndKind::peer_closed, false, 0, 800'000)), Outcome::dropped);
}

TEST(Outcome, KeepAliveRaceOnlyWithinTheWindow) {
    EXPECT_EQ(classify(input(EndKind::peer_closed, true, 0, 40)), Outcome::closed_idle);
    EXPECT_EQ(classify(input(EndKind::peer_closed, true, 0, 1000)), Outcome::closed_idle);
    // The server held the request for longer than a race could: it was working on it.
    EXPECT_EQ(classify(input(EndKind::peer_closed, true, 0, 1001)), Outcome::dropped);
    EXPECT_EQ(classify(input(EndKind::write_failed, true, 0, 30)), Outcome::closed_idle);
    EXPECT_EQ(classify(input(EndKind::write_failed, false, 0, 30)), Outcome::send_error);
}

// A server that closes a connection with the request still unread in it makes its kernel send RST
// instead of FIN: it closed what it took for an idle connection, however late the reset comes (a
// busy event loop can take milliseconds to read what has arrived).
TEST(Outcome, AResetWithTheRequestUnreadIsTheRaceWhateverTheTime) {
    ClassifyInput in = input(EndKind::peer_closed, true, 0, 6000);
    in.reset_unread = true;
    EXPECT_EQ(classify(in), Outcome::closed_idle);
    in.end = EndKind::write_failed;
    EXPECT_EQ(classify(in), Outcome::closed_idle);
    // Not on a fresh connection (the listen backlog has its own rule), nor once a response started.
    in = input(EndKind::peer_closed, false, 0, 6000);
    in.reset_unread = true;
    EXPECT_EQ(classify(in), Outcome::dropped);
    in = input(EndKind::peer_closed, true, 120, 6000);
    in.reset_unread = true;
    EXPECT_EQ(classify(in), Outcome::truncated);
}

TEST(Outcome, NamesRoundTrip) {
    for (int o = 0; o < kOutcomeCount; ++o) EXPECT_EQ(outcome_from_name(outcome_name(Outcome(o))), Outcome(o));
    EXPECT_EQ(outcome_name(Outcome::closed_idle), "closed_idle");
    EXPECT_FALSE(outcome_from_name("lost").has_value());
    EXPECT_TRUE(is_inflight_drop(Outcome::dropped));
    EXPECT_TRUE(is_inflight_drop(Outcome::truncated));
    EXPECT_FALSE(is_inflight_drop(Outcome::refused));
    EXPECT_FALSE(is_inflight_drop(Outcome::closed_idle));
}
