// [fleet], the fleet faults (scale_down, scale_up, rolling_restart, kill_replica) and the fleet expectations.
#include "scenario/scenario_parser.h"
#include "parse_error_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace draincheck {
namespace {

using namespace std::chrono_literals;

// Lines 1-4.
const std::string kBase = "[target]\ncommand = [\"x\", \"--port\", \"{port}\"]\n[load]\nduration = \"10s\"\n";
const std::string kFleet = "[fleet]\nreplicas = 2\n";   // lines 5-6 after kBase

std::string fault(const std::string& at, const std::string& body) { return "[[faults]]\nat = \"" + at + "\"\n" + body; }

const std::string kFull = R"([target]
command = ["./server", "--port", "{port}", "--id", "{replica}"]
ready = { http = "/ready" }

[load]
duration = "20s"

[fleet]
replicas = 4
lb = "haproxy"
balance = "least_conn"
port = 8080
deregistration_delay = "0s"
retry_idempotent = false

[fleet.health]
path = "/healthz"
interval = "250ms"
timeout = "1s"
fall = 3
rise = 2

[fleet.state_probe]
create_method = "PUT"
create_path = "/cart"
read_path = "/cart/{id}/items"

[[faults]]
at = "9s"
action = "kill_replica"
count = 2
pick = "random"
seed = 42

[[faults]]
at = "2s"
action = "scale_up"
count = 2

[[faults]]
at = "5s"
action = "rolling_restart"
max_surge = 0
max_unavailable = 2

[[faults]]
at = "7s"
action = "scale_down"
count = 3
pick = "newest"

[expect]
client_errors = 5
exit_code = 0
exit_within = "5s"
capacity_restored_within = "8s"
max_p99_during_fault = "750ms"
stateless = true
)";

TEST(FleetParser, ReadsEveryKey) {
    Scenario s = parse_scenario_text(kFull, "t.toml");
    ASSERT_TRUE(s.fleet);
    const FleetSpec& f = *s.fleet;
    EXPECT_EQ(f.replicas, 4u);
    EXPECT_EQ(f.lb, FleetSpec::Balancer::haproxy);
    EXPECT_EQ(f.balance, FleetSpec::Balance::least_conn);
    EXPECT_EQ(f.port, 8080);
    EXPECT_EQ(f.deregistration_delay, 0s);
    EXPECT_FALSE(f.retry_idempotent);
    EXPECT_EQ(f.health.path, "/healthz");
    EXPECT_EQ(f.health.interval, 250ms);
    EXPECT_EQ(f.health.timeout, 1s);
    EXPECT_EQ(f.health.fall, 3u);
    EXPECT_EQ(f.health.rise, 2u);
    EXPECT_EQ(f.state_probe.create_method, "PUT");
    EXPECT_EQ(f.state_probe.create_path, "/cart");
    EXPECT_EQ(f.state_probe.read_path, "/cart/{id}/items");
    EXPECT_EQ(f.line, 8);
    EXPECT_EQ(f.column, 1);
    // "{replica}" is left for each replica's launch.
    EXPECT_EQ(s.target.command.back(), "{replica}");

    ASSERT_EQ(s.faults.size(), 4u);   // in time order
    EXPECT_EQ(s.faults[0].action, "scale_up");
    EXPECT_EQ(s.faults[0].count, 2u);
    EXPECT_EQ(s.faults[1].action, "rolling_restart");
    EXPECT_EQ(s.faults[1].max_surge, 0u);
    EXPECT_EQ(s.faults[1].max_unavailable, 2u);
    EXPECT_EQ(s.faults[2].action, "scale_down");
    EXPECT_EQ(s.faults[2].count, 3u);
    EXPECT_EQ(s.faults[2].pick, FaultSpec::Pick::newest);
    EXPECT_EQ(s.faults[3].action, "kill_replica");
    EXPECT_EQ(s.faults[3].at, 9s);
    EXPECT_EQ(s.faults[3].count, 2u);
    EXPECT_EQ(s.faults[3].pick, FaultSpec::Pick::random);
    EXPECT_EQ(s.faults[3].seed, 42u);
    EXPECT_EQ(s.faults[3].line, 28);

    EXPECT_EQ(s.expect.client_errors, 5u);
    EXPECT_EQ(s.expect.exit_code, 0);
    EXPECT_EQ(s.expect.exit_within, 5s);
    EXPECT_EQ(s.expect.capacity_restored_within, 8s);
    EXPECT_EQ(s.expect.max_p99_during_fault, 750ms);
    EXPECT_EQ(s.expect.stateless, true);
}

