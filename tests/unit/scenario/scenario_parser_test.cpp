#include "scenario/scenario_parser.h"
#include "parse_error_support.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace draincheck;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kFull = R"(name = "full"
description = "every key"

[target]
command = ["./server", "--port", "{port}"]
cwd = "app/../srv"
env = { MODE = "prod", WORKERS = 4 }
host = "::1"
port = 8080
allow_remote = false
ready = { http = "/healthz", timeout = "5s", interval = "20ms" }
stop_signal = "SIGQUIT"
kill_after = "30s"

[load]
mode = "connections"
rate = 500.5
connections = 8
max_connections = 64
duration = "20s"
method = "POST"
path = "/orders?id=1"
headers = { "X-Test" = "1", Accept = "application/json" }
body = "{}"
keep_alive = false
timeout = "2s"
threads = 2
max_requests = 1000
after_exit = "0s"
closed_idle_window = "2ms"
seed = 7

[[load.mix]]
path = "/slow"
weight = 0.25

[[load.mix]]
method = "DELETE"
headers = { "X-Other" = "2" }
body = ""
weight = 3

[[faults]]
at = "5s"
action = "signal"
signal = "term"

[[faults]]
at = "1.5s"
action = "signal"
signal = "HUP"

[expect]
dropped_inflight = 0
exit_code = 3
exit_within = "10s"
max_error_rate = 0.01
refused_after_close = "clean"
ready_fails_during_drain = false
)";

const std::string kTarget = "[target]\ncommand = [\"x\"]\n";        // lines 1-2
const std::string kLoad = "[load]\nduration = \"10s\"\n";             // lines 3-4 after kTarget
const std::string kMinimal = kTarget + kLoad;
const std::string kStopFault = "[[faults]]\nat = \"1s\"\naction = \"signal\"\nsignal = \"TERM\"\n";

// The error's full text ("file:line:col: message") contains every one of `parts`.
::testing::AssertionResult fails_with_parts(const std::string& text, int line, int column, std::vector<std::string> parts) {
    ScenarioError e = error_of(text);
    if (e.line() != line || e.column() != column)
        return ::testing::AssertionFailure() << "at " << e.line() << ":" << e.column() << ", not " << line << ":"
                                             << column << ": " << e.what();
    for (const auto& part : parts)
        if (std::string(e.what()).find(part) == std::string::npos)
            return ::testing::AssertionFailure() << "no \"" << part << "\" in: " << e.what();
    return ::testing::AssertionSuccess();
}

int line_of(const std::string& text, const std::string& needle) {
    size_t at = text.find(needle);
    EXPECT_NE(at, std::string::npos) << needle;
    return 1 + int(std::count(text.begin(), text.begin() + long(at), '\n'));
}

}  // namespace

// ---- valid scenarios ----

TEST(ScenarioParser, ReadsEveryKey) {
    Scenario s = parse_scenario_text(kFull, "/work/scenarios/full.toml");
    EXPECT_EQ(s.name, "full");
    EXPECT_EQ(s.description, "every key");
    EXPECT_EQ(s.source_path, "/work/scenarios/full.toml");

    const TargetSpec& t = s.target;
    EXPECT_EQ(t.command, (std::vector<std::string>{"./server", "--port", "{port}"}));
    EXPECT_EQ(t.cwd, "/work/scenarios/srv");
    EXPECT_EQ(t.env, (std::map<std::string, std::string>{{"MODE", "prod"}, {"WORKERS", "4"}}));
    EXPECT_EQ(t.host, "::1");
    EXPECT_EQ(t.port, 8080);
    EXPECT_FALSE(t.allow_remote);
    EXPECT_EQ(t.ready.kind, ReadyProbe::Kind::http);
    EXPECT_EQ(t.ready.http_path, "/healthz");
    EXPECT_EQ(t.ready.timeout, 5s);
    EXPECT_EQ(t.ready.interval, 20ms);
    EXPECT_EQ(t.stop_signal, SIGQUIT);
    EXPECT_EQ(t.kill_after, 30s);

    const LoadSpec& l = s.load;
    EXPECT_EQ(l.mode, LoadSpec::Mode::connections);
    EXPECT_EQ(l.rate, 500.5);
    EXPECT_EQ(l.connections, 8u);
    EXPECT_EQ(l.max_connections, 64u);
    EXPECT_EQ(l.duration, 20s);
    EXPECT_EQ(l.request.method, "POST");
    EXPECT_EQ(l.request.path, "/orders?id=1");
    using Headers = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(l.request.headers, (Headers{{"Accept", "application/json"}, {"X-Test", "1"}}));
    EXPECT_EQ(l.request.body, "{}");
    EXPECT_EQ(l.request.weight, 1.0);
    EXPECT_FALSE(l.keep_alive);
    EXPECT_EQ(l.timeout, 2s);
    EXPECT_EQ(l.threads, 2u);
    EXPECT_EQ(l.max_requests, 1000u);
    EXPECT_EQ(l.after_exit, 0s);
    EXPECT_EQ(l.closed_idle_window, 2ms);
    EXPECT_EQ(l.seed, 7u);

    ASSERT_EQ(l.mix.size(), 2u);
    EXPECT_EQ(l.mix[0].method, "POST");   // each mix key defaults to the [load] value
    EXPECT_EQ(l.mix[0].path, "/slow");
    EXPECT_EQ(l.mix[0].headers, l.request.headers);
    EXPECT_EQ(l.mix[0].body, "{}");
    EXPECT_EQ(l.mix[0].weight, 0.25);
    EXPECT_EQ(l.mix[1].method, "DELETE");
    EXPECT_EQ(l.mix[1].path, "/orders?id=1");
    EXPECT_EQ(l.mix[1].headers, (Headers{{"X-Other", "2"}}));   // replaces, not merges
    EXPECT_EQ(l.mix[1].body, "");
    EXPECT_EQ(l.mix[1].weight, 3.0);

    ASSERT_EQ(s.faults.size(), 2u);
    EXPECT_EQ(s.faults[0].at, 1500ms);   // sorted by time
    EXPECT_EQ(s.faults[0].action, "signal");
    EXPECT_EQ(s.faults[0].signal, SIGHUP);
    EXPECT_EQ(s.faults[0].line, line_of(kFull, "[[faults]]\nat = \"1.5s\""));
    EXPECT_EQ(s.faults[0].column, 1);
    EXPECT_EQ(s.faults[1].at, 5s);
    EXPECT_EQ(s.faults[1].signal, SIGTERM);
    EXPECT_EQ(s.faults[1].line, line_of(kFull, "[[faults]]\nat = \"5s\""));

    const ExpectSpec& e = s.expect;
    EXPECT_EQ(e.dropped_inflight, 0u);
    EXPECT_EQ(e.exit_code, 3);
    EXPECT_EQ(e.exit_within, Nanos(10s));
    EXPECT_EQ(e.max_error_rate, 0.01);
    EXPECT_TRUE(e.refused_after_close_clean);
    EXPECT_EQ(e.ready_fails_during_drain, false);
}

