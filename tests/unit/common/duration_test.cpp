#include "common/duration.h"
#include "common/signals.h"

#include <gtest/gtest.h>

#include <csignal>

using namespace draincheck;
using namespace std::chrono_literals;

TEST(Duration, ParsesEveryUnit) {
    EXPECT_EQ(parse_duration("250ms"), Nanos(250ms));
    EXPECT_EQ(parse_duration("10s"), Nanos(10s));
    EXPECT_EQ(parse_duration("1m"), Nanos(60s));
    EXPECT_EQ(parse_duration("2h"), Nanos(2h));
    EXPECT_EQ(parse_duration("15us"), Nanos(15us));
    EXPECT_EQ(parse_duration("7ns"), Nanos(7));
    EXPECT_EQ(parse_duration("1.5s"), Nanos(1500ms));
    EXPECT_EQ(parse_duration("2m30s"), Nanos(150s));
    EXPECT_EQ(parse_duration("0s"), Nanos(0));
}

TEST(Duration, RejectsWhatIsNotADuration) {
    for (const char* bad : {"", "10", "s", "-1s", "+1s", "1.s", ".5s", "1..5s", "10 s", "10sec", "1d", "ms10", "1e3ms"})
        EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
}

TEST(Duration, FormatsForHumans) {
    EXPECT_EQ(format_duration(Nanos(850us)), "850us");
    EXPECT_EQ(format_duration(Nanos(12300us)), "12.3ms");
    EXPECT_EQ(format_duration(Nanos(1250ms)), "1.25s");
    EXPECT_EQ(format_duration(Nanos(10s)), "10s");
    EXPECT_EQ(format_duration(Nanos(125s)), "2m05s");
    EXPECT_EQ(format_duration(Nanos(12)), "12ns");
}

TEST(Signals, NamesBothWays) {
    EXPECT_EQ(signal_from_name("TERM"), SIGTERM);
    EXPECT_EQ(signal_from_name("sigint"), SIGINT);
    EXPECT_EQ(signal_from_name("SIGQUIT"), SIGQUIT);
    EXPECT_EQ(signal_from_name("kill"), SIGKILL);
    EXPECT_FALSE(signal_from_name("TERMINATE").has_value());
    EXPECT_FALSE(signal_from_name("").has_value());
    EXPECT_EQ(signal_name(SIGTERM), "TERM");
    EXPECT_EQ(signal_name(SIGSTOP), "STOP");
    for (const auto& name : supported_signal_names()) EXPECT_EQ(signal_name(*signal_from_name(name)), name);
}