TEST(FleetParser, Defaults) {
    Scenario none = parse_scenario_text(kBase, "t.toml");
    EXPECT_FALSE(none.fleet);
    EXPECT_FALSE(none.expect.client_errors);
    EXPECT_FALSE(none.expect.stateless);

    Scenario s = parse_scenario_text(kBase + "[fleet]\n" + fault("1s", "action = \"scale_down\"\n") +
                                         fault("2s", "action = \"rolling_restart\"\n") + fault("3s", "action = \"kill_replica\"\n"),
                                     "t.toml");
    ASSERT_TRUE(s.fleet);
    const FleetSpec& f = *s.fleet;
    EXPECT_EQ(f.replicas, 3u);
    EXPECT_EQ(f.lb, FleetSpec::Balancer::builtin);
    EXPECT_EQ(f.balance, FleetSpec::Balance::round_robin);
    EXPECT_FALSE(f.port);
    EXPECT_EQ(f.deregistration_delay, 1s);
    EXPECT_TRUE(f.retry_idempotent);
    EXPECT_EQ(f.health.path, "");   // the target's ready probe is TCP: so is the health check
    EXPECT_EQ(f.health.interval, 100ms);
    EXPECT_EQ(f.health.timeout, 500ms);
    EXPECT_EQ(f.health.fall, 2u);
    EXPECT_EQ(f.health.rise, 1u);
    EXPECT_EQ(f.state_probe.create_method, "POST");
    EXPECT_EQ(f.state_probe.create_path, "/session");
    EXPECT_EQ(f.state_probe.read_path, "/session/{id}");
    ASSERT_EQ(s.faults.size(), 3u);
    for (const FaultSpec& fs : s.faults) {
        EXPECT_EQ(fs.count, 1u) << fs.action;
        EXPECT_EQ(fs.pick, FaultSpec::Pick::oldest) << fs.action;
        EXPECT_EQ(fs.seed, 1u) << fs.action;
        EXPECT_EQ(fs.max_surge, 1u) << fs.action;
        EXPECT_EQ(fs.max_unavailable, 0u) << fs.action;
    }
}

TEST(FleetParser, HealthPathDefaultsToTheTargetsHttpReadyProbe) {
    std::string text = "[target]\ncommand = [\"x\"]\nenv = { PORT = \"{port}\" }\nready = { http = \"/ready\" }\n"
                       "[load]\nduration = \"10s\"\n[fleet]\n";
    EXPECT_EQ(parse_scenario_text(text, "t.toml").fleet->health.path, "/ready");
    EXPECT_EQ(parse_scenario_text(text + "health = { path = \"/live\" }\n", "t.toml").fleet->health.path, "/live");
}

TEST(FleetParser, PortMayComeThroughTheEnvironment) {
    std::string text = "[target]\ncommand = [\"x\"]\nenv = { LISTEN = \"127.0.0.1:{port}\", ID = \"{replica}\" }\n"
                       "[load]\nduration = \"10s\"\n[fleet]\n";
    Scenario s = parse_scenario_text(text, "t.toml");
    EXPECT_EQ(s.target.env.at("ID"), "{replica}");
}

TEST(FleetParser, ReplicasMustBeAtLeastOne) {
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplicas = 0\n", 6, 12, "fleet.replicas: must be at least 1"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplicas = -2\n", 6, 12, "fleet.replicas: must be at least 1 (the replicas behind "
                                                                      "the load balancer), got -2"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplicas = 101\n", 6, 12, "fleet.replicas: expected an integer from 1 to 100, got 101"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplicas = \"3\"\n", 6, 12, "fleet.replicas: expected an integer, got string \"3\""));
}

