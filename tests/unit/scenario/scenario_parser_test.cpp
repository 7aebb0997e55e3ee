#include "scenario/scenario_parser.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace draincheck;
using namespace std::chrono_literals;

namespace {

const char* kFull = R"(name = "full"
description = "every key"

[target]
command = ["./server", "--port", "{port}"]
cwd = "/srv"
env = { MODE = "prod", WORKERS = 4 }
host = "::1"
port = 8080
ready = { http = "/healthz", timeout = "5s", interval = "20ms" }
stop_signal = "QUIT"
kill_after = "30s"

[load]
mode = "connections"
rate = 500
connections = 8
max_connections = 64
duration = "20s"
method = "POST"
path = "/orders"
headers = { "X-Test" = "1" }
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
method = "GET"
weight = 3

[[faults]]
at = "5s"
action = "signal"
signal = "TERM"

[[faults]]
at = "1s"
action = "signal"
signal = "HUP"

[expect]
dropped_inflight = 0
exit_code = 0
exit_within = "10s"
max_error_rate = 0.01
refused_after_close = "clean"
ready_fails_during_drain = true
)";

ScenarioError error_of(const std::string& text) {
    try {
        parse_scenario_text(text, "t.toml");
    } catch (const ScenarioError& e) {
        return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return ScenarioError("", 0, 0, "");
}

const std::string kTarget = "[target]\ncommand = [\"x\"]\n";
const std::string kLoad = "[load]\nduration = \"1s\"\n";

}  // namespace

TEST(ScenarioParser, ReadsEveryKey) {
    Scenario s = parse_scenario_text(kFull, "dir/full.toml");
    EXPECT_EQ(s.name, "full");
    EXPECT_EQ(s.description, "every key");
    EXPECT_EQ(s.target.command, (std::vector<std::string>{"./server", "--port", "{port}"}));
    EXPECT_EQ(s.target.cwd, "/srv");
    EXPECT_EQ(s.target.env.at("MODE"), "prod");
    EXPECT_EQ(s.target.env.at("WORKERS"), "4");
    EXPECT_EQ(s.target.host, "::1");
    EXPECT_EQ(s.target.port, 8080);
    EXPECT_EQ(s.target.ready.kind, ReadyProbe::Kind::http);
    EXPECT_EQ(s.target.ready.http_path, "/healthz");
    EXPECT_EQ(s.target.ready.timeout, 5s);
    EXPECT_EQ(s.target.ready.interval, 20ms);
    EXPECT_EQ(s.target.stop_signal, SIGQUIT);
    EXPECT_EQ(s.target.kill_after, 30s);
    const LoadSpec& l = s.load;
    EXPECT_EQ(l.mode, LoadSpec::Mode::connections);
    EXPECT_EQ(l.rate, 500);
    EXPECT_EQ(l.connections, 8u);
    EXPECT_EQ(l.max_connections, 64u);
    EXPECT_EQ(l.duration, 20s);
    EXPECT_EQ(l.request.method, "POST");
    EXPECT_EQ(l.request.path, "/orders");
    ASSERT_EQ(l.request.headers.size(), 1u);
    EXPECT_EQ(l.request.headers[0].first, "X-Test");
    EXPECT_EQ(l.request.body, "{}");
    EXPECT_FALSE(l.keep_alive);
    EXPECT_EQ(l.timeout, 2s);
    EXPECT_EQ(l.threads, 2u);
    EXPECT_EQ(l.max_requests, 1000u);
    EXPECT_EQ(l.after_exit, 0s);
    EXPECT_EQ(l.closed_idle_window, 2ms);
    EXPECT_EQ(l.seed, 7u);
    ASSERT_EQ(l.mix.size(), 2u);
    EXPECT_EQ(l.mix[0].method, "POST");   // inherited from [load]
    EXPECT_EQ(l.mix[0].path, "/slow");
    EXPECT_EQ(l.mix[0].weight, 0.25);
    EXPECT_EQ(l.mix[1].method, "GET");
    EXPECT_EQ(l.mix[1].path, "/orders");
    EXPECT_EQ(l.mix[1].body, "{}");
    ASSERT_EQ(s.faults.size(), 2u);
    EXPECT_EQ(s.faults[0].at, 1s);        // sorted by time
    EXPECT_EQ(s.faults[0].signal, SIGHUP);
    EXPECT_EQ(s.faults[1].signal, SIGTERM);
    EXPECT_EQ(s.faults[1].line, 40);   // where its [[faults]] header is
    EXPECT_EQ(s.expect.dropped_inflight, 0u);
    EXPECT_EQ(s.expect.exit_code, 0);
    EXPECT_EQ(s.expect.exit_within, Nanos(10s));
    EXPECT_EQ(s.expect.max_error_rate, 0.01);
    EXPECT_TRUE(s.expect.refused_after_close_clean);
    EXPECT_EQ(s.expect.ready_fails_during_drain, true);
}

