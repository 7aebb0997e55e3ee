#include "common/duration.h"

#include <gtest/gtest.h>

using namespace draincheck;
using namespace std::chrono_literals;

TEST(ParseDuration, EveryUnit) {
    EXPECT_EQ(parse_duration("7ns"), Nanos(7));
    EXPECT_EQ(parse_duration("15us"), Nanos(15us));
    EXPECT_EQ(parse_duration("250ms"), Nanos(250ms));
    EXPECT_EQ(parse_duration("10s"), Nanos(10s));
    EXPECT_EQ(parse_duration("1m"), Nanos(60s));
    EXPECT_EQ(parse_duration("2h"), Nanos(2h));
}

TEST(ParseDuration, Fractions) {
    EXPECT_EQ(parse_duration("1.5s"), Nanos(1500ms));
    EXPECT_EQ(parse_duration("0.5ms"), Nanos(500us));
    EXPECT_EQ(parse_duration("1.25m"), Nanos(75s));
    EXPECT_EQ(parse_duration("0.001s"), Nanos(1ms));
    EXPECT_EQ(parse_duration("0.3s"), Nanos(300ms));
    EXPECT_EQ(parse_duration("2.000000001s"), Nanos(2'000'000'001));
}

TEST(ParseDuration, CompoundsFromTheLargestUnitDown) {
    EXPECT_EQ(parse_duration("2m30s"), Nanos(150s));
    EXPECT_EQ(parse_duration("1h30m"), Nanos(90min));
    EXPECT_EQ(parse_duration("1s500ms"), Nanos(1500ms));
    EXPECT_EQ(parse_duration("1h2m3s4ms5us6ns"), Nanos(1h + 2min + 3s + 4ms + 5us + 6ns));
    EXPECT_EQ(parse_duration("1m90s"), Nanos(150s));   // components are not range-limited
}

TEST(ParseDuration, ZeroParsesSoCallersCanRejectIt) {
    EXPECT_EQ(parse_duration("0s"), Nanos(0));
    EXPECT_EQ(parse_duration("0ms"), Nanos(0));
    EXPECT_EQ(parse_duration("0.0h"), Nanos(0));
    EXPECT_EQ(parse_duration("010s"), Nanos(10s));
}

TEST(ParseDuration, RejectsWhatIsNotADuration) {
    for (const char* bad : {"", "10", "s", "ms10", "-1s", "+1s", "1.s", ".5s", "1..5s", "1.2.3s", "1,5s", "10 s",
                            " 10s", "10s ", "10sec", "10S", "10Ms", "1d", "1w", "1e3ms", "10µs", "nan", "infs",
                            "1s2m", "1s1s", "30s2m", "1ms1s", "1h1h"})
        EXPECT_FALSE(parse_duration(bad).has_value()) << '"' << bad << '"';
}

TEST(ParseDuration, RejectsWhatDoesNotFitInNanoseconds) {
    EXPECT_TRUE(parse_duration("2500000h").has_value());   // 9e18 ns, the largest accepted
    EXPECT_FALSE(parse_duration("2600000h").has_value());
    EXPECT_FALSE(parse_duration("99999999999999999999s").has_value());
    EXPECT_FALSE(parse_duration("1" + std::string(400, '0') + "s").has_value());
}

TEST(FormatDuration, PicksAReadableScale) {
    EXPECT_EQ(format_duration(Nanos(0)), "0ns");
    EXPECT_EQ(format_duration(Nanos(12)), "12ns");
    EXPECT_EQ(format_duration(Nanos(999)), "999ns");
    EXPECT_EQ(format_duration(Nanos(1us)), "1us");
    EXPECT_EQ(format_duration(Nanos(850us)), "850us");
    EXPECT_EQ(format_duration(Nanos(12300us)), "12.3ms");
    EXPECT_EQ(format_duration(Nanos(1'234'567)), "1.23ms");
    EXPECT_EQ(format_duration(Nanos(1250ms)), "1.25s");
    EXPECT_EQ(format_duration(Nanos(10s)), "10s");
    EXPECT_EQ(format_duration(Nanos(125s)), "2m05s");
    EXPECT_EQ(format_duration(Nanos(1h)), "1h00m00s");
    EXPECT_EQ(format_duration(Nanos(1h + 2min + 5s)), "1h02m05s");
    EXPECT_EQ(format_duration(Nanos(-1500ms)), "-1.5s");
}

TEST(FormatDuration, RoundingCarriesIntoTheNextUnit) {
    EXPECT_EQ(format_duration(Nanos(999'999)), "1ms");
    EXPECT_EQ(format_duration(Nanos(999'999'999)), "1s");
    EXPECT_EQ(format_duration(Nanos(59'999ms)), "1m00s");
    EXPECT_EQ(format_duration(Nanos(119'600ms)), "2m00s");
}

TEST(FormatDuration, ExtremesDoNotOverflow) {
    EXPECT_FALSE(format_duration(Nanos::max()).empty());
    EXPECT_EQ(format_duration(Nanos::min()).front(), '-');
}

TEST(FormatDuration, OutputParsesBackToTheSameValue) {
    for (Nanos d : {Nanos(7), Nanos(850us), Nanos(12300us), Nanos(1250ms), Nanos(10s), Nanos(125s),
                    Nanos(1h + 2min + 5s)})
        EXPECT_EQ(parse_duration(format_duration(d)), d) << format_duration(d);
}