TEST(FleetParser, FleetKeysAreChecked) {
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nlb = \"nginx\"\n", 6, 6,
                           "fleet.lb: expected \"builtin\" (draincheck's own) or \"haproxy\", got \"nginx\""));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nbalance = \"random\"\n", 6, 11,
                           "fleet.balance: expected \"round_robin\" or \"least_conn\", got \"random\""));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nport = 70000\n", 6, 8, "fleet.port: expected an integer from 1 to 65535, got 70000"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nderegistration_delay = \"-1s\"\n", 6, 24,
                           "fleet.deregistration_delay: expected a duration >= 0"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nretry_idempotent = 1\n", 6, 20, "fleet.retry_idempotent: expected true or false"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplica = 2\n", 6, 1, "fleet.replica: unknown key; did you mean `replicas`?"));
    EXPECT_TRUE(fails_with(kBase + "[fleet.health]\npath = \"healthz\"\n", 6, 8,
                           "fleet.health.path: expected a path starting with \"/\""));
    EXPECT_TRUE(fails_with(kBase + "[fleet.health]\ninterval = \"0s\"\n", 6, 12, "fleet.health.interval: expected a duration > 0"));
    EXPECT_TRUE(fails_with(kBase + "[fleet.health]\ntimeout = \"0ms\"\n", 6, 11, "fleet.health.timeout: expected a duration > 0"));
    EXPECT_TRUE(fails_with(kBase + "[fleet.health]\nfall = 0\n", 6, 8, "fleet.health.fall: expected an integer from 1 to 1000, got 0"));
    EXPECT_TRUE(fails_with(kBase + "[fleet.health]\nrise = 0\n", 6, 8, "fleet.health.rise: expected an integer from 1 to 1000, got 0"));
    EXPECT_TRUE(fails_with(kBase + "[fleet.state_probe]\ncreate_method = \"post\"\n", 6, 17,
                           "fleet.state_probe.create_method: expected an uppercase HTTP method"));
    EXPECT_TRUE(fails_with(kBase + "[fleet.state_probe]\ncreate_path = \"session\"\n", 6, 15,
                           "fleet.state_probe.create_path: expected a path starting with \"/\""));
    EXPECT_TRUE(fails_with(kBase + "[fleet.state_probe]\nread_path = \"/session/1\"\n", 6, 13,
                           "fleet.state_probe.read_path: expected a path containing \"{id}\""));
    EXPECT_TRUE(fails_with(kBase + "[fleet.state_probe]\nread_path = \"session/{id}\"\n", 6, 13,
                           "fleet.state_probe.read_path: expected a path starting with \"/\""));
}

TEST(FleetParser, EachReplicaNeedsItsOwnPort) {
    EXPECT_TRUE(fails_with("[target]\ncommand = [\"x\", \"--port\", \"8080\"]\n[load]\nduration = \"10s\"\n[fleet]\n", 2, 11,
                           "target.command: with [fleet], every replica listens on its own port: put \"{port}\" in the command"));
    EXPECT_TRUE(fails_with("[target]\ncommand = [\"x\", \"{port}\"]\nport = 8080\n[load]\nduration = \"10s\"\n[fleet]\n", 3, 8,
                           "target.port: with [fleet], the load balancer owns the public port and each replica gets its own "
                           "free port through \"{port}\"; use fleet.port instead"));
}

TEST(FleetParser, FleetActionsNeedAFleet) {
    for (const char* action : {"scale_down", "scale_up", "rolling_restart", "kill_replica"})
        EXPECT_TRUE(fails_with(kBase + fault("1s", std::string("action = \"") + action + "\"\n"), 7, 10,
                               std::string("faults[0].action: \"") + action +
                                   "\" needs a [fleet] section (the target's replicas behind a load balancer)"))
            << action;
}

TEST(FleetParser, ASignalFaultHasNoReplicaToGoTo) {
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"signal\"\nsignal = \"TERM\"\n"), 9, 10,
                           "faults[0].action: \"signal\" has no single process to go to in a [fleet] (which replica?); use "
                           "\"scale_down\""));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"signal\"\nsignal = \"TERM\"\n"), 9, 10, "\"kill_replica\""));
}

TEST(FleetParser, RollingRestartMustBeAbleToMakeProgress) {
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"rolling_restart\"\nmax_surge = 0\nmax_unavailable = 0\n"), 10, 13,
                           "faults[0].max_surge: rolling_restart can never make progress: max_surge and max_unavailable are both 0"));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"rolling_restart\"\nmax_surge = 0\n"), 10, 13,
                           "can never make progress"));
    EXPECT_NO_THROW(parse_scenario_text(kBase + kFleet + fault("1s", "action = \"rolling_restart\"\nmax_surge = 0\nmax_unavailable = 1\n"), "t.toml"));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"rolling_restart\"\nmax_surge = -1\n"), 10, 13,
                           "faults[0].max_surge: expected an integer from 0 to 100, got -1"));
}

