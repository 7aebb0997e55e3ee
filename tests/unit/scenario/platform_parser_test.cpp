// [platform]: its kinds, each kind's own keys, what it requires of [target], and action = "platform".
#include "scenario/scenario_parser.h"
#include "parse_error_support.h"

#include <gtest/gtest.h>

#include <string>

namespace draincheck {
namespace {

const std::string kNodeTarget = "[target]\ncommand = [\"node\", \"app.js\", \"--port\", \"{port}\"]\n";   // lines 1-2
const std::string kLoad = "[load]\nduration = \"10s\"\n";

std::string pm2(const std::string& platform_keys, const std::string& rest = "") {
    return kNodeTarget + "[platform]\nkind = \"pm2\"\n" + platform_keys + kLoad + rest;   // keys start at line 5
}

TEST(PlatformParser, Pm2TakesPm2sOwnWords) {
    Scenario s = parse_scenario_text(pm2("instances = 3\nexec_mode = \"cluster\"\nkill_timeout = 5000\n"
                                         "listen_timeout = \"8s\"\nwait_ready = true\n"),
                                     "t.toml");
    ASSERT_TRUE(s.platform);
    EXPECT_EQ(s.platform->kind, PlatformSpec::Kind::pm2);
    EXPECT_EQ(s.platform->instances, 3u);
    EXPECT_EQ(s.platform->kill_timeout, std::chrono::milliseconds(5000));   // an integer is milliseconds, as in PM2
    EXPECT_EQ(s.platform->listen_timeout, std::chrono::seconds(8));
    EXPECT_TRUE(s.platform->wait_ready);
    EXPECT_TRUE(has_instances(s));
}

TEST(PlatformParser, KeysOfTheOtherKindAreRefused) {
    EXPECT_TRUE(fails_with(pm2("replicas = 3\n"), 5, 12, "applies to kind = \"swarm\""));
}

TEST(PlatformParser, UnknownKindIsRefused) {
    EXPECT_TRUE(fails_with(kNodeTarget + "[platform]\nkind = \"nomad\"\n" + kLoad, 4, 8, "expected \"pm2\" or \"swarm\""));
}

TEST(PlatformParser, FleetAndPlatformAreExclusive) {
    EXPECT_TRUE(fails_with(pm2("", "[fleet]\nreplicas = 2\n"), 7, 1, "[fleet] and [platform] are exclusive"));
}

TEST(PlatformParser, ClusterModeRunsNodeOnly) {
    std::string text = "[target]\ncommand = [\"python3\", \"app.py\", \"{port}\"]\n[platform]\nkind = \"pm2\"\n" + kLoad;
    EXPECT_TRUE(fails_with(text, 3, 1, "use exec_mode = \"fork\""));
}

TEST(PlatformParser, ForkModeTakesOneInstance) {
    EXPECT_TRUE(fails_with(pm2("instances = 2\nexec_mode = \"fork\"\n"), 5, 13, "use instances = 1"));
}

TEST(PlatformParser, Pm2NeedsThePort) {
    EXPECT_TRUE(fails_with("[target]\ncommand = [\"node\", \"app.js\"]\n[platform]\nkind = \"pm2\"\n" + kLoad, 2, 11,
                           "put \"{port}\" in the command"));
}

TEST(PlatformParser, Pm2RunsACommandNotAnImage) {
    EXPECT_TRUE(fails_with("[target]\nimage = \"app:1\"\n[platform]\nkind = \"pm2\"\n" + kLoad, 2, 9, "not an image"));
}

TEST(PlatformParser, SwarmRunsAnImage) {
    Scenario s = parse_scenario_text("[target]\nimage = \"app:1\"\n[platform]\nkind = \"swarm\"\nreplicas = 3\n"
                                     "update_order = \"start-first\"\nstop_grace_period = \"4s\"\n" + kLoad,
                                     "t.toml");
    ASSERT_TRUE(s.platform);
    EXPECT_EQ(s.platform->kind, PlatformSpec::Kind::swarm);
    EXPECT_EQ(s.platform->replicas, 3u);
    EXPECT_EQ(s.platform->update_order, PlatformSpec::UpdateOrder::start_first);
    EXPECT_EQ(s.platform->stop_grace_period, std::chrono::seconds(4));
    EXPECT_TRUE(fails_with(kNodeTarget + "[platform]\nkind = \"swarm\"\n" + kLoad, 2, 11, "a swarm runs images"));
    EXPECT_TRUE(fails_with("[target]\nimage = \"app:1\"\n[platform]\nkind = \"swarm\"\nreplicas = 10\n" + kLoad, 5, 12,
                           "at most 9"));
}

TEST(PlatformParser, PlatformOperationsAreTheKindsOwn) {
    Scenario s = parse_scenario_text(pm2("", "[[faults]]\nat = \"1s\"\naction = \"platform\"\noperation = \"scale\"\ncount = 4\n"),
                                     "t.toml");
    ASSERT_EQ(s.faults.size(), 1u);
    EXPECT_EQ(s.faults[0].operation, "scale");
    EXPECT_EQ(s.faults[0].count, 4u);
    EXPECT_TRUE(fails_with(pm2("", "[[faults]]\nat = \"1s\"\naction = \"platform\"\noperation = \"update\"\n"), 10, 13,
                           "expected one of: reload, restart, scale"));
    EXPECT_TRUE(fails_with(pm2("", "[[faults]]\nat = \"1s\"\naction = \"platform\"\noperation = \"reload\"\ncount = 2\n"),
                           11, 9, "only by \"scale\""));
    EXPECT_TRUE(fails_with(pm2("", "[[faults]]\nat = \"1s\"\naction = \"signal\"\nsignal = \"TERM\"\n"), 9, 10,
                           "use action = \"platform\""));
    EXPECT_TRUE(fails_with(kNodeTarget + kLoad + "[[faults]]\nat = \"1s\"\naction = \"platform\"\noperation = \"reload\"\n",
                           7, 10, "needs a [platform] section"));
}

TEST(PlatformParser, SingleProcessAssertionsAreNotJudgedOnAPlatform) {
    EXPECT_TRUE(fails_with(pm2("", "[[faults]]\nat = \"1s\"\naction = \"platform\"\noperation = \"reload\"\n"
                                   "[expect]\nrefused_after_close = \"clean\"\n"),
                           12, 23, "is not judged on a [platform]"));
    Scenario s = parse_scenario_text(pm2("", "[[faults]]\nat = \"1s\"\naction = \"platform\"\noperation = \"reload\"\n"
                                             "[expect]\ndropped_inflight = 0\nexit_code = 0\nexit_within = \"5s\"\n"
                                             "client_errors = 0\ncapacity_restored_within = \"5s\"\n"),
                                     "t.toml");
    EXPECT_EQ(s.expect.client_errors, 0u);
}

}  // namespace
}  // namespace draincheck
