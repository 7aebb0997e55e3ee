// [[dependencies]], the dependency and toxic faults, and the dependency expectations.
#include "scenario/scenario_parser.h"
#include "parse_error_support.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace draincheck {
namespace {

const std::string kBase = "[target]\ncommand = [\"x\"]\n[load]\nduration = \"10s\"\n";   // lines 1-4
const std::string kRedis = "[[dependencies]]\nname = \"redis\"\ncommand = [\"redis-server\", \"--port\", \"{port}\"]\n";  // 5-7

std::string fault(const std::string& body) { return "[[faults]]\nat = \"1s\"\n" + body; }

TEST(DependenciesParser, ReadsADependencyWithItsDefaults) {
    Scenario s = parse_scenario_text(kBase + kRedis + "env = { REDIS_URL = \"redis://127.0.0.1:{proxy_port}\" }\n", "t.toml");
    ASSERT_EQ(s.dependencies.size(), 1u);
    const DependencySpec& d = s.dependencies[0];
    EXPECT_EQ(d.name, "redis");
    EXPECT_EQ(d.command, (std::vector<std::string>{"redis-server", "--port", "{port}"}));
    EXPECT_EQ(d.ready.kind, DependencySpec::Ready::Kind::tcp);
    EXPECT_EQ(d.env.at("REDIS_URL"), "redis://127.0.0.1:{proxy_port}");
    EXPECT_EQ(d.line, 5);
}

TEST(DependenciesParser, ReadyByCommand) {
    Scenario s = parse_scenario_text(kBase + kRedis + "ready = { command = [\"redis-cli\", \"-p\", \"{port}\", \"ping\"], timeout = \"3s\" }\n", "t.toml");
    EXPECT_EQ(s.dependencies[0].ready.kind, DependencySpec::Ready::Kind::command);
    EXPECT_EQ(s.dependencies[0].ready.command.back(), "ping");
    EXPECT_EQ(s.dependencies[0].ready.timeout, std::chrono::seconds(3));
}

TEST(DependenciesParser, MissingCommandIsNamed) {
    EXPECT_TRUE(fails_with(kBase + "[[dependencies]]\nname = \"redis\"\n", 5, 1, "dependencies[0].command: missing required"));
}

TEST(DependenciesParser, DuplicateNamesAreRefused) {
    EXPECT_TRUE(fails_with(kBase + kRedis + kRedis, 9, 8,
                           "dependencies[1].name: \"redis\" is already the name of the dependency declared at line 5"));
}

TEST(DependenciesParser, AVariableReachesTheTargetFromOnePlaceOnly) {
    std::string text = "[target]\ncommand = [\"x\"]\nenv = { REDIS_URL = \"a\" }\n[load]\nduration = \"10s\"\n" + kRedis +
                       "env = { REDIS_URL = \"b\" }\n";
    EXPECT_TRUE(fails_with(text, 9, 21, "dependencies[0].env.REDIS_URL: already set by target.env"));
}

TEST(DependenciesParser, FaultOnAnUnknownDependencyNamesTheKnownOnes) {
    EXPECT_TRUE(fails_with(kBase + kRedis + fault("action = \"kill_dependency\"\ndependency = \"postgres\"\n"), 11, 14,
                           "faults[0].dependency: unknown dependency \"postgres\"; known: redis"));
    EXPECT_TRUE(fails_with(kBase + fault("action = \"kill_dependency\"\ndependency = \"redis\"\n"), 8, 14,
                           "none are declared"));
}

TEST(DependenciesParser, ToxicsAreReadWithTheirKeys) {
    Scenario s = parse_scenario_text(kBase + kRedis + fault("action = \"toxic\"\ndependency = \"redis\"\ntoxic = \"latency\"\n"
                                                            "latency = \"50ms\"\njitter = \"5ms\"\ndirection = \"both\"\nuntil = \"4s\"\n"),
                                     "t.toml");
    ASSERT_EQ(s.faults.size(), 1u);
    ASSERT_TRUE(s.faults[0].toxic);
    EXPECT_EQ(s.faults[0].toxic->kind, ToxicSpec::Kind::latency);
    EXPECT_EQ(s.faults[0].toxic->latency, std::chrono::milliseconds(50));
    EXPECT_EQ(s.faults[0].toxic->jitter, std::chrono::milliseconds(5));
    EXPECT_EQ(s.faults[0].toxic->direction, ToxicSpec::Direction::both);
    EXPECT_EQ(s.faults[0].until, std::chrono::seconds(4));
    Scenario b = parse_scenario_text(kBase + kRedis + fault("action = \"toxic\"\ndependency = \"redis\"\ntoxic = \"bandwidth\"\nrate = 64\n"), "t.toml");
    EXPECT_EQ(b.faults[0].toxic->rate, 64'000u);
}

TEST(DependenciesParser, NegativeLatencyIsRefused) {
    EXPECT_TRUE(fails_with(kBase + kRedis + fault("action = \"toxic\"\ndependency = \"redis\"\ntoxic = \"latency\"\nlatency = \"-50ms\"\n"),
                           13, 11, "faults[0].latency: expected a duration >= 0, got \"-50ms\""));
}

TEST(DependenciesParser, KeysOfOtherActionsOrToxicsAreRefused) {
    EXPECT_TRUE(fails_with(kBase + kRedis + fault("action = \"toxic\"\ndependency = \"redis\"\ntoxic = \"blackhole\"\nlatency = \"5ms\"\n"),
                           13, 11, "faults[0].latency: not used by toxic \"blackhole\""));
    EXPECT_TRUE(fails_with(kBase + kRedis + fault("action = \"signal\"\nsignal = \"TERM\"\ndependency = \"redis\"\n"), 12, 14,
                           "faults[0].dependency: not used by action \"signal\""));
    EXPECT_TRUE(fails_with(kBase + kRedis + fault("action = \"toxic\"\ndependency = \"redis\"\ntoxic = \"latency\"\n"), 8, 1,
                           "faults[0].latency: missing required value for toxic \"latency\""));
    EXPECT_TRUE(fails_with(kBase + kRedis + fault("action = \"toxic\"\ndependency = \"redis\"\ntoxic = \"lag\"\n"), 12, 9,
                           "unknown toxic \"lag\"; known toxics: latency, bandwidth, blackhole, reset_peer, slow_close, limit_data"));
}

TEST(DependenciesParser, UntilMustComeAfterAt) {
    EXPECT_TRUE(fails_with(kBase + kRedis + fault("action = \"toxic\"\ndependency = \"redis\"\ntoxic = \"blackhole\"\nuntil = \"1s\"\n"),
                           13, 9, "faults[0].until: expected a time after `at` (1s)"));
}

TEST(DependenciesParser, DependencyExpectationsNeedWhatTheyJudge) {
    EXPECT_TRUE(fails_with(kBase + "[expect]\ndependency_closed_before_exit = true\n", 6, 33,
                           "expect.dependency_closed_before_exit: needs a [[dependencies]] entry"));
    EXPECT_TRUE(fails_with(kBase + kRedis + "[expect.dependency_down]\nmax_latency = \"1s\"\n", 8, 1,
                           "expect.dependency_down: needs a [[faults]] entry with action \"kill_dependency\" or \"stop_dependency\""));
    EXPECT_TRUE(fails_with(kBase + kRedis + fault("action = \"kill_dependency\"\ndependency = \"redis\"\n") +
                               "[expect.dependency_down]\nrecovers_within = \"1s\"\n",
                           13, 19, "recovers_within needs a [[faults]] entry with action \"restart_dependency\" or \"cont_dependency\""));
    Scenario s = parse_scenario_text(kBase + kRedis + fault("action = \"stop_dependency\"\ndependency = \"redis\"\n") +
                                         "[[faults]]\nat = \"2s\"\naction = \"cont_dependency\"\ndependency = \"redis\"\n"
                                         "[expect]\ndependency_closed_before_exit = true\n"
                                         "[expect.dependency_down]\nmax_latency = \"500ms\"\nready_fails = true\nrecovers_within = \"2s\"\n",
                                     "t.toml");
    ASSERT_TRUE(s.expect.dependency_down);
    EXPECT_EQ(s.expect.dependency_down->max_latency, std::chrono::milliseconds(500));
    EXPECT_EQ(s.expect.dependency_down->ready_fails, true);
    EXPECT_EQ(s.expect.dependency_closed_before_exit, true);
}

}  // namespace
}  // namespace draincheck