TEST(FleetParser, CannotTakeAwayMoreReplicasThanRun) {
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("2s", "action = \"scale_down\"\ncount = 3\n"), 10, 9,
                           "faults[0].count: scale_down of 3 at 2s: only 2 replicas are running then"));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("2s", "action = \"kill_replica\"\ncount = 3\n"), 10, 9,
                           "faults[0].count: kill_replica of 3 at 2s: only 2 replicas are running then"));
    // Counted in time order, not file order: the scale_up at 1s makes the scale_down at 2s possible...
    std::string later_up = fault("2s", "action = \"scale_down\"\ncount = 3\n") + fault("1s", "action = \"scale_up\"\n");
    EXPECT_NO_THROW(parse_scenario_text(kBase + kFleet + later_up, "t.toml"));
    // ...unless a kill_replica at 1.5s, written last, took one away before it.
    EXPECT_TRUE(fails_with(kBase + kFleet + later_up + fault("1.5s", "action = \"kill_replica\"\n"), 10, 9,
                           "faults[0].count: scale_down of 3 at 2s: only 2 replicas are running then"));
    // After it none is left, so a default count of 1 is too many: the message points at the entry,
    // which has no `count`.
    EXPECT_TRUE(fails_with(kBase + kFleet + later_up + fault("4s", "action = \"scale_down\"\n"), 14, 1,
                           "faults[2].count: scale_down of 1 at 4s: no replica is running then"));
    // A rolling restart keeps the count.
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"rolling_restart\"\n") +
                               fault("2s", "action = \"kill_replica\"\ncount = 3\n"), 13, 9,
                           "faults[1].count: kill_replica of 3 at 2s: only 2 replicas are running then"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplicas = 1\n" + fault("2s", "action = \"scale_down\"\n") +
                               fault("3s", "action = \"kill_replica\"\ncount = 1\n"), 13, 9,
                           "faults[1].count: kill_replica of 1 at 3s: no replica is running then"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplicas = 1\n" + fault("2s", "action = \"scale_down\"\n") +
                               fault("3s", "action = \"rolling_restart\"\n"), 12, 10,
                           "faults[1].action: rolling_restart at 3s: no replica is running then"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplicas = 60\n" + fault("2s", "action = \"scale_up\"\ncount = 50\n"), 10, 9,
                           "faults[0].count: scale_up of 50 at 2s: 110 replicas would be running then, more than the 100"));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("2s", "action = \"scale_down\"\ncount = 0\n"), 10, 9,
                           "faults[0].count: expected an integer from 1 to 100, got 0"));
    // Every replica may go: the load then meets an empty balancer.
    EXPECT_NO_THROW(parse_scenario_text(kBase + kFleet + fault("2s", "action = \"scale_down\"\ncount = 2\n"), "t.toml"));
}

TEST(FleetParser, FleetFaultKeysAreChecked) {
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"scale_down\"\npick = \"youngest\"\n"), 10, 8,
                           "faults[0].pick: expected \"oldest\", \"newest\" or \"random\", got \"youngest\""));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"kill_replica\"\nseed = 3\n"), 10, 8,
                           "faults[0].seed: not used by pick \"oldest\" (only by pick = \"random\")"));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"kill_replica\"\npick = \"random\"\nseed = -3\n"), 11, 8,
                           "faults[0].seed: expected an integer >= 0, got -3"));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"rolling_restart\"\ncount = 2\n"), 10, 9,
                           "faults[0].count: not used by action \"rolling_restart\""));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"scale_up\"\npick = \"newest\"\n"), 10, 8,
                           "faults[0].pick: not used by action \"scale_up\""));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"scale_down\"\nmax_surge = 1\n"), 10, 13,
                           "faults[0].max_surge: not used by action \"scale_down\""));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"scale_down\"\nsignal = \"TERM\"\n"), 10, 10,
                           "faults[0].signal: not used by action \"scale_down\""));
}