TEST(ScenarioParser, DefaultsForEveryOptionalKey) {
    Scenario s = parse_scenario_text(kMinimal, "/tmp/some/minimal.toml");
    EXPECT_EQ(s.name, "minimal");
    EXPECT_EQ(s.description, "");
    const TargetSpec& t = s.target;
    EXPECT_EQ(t.cwd, "/tmp/some");
    EXPECT_TRUE(t.env.empty());
    EXPECT_EQ(t.host, "127.0.0.1");
    EXPECT_FALSE(t.port.has_value());
    EXPECT_FALSE(t.allow_remote);
    EXPECT_EQ(t.ready.kind, ReadyProbe::Kind::tcp);
    EXPECT_EQ(t.ready.timeout, 10s);
    EXPECT_EQ(t.ready.interval, 50ms);
    EXPECT_EQ(t.stop_signal, SIGTERM);
    EXPECT_EQ(t.kill_after, 10s);
    const LoadSpec& l = s.load;
    EXPECT_EQ(l.mode, LoadSpec::Mode::rate);
    EXPECT_EQ(l.rate, 200);
    EXPECT_EQ(l.connections, 16u);
    EXPECT_EQ(l.max_connections, 1024u);
    EXPECT_EQ(l.request.method, "GET");
    EXPECT_EQ(l.request.path, "/");
    EXPECT_TRUE(l.request.headers.empty());
    EXPECT_EQ(l.request.body, "");
    EXPECT_TRUE(l.keep_alive);
    EXPECT_EQ(l.timeout, 10s);
    EXPECT_EQ(l.threads, 0u);
    EXPECT_EQ(l.max_requests, 0u);
    EXPECT_EQ(l.after_exit, 250ms);
    EXPECT_EQ(l.closed_idle_window, 1ms);
    EXPECT_EQ(l.seed, 1u);
    EXPECT_TRUE(l.mix.empty());
    EXPECT_TRUE(s.faults.empty());
    EXPECT_FALSE(s.expect.dropped_inflight.has_value());
    EXPECT_FALSE(s.expect.exit_code.has_value());
    EXPECT_FALSE(s.expect.exit_within.has_value());
    EXPECT_FALSE(s.expect.max_error_rate.has_value());
    EXPECT_FALSE(s.expect.refused_after_close_clean);
    EXPECT_FALSE(s.expect.ready_fails_during_drain.has_value());
}

TEST(ScenarioParser, NameDefaultsToTheFileStem) {
    EXPECT_EQ(parse_scenario_text(kMinimal, "dir/sigterm.slow.toml").name, "sigterm.slow");
    EXPECT_EQ(parse_scenario_text("name = \"given\"\n" + kMinimal, "dir/x.toml").name, "given");
}

TEST(ScenarioParser, CwdIsStoredAbsolute) {
    auto cwd_of = [](const std::string& line, const std::string& source) {
        return parse_scenario_text(kTarget + line + kLoad, source).target.cwd;
    };
    EXPECT_EQ(cwd_of("cwd = \"sub\"\n", "/s/x.toml"), "/s/sub");
    EXPECT_EQ(cwd_of("cwd = \"./a/../b/\"\n", "/s/x.toml"), "/s/b");
    EXPECT_EQ(cwd_of("cwd = \"..\"\n", "/s/t/x.toml"), "/s");
    EXPECT_EQ(cwd_of("cwd = \"/opt/app/\"\n", "/s/x.toml"), "/opt/app");
    EXPECT_EQ(cwd_of("", "x.toml"), fs::current_path().string());   // relative source: from the working directory
    EXPECT_EQ(cwd_of("cwd = \"d\"\n", "rel/x.toml"), (fs::current_path() / "rel" / "d").string());
}

TEST(ScenarioParser, ReadyProbeForms) {
    auto ready_of = [](const std::string& line) { return parse_scenario_text(kTarget + line + kLoad, "t.toml").target.ready; };
    ReadyProbe tcp = ready_of("ready = { tcp = true, timeout = \"2s\" }\n");
    EXPECT_EQ(tcp.kind, ReadyProbe::Kind::tcp);
    EXPECT_EQ(tcp.timeout, 2s);
    EXPECT_EQ(tcp.interval, 50ms);
    ReadyProbe http = ready_of("[target.ready]\nhttp = \"/ready\"\ninterval = \"1s\"\n");
    EXPECT_EQ(http.kind, ReadyProbe::Kind::http);
    EXPECT_EQ(http.http_path, "/ready");
    EXPECT_EQ(http.interval, 1s);
}

TEST(ScenarioParser, TargetEnvTakesStringsAndIntegers) {
    Scenario s = parse_scenario_text(kTarget + "[target.env]\nA = \"x y\"\nB = -3\nEMPTY = \"\"\n" + kLoad, "t.toml");
    EXPECT_EQ(s.target.env, (std::map<std::string, std::string>{{"A", "x y"}, {"B", "-3"}, {"EMPTY", ""}}));
}