TEST(ScenarioParser, Defaults) {
    Scenario s = parse_scenario_text(kTarget + kLoad, "/tmp/some/minimal.toml");
    EXPECT_EQ(s.name, "minimal");
    EXPECT_EQ(s.target.cwd, "/tmp/some");
    EXPECT_EQ(s.target.host, "127.0.0.1");
    EXPECT_FALSE(s.target.port.has_value());
    EXPECT_EQ(s.target.ready.kind, ReadyProbe::Kind::tcp);
    EXPECT_EQ(s.target.stop_signal, SIGTERM);
    EXPECT_EQ(s.target.kill_after, 10s);
    EXPECT_EQ(s.load.mode, LoadSpec::Mode::rate);
    EXPECT_EQ(s.load.request.method, "GET");
    EXPECT_EQ(s.load.request.path, "/");
    EXPECT_TRUE(s.load.keep_alive);
    EXPECT_TRUE(s.load.mix.empty());
    EXPECT_TRUE(s.faults.empty());
    EXPECT_FALSE(s.expect.dropped_inflight.has_value());
}

TEST(ScenarioParser, MalformedTomlHasPosition) {
    ScenarioError e = error_of("[target]\ncommand = [\"x\"\n");
    EXPECT_EQ(e.file(), "t.toml");
    EXPECT_GE(e.line(), 2);
    EXPECT_NE(e.message().find("invalid TOML"), std::string::npos);
}

TEST(ScenarioParser, UnknownKeySuggestsTheClosestKnownOne) {
    ScenarioError e = error_of(kTarget + "[load]\nduraton = \"1s\"\n");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.column(), 1);
    EXPECT_NE(e.message().find("load.duraton"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("did you mean `duration`"), std::string::npos) << e.what();
    ScenarioError far = error_of(kTarget + kLoad + "[expect]\nzebra = 1\n");
    EXPECT_EQ(far.message().find("did you mean"), std::string::npos) << far.what();
    EXPECT_NE(far.message().find("dropped_inflight"), std::string::npos) << far.what();  // lists known keys
}

TEST(ScenarioParser, WrongTypesSayWhatWasExpected) {
    ScenarioError e = error_of(kTarget + "[load]\nduration = 10\n");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.column(), 12);
    EXPECT_NE(e.message().find("expected a duration string like \"10s\""), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("got integer 10"), std::string::npos) << e.what();
    EXPECT_NE(error_of("[target]\ncommand = \"x\"\n" + kLoad).message().find("expected an array"), std::string::npos);
    EXPECT_NE(error_of(kTarget + kLoad + "[expect]\nexit_code = \"0\"\n").message().find("expected an integer"), std::string::npos);
}

TEST(ScenarioParser, ImpossibleValues) {
    EXPECT_NE(error_of(kTarget + "[load]\nduration = \"0s\"\n").message().find("load.duration: expected a duration > 0"), std::string::npos);
    EXPECT_NE(error_of(kTarget + "[load]\nduration = \"-2s\"\n").message().find("load.duration"), std::string::npos);
    EXPECT_NE(error_of(kTarget + kLoad + "rate = 0\n").message().find("load.rate: expected a number > 0, got integer 0"), std::string::npos);
    EXPECT_NE(error_of(kTarget + kLoad + "connections = 0\n").message().find("load.connections"), std::string::npos);
    EXPECT_NE(error_of(kTarget + kLoad + "path = \"x\"\n").message().find("starting with \"/\""), std::string::npos);
    EXPECT_NE(error_of("[target]\ncommand = []\n" + kLoad).message().find("non-empty"), std::string::npos);
    EXPECT_NE(error_of("[target]\ncommand = [\"x\"]\nport = 70000\n" + kLoad).message().find("target.port"), std::string::npos);
    EXPECT_NE(error_of(kTarget + kLoad + "[expect]\nmax_error_rate = 1.5\n").message().find("expect.max_error_rate"), std::string::npos);
    EXPECT_NE(error_of("[target]\ncommand = [\"x\"]\nready = { http = \"/h\", tcp = true }\n" + kLoad).message().find("not both"), std::string::npos);
}