TEST(FleetParser, FleetExpectationsNeedAFleet) {
    for (auto [line, column] : {std::pair{"client_errors = 0", 17}, std::pair{"capacity_restored_within = \"5s\"", 28},
                                std::pair{"max_p99_during_fault = \"1s\"", 24}, std::pair{"stateless = true", 13}}) {
        std::string key = std::string(line).substr(0, std::string(line).find(' '));
        EXPECT_TRUE(fails_with(kBase + "[expect]\n" + line + "\n", 6, column,
                               "expect." + key + ": needs a [fleet] section (the target's replicas behind a load balancer)"))
            << key;
    }
}

TEST(FleetParser, FleetExpectationsNeedTheFaultsTheyJudge) {
    std::string down = fault("1s", "action = \"scale_down\"\n");   // lines 7-9
    EXPECT_TRUE(fails_with(kBase + kFleet + down + "[expect]\ncapacity_restored_within = \"5s\"\n", 11, 28,
                           "expect.capacity_restored_within: needs a [[faults]] entry with action \"scale_up\" or \"rolling_restart\""));
    EXPECT_NO_THROW(parse_scenario_text(kBase + kFleet + fault("1s", "action = \"scale_up\"\n") +
                                        "[expect]\ncapacity_restored_within = \"5s\"\n", "t.toml"));
    EXPECT_TRUE(fails_with(kBase + kFleet + "[expect]\nmax_p99_during_fault = \"1s\"\n", 8, 24,
                           "expect.max_p99_during_fault: needs a [[faults]] entry with a fleet action"));
    EXPECT_NO_THROW(parse_scenario_text(kBase + kFleet + down + "[expect]\nmax_p99_during_fault = \"1s\"\n", "t.toml"));
    EXPECT_TRUE(fails_with(kBase + "[fleet]\nreplicas = 1\n[expect]\nstateless = true\n", 8, 13,
                           "expect.stateless: needs fleet.replicas of at least 2"));
    EXPECT_NO_THROW(parse_scenario_text(kBase + kFleet + "[expect]\nstateless = true\nclient_errors = 0\n", "t.toml"));
    EXPECT_TRUE(fails_with(kBase + kFleet + "[expect]\nclient_errors = -1\n", 8, 17,
                           "expect.client_errors: expected an integer >= 0, got -1"));
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"scale_up\"\n") + "[expect]\ncapacity_restored_within = \"0s\"\n",
                           11, 28, "expect.capacity_restored_within: expected a duration > 0"));
}

TEST(FleetParser, DrainExpectationsNeedAReplicaStoppedGracefully) {
    EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"kill_replica\"\n") + "[expect]\nexit_within = \"5s\"\n", 11, 15,
                           "expect.exit_within needs a [[faults]] entry that stops replicas (scale_down or rolling_restart)"));
    for (const char* action : {"scale_down", "rolling_restart"})
        EXPECT_NO_THROW(parse_scenario_text(kBase + kFleet + fault("1s", std::string("action = \"") + action + "\"\n") +
                                                "[expect]\nexit_code = 0\nexit_within = \"5s\"\n", "t.toml"))
            << action;
}

// Assertions about one process and its listener mean nothing behind a balancer: refused, not ignored.
TEST(FleetParser, SingleProcessExpectationsAreRefusedInAFleet) {
    for (const char* key : {"refused_after_close = \"clean\"", "ready_fails_during_drain = true"})
        EXPECT_TRUE(fails_with(kBase + kFleet + fault("1s", "action = \"scale_down\"\n") + "[expect]\n" + key + "\n", 11,
                               std::string(key).find("refused") == 0 ? 23 : 28, "is not judged in a [fleet]"))
            << key;
}

// The fleet example of the reference parses, as every other example there.
TEST(FleetParser, TheReferenceExampleParses) {
    std::ifstream in(std::filesystem::path(DRAINCHECK_SOURCE_DIR) / "docs" / "scenario-reference.md");
    std::stringstream text;
    text << in.rdbuf();
    std::string doc = text.str();
    size_t section = doc.find("### A fleet scenario");
    ASSERT_NE(section, std::string::npos);
    size_t start = doc.find("```toml\n", section);
    ASSERT_NE(start, std::string::npos);
    start += 8;
    Scenario s = parse_scenario_text(doc.substr(start, doc.find("```", start) - start), "fleet-example.toml");
    ASSERT_TRUE(s.fleet);
    EXPECT_FALSE(s.faults.empty());
    EXPECT_TRUE(s.expect.stateless);
}

}  // namespace
}  // namespace draincheck