TEST(ScenarioParser, BoundaryValuesAreAccepted) {
    Scenario s = parse_scenario_text(
        "[target]\ncommand = [\"x\"]\nport = 65535\n"
        "[load]\nduration = \"1h\"\nconnections = 10000\nthreads = 64\nrate = 0.001\nmethod = \"M-SEARCH\"\n"
        "[[faults]]\nat = \"0s\"\naction = \"signal\"\nsignal = \"KILL\"\n"
        "[expect]\nexit_code = 255\nmax_error_rate = 1\nrefused_after_close = \"any\"\n",
        "t.toml");
    EXPECT_EQ(s.target.port, 65535);
    EXPECT_EQ(s.load.duration, 1h);
    EXPECT_EQ(s.load.connections, 10000u);
    EXPECT_EQ(s.load.rate, 0.001);
    EXPECT_EQ(s.load.request.method, "M-SEARCH");
    EXPECT_EQ(s.faults.at(0).at, 0s);
    EXPECT_EQ(s.expect.exit_code, 255);
    EXPECT_EQ(s.expect.max_error_rate, 1.0);
    EXPECT_FALSE(s.expect.refused_after_close_clean);
}

TEST(ScenarioParser, MixOfUpTo200Entries) {
    std::string text = kMinimal;
    for (int i = 0; i < 200; ++i) text += "[[load.mix]]\npath = \"/" + std::to_string(i) + "\"\n";
    Scenario s = parse_scenario_text(text, "t.toml");
    ASSERT_EQ(s.load.mix.size(), 200u);
    EXPECT_EQ(s.load.mix[199].path, "/199");
    EXPECT_EQ(s.load.mix[199].weight, 1.0);
    text += "[[load.mix]]\npath = \"/one-too-many\"\n";
    EXPECT_TRUE(fails_with_parts(text, line_of(text, "[[load.mix]]\npath = \"/one-too-many\""), 1,
                           {"load.mix: expected at most 200 entries, got 201"}));
}

TEST(ScenarioParser, FaultsAreSortedByTimeKeepingFileOrderForTies) {
    std::string text = kMinimal;
    for (const char* f : {"3s\"\nsignal = \"TERM", "1s\"\nsignal = \"HUP", "3s\"\nsignal = \"INT", "0s\"\nsignal = \"USR1",
                          "3s\"\nsignal = \"QUIT"})
        text += std::string("[[faults]]\naction = \"signal\"\nat = \"") + f + "\"\n";
    Scenario s = parse_scenario_text(text, "t.toml");
    std::vector<int> order;
    for (const auto& f : s.faults) order.push_back(f.signal);
    EXPECT_EQ(order, (std::vector<int>{SIGUSR1, SIGHUP, SIGTERM, SIGINT, SIGQUIT}));
    EXPECT_EQ(s.faults[0].line, 5 + 3 * 4);   // the fourth [[faults]] header
    EXPECT_LT(s.faults[2].line, s.faults[3].line);
}

TEST(ScenarioParser, EveryBundledScenarioParses) {
    int parsed = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(DRAINCHECK_SOURCE_DIR) / "scenarios")) {
        if (entry.path().extension() != ".toml") continue;
        EXPECT_NO_THROW(parse_scenario_file(entry.path().string())) << entry.path();
        ++parsed;
    }
    EXPECT_GT(parsed, 0);
}

// ---- errors ----

TEST(ScenarioParserErrors, MalformedTomlHasTheParserPosition) {
    EXPECT_TRUE(fails_with_parts(kTarget + "command = [\"y\"]\n" + kLoad, 3, 11, {"t.toml:3:11: invalid TOML", "command"}));
    EXPECT_TRUE(fails_with_parts("[target\n", 1, 8, {"t.toml:1:8: invalid TOML"}));
}