TEST(ScenarioParser, FaultsMustFitTheLoadAndBeKnown) {
    ScenarioError late = error_of(kTarget + kLoad + "[[faults]]\nat = \"2s\"\naction = \"signal\"\nsignal = \"TERM\"\n");
    EXPECT_EQ(late.line(), 6);
    EXPECT_NE(late.message().find("faults[0].at: 2s is not within load.duration (1s)"), std::string::npos) << late.what();
    ScenarioError action = error_of(kTarget + kLoad + "[[faults]]\nat = \"0s\"\naction = \"explode\"\n");
    EXPECT_NE(action.message().find("known actions: signal"), std::string::npos) << action.what();
    ScenarioError sig = error_of(kTarget + kLoad + "[[faults]]\nat = \"0s\"\naction = \"signal\"\nsignal = \"TERMINATE\"\n");
    EXPECT_NE(sig.message().find("TERM, INT"), std::string::npos) << sig.what();
    ScenarioError missing = error_of(kTarget + kLoad + "[[faults]]\nat = \"0s\"\naction = \"signal\"\n");
    EXPECT_NE(missing.message().find("faults[0].signal: missing"), std::string::npos) << missing.what();
}

TEST(ScenarioParser, DrainExpectationsNeedAStopSignal) {
    ScenarioError e = error_of(kTarget + kLoad + "[expect]\nexit_within = \"5s\"\n");
    EXPECT_EQ(e.line(), 6);
    EXPECT_NE(e.message().find("needs a [[faults]] entry that sends a stop signal"), std::string::npos) << e.what();
    // A HUP is not a stop signal...
    EXPECT_NE(error_of(kTarget + kLoad + "[[faults]]\nat = \"0s\"\naction = \"signal\"\nsignal = \"HUP\"\n"
                       "[expect]\nready_fails_during_drain = true\n").message().find("stop signal"), std::string::npos);
    // ...unless the target says it is its stop signal.
    EXPECT_NO_THROW(parse_scenario_text("[target]\ncommand = [\"x\"]\nstop_signal = \"HUP\"\n" + kLoad +
                                        "[[faults]]\nat = \"0s\"\naction = \"signal\"\nsignal = \"HUP\"\n"
                                        "[expect]\nexit_within = \"1s\"\n", "t.toml"));
}

TEST(ScenarioParser, LoopbackOnlyUnlessAllowed) {
    ScenarioError e = error_of("[target]\ncommand = [\"x\"]\nhost = \"203.0.113.7\"\n" + kLoad);
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(e.message().find("not a loopback address"), std::string::npos) << e.what();
    EXPECT_NE(error_of("[target]\ncommand = [\"x\"]\nhost = \"example.com\"\n" + kLoad).message().find("IP address"), std::string::npos);
    for (const char* ok : {"127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "localhost"})
        EXPECT_NO_THROW(parse_scenario_text("[target]\ncommand = [\"x\"]\nhost = \"" + std::string(ok) + "\"\n" + kLoad, "t.toml")) << ok;
    EXPECT_NO_THROW(parse_scenario_text("[target]\ncommand = [\"x\"]\nhost = \"203.0.113.7\"\nallow_remote = true\n" + kLoad, "t.toml"));
}

TEST(ScenarioParser, MissingTablesAndEmptyFile) {
    EXPECT_NE(error_of("").message().find("target: missing required table [target]"), std::string::npos);
    EXPECT_NE(error_of(kTarget).message().find("load: missing required"), std::string::npos);
    EXPECT_NE(error_of(kTarget + "[load]\nrate = 5\n").message().find("load.duration: missing required"), std::string::npos);
}

TEST(ScenarioParser, FilesAndMissingFiles) {
    auto dir = std::filesystem::temp_directory_path() / ("dc-parser-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = dir / "from-disk.toml";
    std::ofstream(path) << kTarget << "cwd = \"sub\"\n" << kLoad;
    Scenario s = parse_scenario_file(path.string());
    EXPECT_EQ(s.name, "from-disk");
    EXPECT_EQ(s.source_path, path.string());
    EXPECT_EQ(s.target.cwd, (dir / "sub").string());
    std::filesystem::remove_all(dir);
    try {
        parse_scenario_file((dir / "missing.toml").string());
        FAIL() << "no error for a missing file";
    } catch (const ScenarioError& e) {
        EXPECT_EQ(e.line(), 0);
        EXPECT_NE(std::string(e.what()).find("missing.toml: cannot read scenario file: No such file"), std::string::npos) << e.what();
    }
}