TEST(ScenarioParserErrors, UnknownKeysSuggestTheClosestKnownOne) {
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nduraton = \"1s\"\n", 4, 1,
                           {"t.toml:4:1: load.duraton: unknown key; did you mean `duration`?"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nduration = \"1s\"\nraet = 5\n", 5, 1, {"load.raet", "did you mean `rate`?"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nDURATION = \"1s\"\n", 4, 1, {"did you mean `duration`?"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "  Keep_Alive = true\n", 5, 3, {"load.Keep_Alive", "did you mean `keep_alive`?"}));
    EXPECT_TRUE(fails_with_parts("[target]\ncommand = [\"x\"]\nready = { http = \"/\", intervall = \"1s\" }\n" + kLoad, 3, 23,
                           {"target.ready.intervall: unknown key; did you mean `interval`?"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[load.mix]]\nwieght = 2\n", 6, 1, {"load.mix[0].wieght", "did you mean `weight`?"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[faults]]\nat = \"1s\"\naction = \"signal\"\nsingal = \"TERM\"\n", 8, 1,
                           {"faults[0].singal", "did you mean `signal`?"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expects]\n", 5, 2, {"expects: unknown key; did you mean `expect`?"}));
}

TEST(ScenarioParserErrors, UnknownKeysFarFromAnyListTheKnownOnes) {
    ScenarioError e = error_of(kMinimal + "[expect]\nzebra = 1\n");
    EXPECT_EQ(e.message().find("did you mean"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("expect.zebra: unknown key; expected one of: dropped_inflight, exit_code, exit_within, "
                               "max_error_rate, refused_after_close, ready_fails_during_drain"),
              std::string::npos) << e.what();
}

TEST(ScenarioParserErrors, AMisspelledRequiredKeyIsReportedAsAMisspelling) {
    ScenarioError e = error_of("[target]\ncomand = [\"x\"]\n" + kLoad);
    EXPECT_NE(e.message().find("did you mean `command`?"), std::string::npos) << e.what();
}

TEST(ScenarioParserErrors, WrongTypesSayWhatWasExpectedAndFound) {
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nduration = 10\n", 4, 12,
                           {"load.duration: expected a duration string like \"10s\", got integer 10"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nduration = 1979-05-27\n", 4, 12, {"got a date/time"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "rate = \"fast\"\n", 5, 8, {"load.rate: expected a number, got string \"fast\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "keep_alive = \"yes\"\n", 5, 14, {"load.keep_alive: expected true or false, got string \"yes\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "threads = 1.5\n", 5, 11, {"load.threads: expected an integer, got float 1.5"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "method = 1\n", 5, 10, {"load.method: expected a string, got integer 1"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "headers = [\"a\"]\n", 5, 11, {"load.headers: expected a table, got an array"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "headers = { X = 1 }\n", 5, 17, {"load.headers.X: expected a string, got integer 1"}));
    EXPECT_TRUE(fails_with_parts("target = \"x\"\n" + kLoad, 1, 10, {"target: expected a table, got string \"x\""}));
    EXPECT_TRUE(fails_with_parts("[target]\ncommand = \"x\"\n" + kLoad, 2, 11, {"target.command: expected an array, got string \"x\""}));
    EXPECT_TRUE(fails_with_parts("[target]\ncommand = [\"x\", 1]\n" + kLoad, 2, 17, {"target.command[1]: expected a string, got integer 1"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "env = { A = true }\n" + kLoad, 3, 13,
                           {"target.env.A: expected a string or an integer, got boolean true"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "allow_remote = 1\n" + kLoad, 3, 16, {"target.allow_remote: expected true or false"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "stop_signal = 15\n" + kLoad, 3, 15, {"target.stop_signal: expected a string, got integer 15"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "ready = \"tcp\"\n" + kLoad, 3, 9, {"target.ready: expected a table"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[faults]\nat = \"1s\"\n", 5, 1, {"faults: expected [[faults]] tables, got a table"}));
    EXPECT_TRUE(fails_with_parts("faults = [1]\n" + kMinimal, 1, 11, {"faults[0]: expected a table like [[faults]], got integer 1"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "mix = 3\n", 5, 7, {"load.mix: expected [[load.mix]] tables, got integer 3"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nexit_code = \"0\"\n", 6, 13, {"expect.exit_code: expected an integer, got string \"0\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nrefused_after_close = true\n", 6, 23, {"expect.refused_after_close: expected a string"}));
}

TEST(ScenarioParserErrors, NumbersOutOfRange) {
    EXPECT_TRUE(fails_with_parts(kMinimal + "rate = 0\n", 5, 8, {"t.toml:5:8: load.rate: expected a number > 0, got 0"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "rate = -1.5\n", 5, 8, {"load.rate: expected a number > 0, got -1.5"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "rate = nan\n", 5, 8, {"load.rate: expected a number > 0, got nan"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "rate = 2e7\n", 5, 8, {"load.rate: expected a number at most 10000000, got 20000000"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "connections = 0\n", 5, 15, {"load.connections: expected an integer from 1 to 10000, got 0"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "connections = 10001\n", 5, 15, {"got 10001"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "max_connections = 0\n", 5, 19, {"load.max_connections: expected an integer from 1 to 60000"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "threads = 65\n", 5, 11, {"load.threads: expected an integer from 0 to 64, got 65"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "max_requests = -1\n", 5, 16, {"load.max_requests: expected an integer from 0 to 100000000, got -1"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "seed = -1\n", 5, 8, {"load.seed: expected an integer >= 0, got -1"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[load.mix]]\nweight = 0\n", 6, 10, {"load.mix[0].weight: expected a number > 0, got 0"}));
    EXPECT_TRUE(fails_with_parts("[target]\ncommand = [\"x\"]\nport = 0\n" + kLoad, 3, 8, {"target.port: expected an integer from 1 to 65535, got 0"}));
    EXPECT_TRUE(fails_with_parts("[target]\ncommand = [\"x\"]\nport = 70000\n" + kLoad, 3, 8, {"got 70000"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nexit_code = 256\n", 6, 13, {"expect.exit_code: expected an integer from 0 to 255, got 256"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\ndropped_inflight = -1\n", 6, 20, {"expect.dropped_inflight: expected an integer >= 0"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nmax_error_rate = 1.5\n", 6, 18, {"expect.max_error_rate: expected a number from 0 to 1, got 1.5"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nmax_error_rate = -0.1\n", 6, 18, {"got -0.1"}));
}

TEST(ScenarioParserErrors, DurationsOutOfRangeOrMalformed) {
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nduration = \"0s\"\n", 4, 12, {"load.duration: expected a duration > 0, got \"0s\""}));
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nduration = \"-2s\"\n", 4, 12,
                           {"load.duration: expected a duration >= 0, got \"-2s\""}));
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nduration = \"10sec\"\n", 4, 12, {"got \"10sec\""}));
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nduration = \"2h\"\n", 4, 12, {"load.duration: expected a duration of at most 1h, got \"2h\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "timeout = \"0ms\"\n", 5, 11, {"load.timeout: expected a duration > 0"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "kill_after = \"0s\"\n" + kLoad, 3, 14, {"target.kill_after: expected a duration > 0"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "ready = { tcp = true, interval = \"0s\" }\n" + kLoad, 3, 34,
                           {"target.ready.interval: expected a duration > 0"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "ready = { tcp = true, timeout = \"0s\" }\n" + kLoad, 3, 33, {"target.ready.timeout"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nexit_within = \"0s\"\n", 6, 15, {"expect.exit_within: expected a duration > 0"}));
    EXPECT_NO_THROW(parse_scenario_text(kMinimal + "after_exit = \"0s\"\nclosed_idle_window = \"0ms\"\n", "t.toml"));
}

TEST(ScenarioParserErrors, ImpossibleStringsAndArrays) {
    EXPECT_TRUE(fails_with_parts("[target]\ncommand = []\n" + kLoad, 2, 11, {"target.command: expected a non-empty array of strings"}));
    EXPECT_TRUE(fails_with_parts("[target]\ncommand = [\"\", \"a\"]\n" + kLoad, 2, 12, {"target.command[0]: expected a program"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "cwd = \"\"\n" + kLoad, 3, 7, {"target.cwd: expected a non-empty string"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "env = { \"A=B\" = \"1\" }\n" + kLoad, 3, 17, {"target.env.A=B: expected an environment variable name without \"=\", got \"A=B\""}));
    EXPECT_TRUE(fails_with_parts("name = \"\"\n" + kMinimal, 1, 8, {"name: expected a non-empty string"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "mode = \"open\"\n", 5, 8, {"load.mode: expected \"rate\" (open loop) or \"connections\" (closed loop), got \"open\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "method = \"get\"\n", 5, 10, {"load.method: expected an uppercase HTTP method", "got \"get\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "method = \"GE T\"\n", 5, 10, {"load.method"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "method = \"\"\n", 5, 10, {"load.method"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "path = \"orders\"\n", 5, 8, {"load.path: expected a path starting with \"/\", got \"orders\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "path = \"/a b\"\n", 5, 8, {"load.path: expected a path without spaces"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[load.mix]]\npath = \"x\"\n", 6, 8, {"load.mix[0].path: expected a path starting with \"/\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "headers = { \"Bad Name\" = \"1\" }\n", 5, 26, {"load.headers.Bad Name: expected a header name", "got \"Bad Name\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "headers = { X = \"a\\r\\nInjected: 1\" }\n", 5, 17, {"load.headers.X: expected a header value without line breaks"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nrefused_after_close = \"sometimes\"\n", 6, 23,
                           {"expect.refused_after_close: expected \"clean\" or \"any\", got \"sometimes\""}));
}

TEST(ScenarioParserErrors, ReadyNeedsExactlyOneProbe) {
    EXPECT_TRUE(fails_with_parts(kTarget + "ready = { http = \"/h\", tcp = true }\n" + kLoad, 3, 9,
                           {"target.ready: expected exactly one of `http = \"/healthz\"` or `tcp = true`, got both"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "[target.ready]\ntimeout = \"1s\"\n" + kLoad, 3, 1, {"target.ready: expected exactly one of", "got neither"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "ready = { tcp = false }\n" + kLoad, 3, 17, {"target.ready.tcp: expected true", "got false"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "ready = { http = \"healthz\" }\n" + kLoad, 3, 18,
                           {"target.ready.http: expected a path starting with \"/\" (e.g. \"/healthz\"), got \"healthz\""}));
}

TEST(ScenarioParserErrors, HostMustBeLoopbackUnlessRemoteIsAllowed) {
    EXPECT_TRUE(fails_with_parts(kTarget + "host = \"203.0.113.9\"\n" + kLoad, 3, 8,
                           {"t.toml:3:8: target.host: 203.0.113.9 is not a loopback address; draincheck only sends load to "
                            "127.0.0.0/8 and ::1 unless target.allow_remote = true"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "host = \"::2\"\n" + kLoad, 3, 8, {"::2 is not a loopback address"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "host = \"example.com\"\n" + kLoad, 3, 8,
                           {"target.host: expected an IP address (e.g. \"127.0.0.1\", \"::1\") or \"localhost\", got \"example.com\""}));
    EXPECT_TRUE(fails_with_parts(kTarget + "host = \"example.com\"\nallow_remote = true\n" + kLoad, 3, 8, {"expected an IP address"}));
    for (const char* ok : {"127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "localhost"})
        EXPECT_EQ(parse_scenario_text(kTarget + "host = \"" + ok + "\"\n" + kLoad, "t.toml").target.host, ok);
    // allow_remote may come after host in the file.
    Scenario remote = parse_scenario_text(kTarget + "host = \"203.0.113.9\"\nallow_remote = true\n" + kLoad, "t.toml");
    EXPECT_EQ(remote.target.host, "203.0.113.9");
    EXPECT_TRUE(remote.target.allow_remote);
}

TEST(ScenarioParserErrors, SignalNamesAreChecked) {
    EXPECT_TRUE(fails_with_parts(kTarget + "stop_signal = \"TERMINATE\"\n" + kLoad, 3, 15,
                           {"target.stop_signal: expected a signal name (TERM, INT, QUIT, HUP, KILL, STOP, CONT, USR1, USR2",
                            "got \"TERMINATE\""}));
    EXPECT_EQ(parse_scenario_text(kTarget + "stop_signal = \"int\"\n" + kLoad, "t.toml").target.stop_signal, SIGINT);
}

TEST(ScenarioParserErrors, FaultsMustFitTheLoadAndBeKnown) {
    std::string three = kMinimal + kStopFault + kStopFault + "[[faults]]\nat = \"12s\"\naction = \"signal\"\nsignal = \"TERM\"\n";
    EXPECT_TRUE(fails_with_parts(three, 14, 6, {"t.toml:14:6: faults[2].at: 12s is not within load.duration (10s)"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[faults]]\nat = \"10s\"\naction = \"signal\"\nsignal = \"TERM\"\n", 6, 6,
                           {"faults[0].at: 10s is not within load.duration (10s)"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[faults]]\nat = \"1s\"\naction = \"explode\"\n", 7, 10,
                           {"faults[0].action: unknown action \"explode\"; known actions: signal"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[faults]]\nat = \"1s\"\naction = \"signal\"\nsignal = \"TERMINATE\"\n", 8, 10,
                           {"faults[0].signal: expected a signal name (TERM, INT, QUIT, HUP, KILL, STOP, CONT, USR1, USR2",
                            "got \"TERMINATE\""}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[faults]]\nat = \"1s\"\naction = \"signal\"\n", 5, 1, {"faults[0].signal: missing required signal name"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[faults]]\naction = \"signal\"\nsignal = \"TERM\"\n", 5, 1, {"faults[0].at: missing required duration"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[faults]]\nat = \"1s\"\n", 5, 1, {"faults[0].action: missing required string (one of: signal, stop, kill_dependency, stop_dependency, "
                                                     "cont_dependency, restart_dependency, toxic, scale_down, scale_up, "
                                                     "rolling_restart, kill_replica, platform)"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[[faults]]\nat = 1\n", 6, 6, {"faults[0].at: expected a duration string like \"10s\", got integer 1"}));
}

TEST(ScenarioParserErrors, DrainExpectationsNeedAStopSignal) {
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nexit_within = \"5s\"\n", 6, 15,
                           {"t.toml:6:15: expect.exit_within needs a [[faults]] entry that sends a stop signal (\"stop\", or a signal TERM, INT, QUIT or KILL)"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nrefused_after_close = \"clean\"\n", 6, 23, {"expect.refused_after_close needs a [[faults]] entry"}));
    EXPECT_TRUE(fails_with_parts(kMinimal + "[expect]\nready_fails_during_drain = false\n", 6, 28, {"expect.ready_fails_during_drain needs a [[faults]] entry"}));
    // A HUP is not a stop signal...
    std::string hup = "[[faults]]\nat = \"0s\"\naction = \"signal\"\nsignal = \"HUP\"\n";
    EXPECT_TRUE(fails_with_parts(kMinimal + hup + "[expect]\nexit_within = \"1s\"\n", 10, 15, {"needs a [[faults]] entry"}));
    // ...unless it is the target's stop_signal, which the message then names.
    EXPECT_NO_THROW(parse_scenario_text(kTarget + "stop_signal = \"HUP\"\n" + kLoad + hup + "[expect]\nexit_within = \"1s\"\n", "t.toml"));
    EXPECT_TRUE(fails_with_parts(kTarget + "stop_signal = \"USR1\"\n" + kLoad + "[expect]\nexit_within = \"1s\"\n", 7, 15,
                           {"stop signal (\"stop\", or a signal TERM, INT, QUIT, KILL or target.stop_signal USR1)"}));
    for (const char* stop : {"TERM", "INT", "QUIT", "KILL"})
        EXPECT_NO_THROW(parse_scenario_text(kMinimal + "[[faults]]\nat = \"0s\"\naction = \"signal\"\nsignal = \"" + stop +
                                                "\"\n[expect]\nexit_within = \"1s\"\nrefused_after_close = \"clean\"\n"
                                                "ready_fails_during_drain = true\n", "t.toml")) << stop;
    // Expectations that do not depend on a drain need no fault.
    EXPECT_NO_THROW(parse_scenario_text(kMinimal + "[expect]\nexit_code = 0\ndropped_inflight = 0\nmax_error_rate = 0\n"
                                        "refused_after_close = \"any\"\n", "t.toml"));
}

TEST(ScenarioParserErrors, MissingRequiredTablesAndKeys) {
    EXPECT_TRUE(fails_with_parts("", 1, 1, {"t.toml:1:1: target: missing required table [target]"}));
    EXPECT_TRUE(fails_with_parts("# only a comment\n", 1, 1, {"target: missing required table [target]"}));
    EXPECT_TRUE(fails_with_parts(kLoad, 1, 1, {"target: missing required table [target]"}));
    EXPECT_TRUE(fails_with_parts(kTarget, 1, 1, {"load: missing required table [load]"}));
    EXPECT_TRUE(fails_with_parts("[target]\nport = 1\n" + kLoad, 1, 1, {"target.command: missing required array of strings"}));
    EXPECT_TRUE(fails_with_parts(kTarget + "[load]\nrate = 5\n", 3, 1, {"t.toml:3:1: load.duration: missing required duration"}));
}

TEST(ScenarioParserErrors, ErrorsCarryTheSourceName) {
    try {
        parse_scenario_text("[target]\n" + kLoad, "scenarios/x.toml");
        FAIL() << "no error";
    } catch (const ScenarioError& e) {
        EXPECT_EQ(e.file(), "scenarios/x.toml");
        EXPECT_EQ(e.line(), 1);
        EXPECT_EQ(e.column(), 1);
        EXPECT_EQ(e.message(), "target.command: missing required array of strings (the target's argv, e.g. [\"node\", \"server.js\"]), or image = \"app:1.4\"");
        EXPECT_EQ(std::string(e.what()), "scenarios/x.toml:1:1: " + e.message());
    }
}

// ---- the reference documentation ----

namespace {

// One row of a key table in docs/scenario-reference.md.
struct DocumentedKey {
    std::string table;     // "" (top level), "target", "target.ready", "load", "load.mix", "fleet", "faults", "expect"…
    std::string key;
    std::string example;   // "key = value", or "[section]" for tables
};

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<DocumentedKey> documented_keys(const std::string& doc) {
    std::vector<DocumentedKey> keys;
    std::optional<std::string> table;
    std::istringstream lines(doc);
    auto between_backticks = [](const std::string& s) {
        size_t open = s.find('`'), close = s.rfind('`');
        return open == std::string::npos || close == open ? std::string() : s.substr(open + 1, close - open - 1);
    };
    auto without_brackets = [](std::string s) {
        std::erase(s, '[');
        std::erase(s, ']');
        return s;
    };
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("#")) {
            // "## `[target]`" holds the keys of [target]; "## Top level" those of the root.
            std::string name = between_backticks(line);
            table = line == "## Top level" ? std::optional<std::string>("") :
                    name.empty()           ? std::nullopt : std::optional(without_brackets(name));
            continue;
        }
        if (!table || !line.starts_with("| `")) continue;
        std::vector<std::string> cells;
        for (size_t start = 2, end; (end = line.find(" | ", start)) != std::string::npos; start = end + 3)
            cells.push_back(line.substr(start, end - start));
        if (cells.size() < 4) continue;
        std::string key = without_brackets(between_backticks(cells[0]));
        key = key.substr(key.rfind('.') + 1);   // "[[load.mix]]" is the key `mix` of [load]
        keys.push_back({*table, key, between_backticks(cells[3])});
    }
    return keys;
}

// The keys a table accepts, as its unknown-key error lists them.
std::set<std::string> accepted_keys(const std::string& table) {
    const std::string unknown = "zzzzzzzz = 1\n";
    std::map<std::string, std::string> probe = {
        {"", unknown + kMinimal},
        {"target", "[target]\n" + unknown + kLoad},
        {"target.ready", kTarget + "ready = { " + unknown.substr(0, unknown.size() - 1) + " }\n" + kLoad},
        {"load", kTarget + "[load]\n" + unknown},
        {"load.mix", kMinimal + "[[load.mix]]\n" + unknown},
        {"dependencies", kMinimal + "[[dependencies]]\n" + unknown},
        {"dependencies.ready", kMinimal + "[[dependencies]]\nname = \"db\"\ncommand = [\"x\"]\nready = { " +
                                   unknown.substr(0, unknown.size() - 1) + " }\n"},
        {"fleet", kMinimal + "[fleet]\n" + unknown},
        {"fleet.health", kMinimal + "[fleet.health]\n" + unknown},
        {"fleet.state_probe", kMinimal + "[fleet.state_probe]\n" + unknown},
        {"platform", kMinimal + "[platform]\n" + unknown},
        {"platform.health", kMinimal + "[platform]\nkind = \"swarm\"\n[platform.health]\n" + unknown},
        {"faults", kMinimal + "[[faults]]\n" + unknown},
        {"expect", kMinimal + "[expect]\n" + unknown},
        {"expect.dependency_down", kMinimal + "[expect.dependency_down]\n" + unknown}};
    std::string message = error_of(probe.at(table)).message();
    const std::string marker = "expected one of: ";
    if (message.find(marker) == std::string::npos) return {message};   // shows up in the failed comparison
    std::set<std::string> keys;
    std::istringstream list(message.substr(message.find(marker) + marker.size()));
    for (std::string key; std::getline(list >> std::ws, key, ',');) keys.insert(key);
    return keys;
}

// The keys of other tables that only a [fleet] scenario accepts.
bool is_fleet_key(const DocumentedKey& d) {
    static const std::set<std::string> fault_keys = {"count", "pick", "seed", "max_surge", "max_unavailable"};
    static const std::set<std::string> expect_keys = {"client_errors", "capacity_restored_within",
                                                      "max_p99_during_fault", "stateless"};
    return d.table.starts_with("fleet") || (d.table == "faults" && fault_keys.count(d.key)) ||
           (d.table == "expect" && expect_keys.count(d.key));
}

// A valid [fleet] scenario with `example` placed in `table`, replacing that key's line if the base has one.
std::string fleet_scenario_with(const DocumentedKey& d) {
    std::string fault = "at = \"1s\"\naction = \"scale_down\"\n";
    if (d.key == "seed") fault += "pick = \"random\"\n";
    if (d.key == "max_surge" || d.key == "max_unavailable") fault = "at = \"1s\"\naction = \"rolling_restart\"\n";
    std::map<std::string, std::string> body = {
        {"fleet", ""}, {"fleet.health", ""}, {"fleet.state_probe", ""}, {"faults", fault}, {"expect", ""}};
    std::string& lines = body.at(d.table);
    size_t own = lines.find(d.key + " = ");
    if (own != std::string::npos) lines.erase(own, lines.find('\n', own) + 1 - own);
    lines += d.example + "\n";
    auto section = [&](const std::string& header, const std::string& table, bool always) {
        return always || !body[table].empty() ? header + "\n" + body[table] : std::string();
    };
    return "[target]\ncommand = [\"x\", \"--port\", \"{port}\"]\n[load]\nduration = \"10s\"\n" +
           section("[fleet]", "fleet", true) + section("[fleet.health]", "fleet.health", false) +
           section("[fleet.state_probe]", "fleet.state_probe", false) + section("[[faults]]", "faults", true) +
           "[[faults]]\nat = \"2s\"\naction = \"scale_up\"\n[[faults]]\nat = \"3s\"\naction = \"rolling_restart\"\n" +
           section("[expect]", "expect", false);
}

// A valid [platform] scenario with `example` placed in `table`: a swarm for the swarm's keys, else PM2.
std::string platform_scenario_with(const DocumentedKey& d) {
    static const std::set<std::string> swarm_keys = {"replicas", "update_parallelism", "update_delay", "update_order",
                                                     "stop_grace_period", "lb", "health"};
    bool swarm = d.table == "platform.health" || (d.table == "platform" && swarm_keys.count(d.key));
    std::string platform = swarm ? "kind = \"swarm\"\n" : "kind = \"pm2\"\n";
    std::string fault = "at = \"1s\"\naction = \"platform\"\noperation = \"" + std::string(swarm ? "update" : "reload") + "\"\n";
    std::map<std::string, std::string> body = {{"platform", platform}, {"platform.health", ""}, {"faults", fault}};
    std::string& lines = body.at(d.table);
    size_t own = lines.find(d.key + " = ");
    if (own != std::string::npos) lines.erase(own, lines.find('\n', own) + 1 - own);
    lines += d.example + "\n";
    if (d.key == "exec_mode") lines += "instances = 1\n";
    std::string target = swarm ? "[target]\nimage = \"app:1\"\n" : "[target]\ncommand = [\"node\", \"app.js\", \"{port}\"]\n";
    return target + "[load]\nduration = \"10s\"\n[platform]\n" + body["platform"] +
           (body["platform.health"].empty() ? "" : "[platform.health]\n" + body["platform.health"]) + "[[faults]]\n" +
           body["faults"];
}

// A valid scenario with `example` (one "key = value" line) placed in `table`, replacing that
// key's line if the base scenario has one.
std::string scenario_with(const DocumentedKey& d) {
    if (d.table.starts_with("platform") || (d.table == "faults" && d.key == "operation")) return platform_scenario_with(d);
    if (is_fleet_key(d)) return fleet_scenario_with(d);
    // Faults other than `signal` act on the dependency "db", which also makes an outage to judge.
    static const std::map<std::string, std::string> toxic_for_key = {
        {"latency", "latency"}, {"jitter", "latency"}, {"rate", "bandwidth"}, {"timeout", "reset_peer"},
        {"delay", "slow_close"}, {"bytes", "limit_data"}, {"direction", "blackhole"}, {"until", "blackhole"},
        {"toxic", "blackhole"}, {"dependency", "blackhole"}};
    std::string fault = "at = \"1s\"\naction = \"signal\"\nsignal = \"TERM\"\n";
    if (d.table == "faults" && toxic_for_key.count(d.key))
        fault = "at = \"1s\"\naction = \"toxic\"\ndependency = \"db\"\ntoxic = \"" + toxic_for_key.at(d.key) + "\"\n" +
                (d.key == "toxic" || d.key == "jitter" ? "latency = \"10ms\"\n" : "");
    std::map<std::string, std::string> body = {
        {"", ""}, {"target", "command = [\"x\"]\n"}, {"target.ready", ""}, {"load", "duration = \"10s\"\n"},
        {"load.mix", ""}, {"dependencies", "name = \"db\"\ncommand = [\"x\"]\n"}, {"dependencies.ready", ""},
        {"faults", fault}, {"expect", ""}, {"expect.dependency_down", ""}};
    // The container options come with an image.
    if (d.table == "target" && (d.key == "init" || d.key == "docker_args")) body["target"] = "image = \"app:1.4\"\n";
    if (d.table == "dependencies" && (d.key == "init" || d.key == "docker_args"))
        body["dependencies"] = "name = \"db\"\nimage = \"redis:7\"\n";
    if (d.table == "target.ready" && d.key != "http" && d.key != "tcp") body["target.ready"] = "tcp = true\n";
    if (d.table == "dependencies.ready" && d.key != "command" && d.key != "tcp") body["dependencies.ready"] = "tcp = true\n";
    std::string& lines = body.at(d.table);
    size_t own = lines.find(d.key + " = ");
    if (own != std::string::npos) lines.erase(own, lines.find('\n', own) + 1 - own);
    lines += d.example + "\n";
    auto section = [&](const std::string& header, const std::string& table, bool always) {
        return always || !body[table].empty() ? header + "\n" + body[table] : std::string();
    };
    const std::string outage = "[[faults]]\nat = \"2s\"\naction = \"kill_dependency\"\ndependency = \"db\"\n"
                               "[[faults]]\nat = \"3s\"\naction = \"restart_dependency\"\ndependency = \"db\"\n";
    return body[""] + section("[target]", "target", true) + section("[target.ready]", "target.ready", false) +
           section("[load]", "load", true) + section("[[load.mix]]", "load.mix", false) +
           section("[[dependencies]]", "dependencies", true) +
           section("[dependencies.ready]", "dependencies.ready", false) + section("[[faults]]", "faults", true) +
           outage + section("[expect]", "expect", false) +
           section("[expect.dependency_down]", "expect.dependency_down", false);
}

}  // namespace

TEST(ScenarioReference, DocumentsExactlyTheKeysEachTableAccepts) {
    auto documented = documented_keys(read_text(fs::path(DRAINCHECK_SOURCE_DIR) / "docs" / "scenario-reference.md"));
    for (const std::string table : {"", "target", "target.ready", "load", "load.mix", "dependencies", "dependencies.ready",
                                    "fleet", "fleet.health", "fleet.state_probe", "platform", "platform.health", "faults", "expect",
                                    "expect.dependency_down"}) {
        std::set<std::string> keys;
        for (const auto& d : documented)
            if (d.table == table) keys.insert(d.key);
        EXPECT_EQ(keys, accepted_keys(table)) << "table `" << table << "`";
    }
}

TEST(ScenarioReference, EveryExampleParsesAndTheOpeningScenarioToo) {
    std::string doc = read_text(fs::path(DRAINCHECK_SOURCE_DIR) / "docs" / "scenario-reference.md");
    int examples = 0;
    for (const auto& d : documented_keys(doc)) {
        if (d.example.starts_with("[")) continue;   // a section header, not a value
        ASSERT_TRUE(d.example.starts_with(d.key + " = ")) << d.table << "." << d.key << ": " << d.example;
        std::string text = scenario_with(d);
        EXPECT_NO_THROW(parse_scenario_text(text, "example.toml")) << text;
        ++examples;
    }
    EXPECT_GT(examples, 40);
    size_t start = doc.find("```toml\n");
    ASSERT_NE(start, std::string::npos);
    start += 8;
    EXPECT_NO_THROW(parse_scenario_text(doc.substr(start, doc.find("```", start) - start), "opening.toml"));
}

// ---- files ----

class ScenarioFile : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("dc-parser-test-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(ScenarioFile, ReadsAFileAndResolvesCwdAgainstItsDirectory) {
    fs::path path = dir_ / "from-disk.toml";
    std::ofstream(path) << kTarget << "cwd = \"sub\"\n" << kLoad;
    Scenario s = parse_scenario_file(path.string());
    EXPECT_EQ(s.name, "from-disk");
    EXPECT_EQ(s.source_path, path.string());
    EXPECT_EQ(s.target.cwd, (dir_ / "sub").string());
    EXPECT_EQ(s.load.duration, 10s);
}

TEST_F(ScenarioFile, ErrorsNameTheFile) {
    fs::path path = dir_ / "broken.toml";
    std::ofstream(path) << kMinimal << "rate = 0\n";
    try {
        parse_scenario_file(path.string());
        FAIL() << "no error";
    } catch (const ScenarioError& e) {
        EXPECT_EQ(std::string(e.what()), path.string() + ":5:8: load.rate: expected a number > 0, got 0");
    }
}

TEST_F(ScenarioFile, MissingFileOrDirectoryHasNoPosition) {
    fs::path missing = dir_ / "missing.toml";
    try {
        parse_scenario_file(missing.string());
        FAIL() << "no error for a missing file";
    } catch (const ScenarioError& e) {
        EXPECT_EQ(e.line(), 0);
        EXPECT_EQ(std::string(e.what()), missing.string() + ": cannot read scenario file: No such file or directory");
    }
    try {
        parse_scenario_file(dir_.string());
        FAIL() << "no error for a directory";
    } catch (const ScenarioError& e) {
        EXPECT_EQ(e.line(), 0);
        EXPECT_EQ(e.message(), "cannot read scenario file: Is a directory");
    }
}
