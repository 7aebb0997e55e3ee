#include "reports/json_report.h"
#include "verifier/verifier.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace draincheck;
namespace fs = std::filesystem;

namespace {

RunResult sample_run() {
    RunResult run;
    run.scenario.name = "s";
    run.scenario.source_path = "scenarios/s.toml";
    run.scenario.load.mix = {RequestTemplate{"GET", "/work?ms=800", {}, "", 1}};
    run.scenario.expect.dropped_inflight = 0;
    run.argv = {"./server", "--port", "1234"};
    run.host = "127.0.0.1";
    run.port = 1234;
    run.stop_signal_ns = 2'000'000'000;
    run.stop_signal = SIGTERM;
    run.exit = ExitInfo{true, 2'500'000'000, 0, std::nullopt, false};
    RequestRecord ok;
    ok.intended_us = ok.started_us = 1'000'000;
    ok.end_us = 800'000;
    ok.status = 200;
    ok.connection_id = 1;
    RequestRecord dropped = ok;
    dropped.started_us = dropped.intended_us = 1'900'000;
    dropped.end_us = 600'000;
    dropped.written_us = 100;
    dropped.first_byte_us = RequestRecord::kNever;
    dropped.status = 0;
    dropped.outcome = Outcome::dropped;
    dropped.flags = kFullyWritten | kPeerReset | kReusedConnection;
    run.records = {ok, dropped};
    run.events = {{EventType::signal_sent, 2'000'000'000, "TERM"}, {EventType::exited, 2'500'000'000, "code 0"}};
    run.log_tail = {{10, false, "hello <script>alert(1)</script>"}, {20, true, std::string("bad \xff\xfe bytes")}};
    run.log_lines_total = 2;
    return run;
}

}  // namespace

TEST(JsonReport, CarriesTheVerdictAndItsEvidence) {
    RunResult run = sample_run();
    Verdict v = verify(run);
    auto j = make_json_report(run, v, compute_stats(run.records, {run.stop_signal_ns, run.exit.at_ns}, 0), "1.2.3");
    EXPECT_EQ(j["schema"], "draincheck/1");
    EXPECT_EQ(j["draincheck_version"], "1.2.3");
    EXPECT_EQ(j["target"]["command"][2], "1234");
    EXPECT_FALSE(j["verdict"]["passed"].get<bool>());
    ASSERT_EQ(j["assertions"].size(), 1u);
    const auto& a = j["assertions"][0];
    EXPECT_EQ(a["name"], "dropped_inflight");
    ASSERT_EQ(a["evidence"].size(), 1u);
    const auto& e = a["evidence"][0];
    EXPECT_EQ(e["index"], 1);
    EXPECT_EQ(e["outcome"], "dropped");
    EXPECT_EQ(e["phase"], "before");
    EXPECT_EQ(e["path"], "/work?ms=800");
    EXPECT_TRUE(e["first_byte_ms"].is_null());
    EXPECT_DOUBLE_EQ(e["written_ms"].get<double>(), 0.1);
    EXPECT_TRUE(e["peer_reset"].get<bool>());
    EXPECT_TRUE(e["reused_connection"].get<bool>());
    // The verdict's count kind by kind, as the verifier made it.
    ASSERT_EQ(a["breakdown"].size(), 2u) << a["breakdown"].dump();
    EXPECT_EQ(a["breakdown"][0], (nlohmann::json{{"kind", "dropped"}, {"count", 1}, {"counted", true}, {"requests", {1}}}));
    EXPECT_EQ(a["breakdown"][1]["kind"], "truncated");
    EXPECT_EQ(a["breakdown"][1]["count"], 0);
    EXPECT_EQ(j["counts"]["total"], 2);
    EXPECT_EQ(j["counts"]["by_outcome"]["dropped"], 1);
    EXPECT_EQ(j["counts"]["by_phase"]["before"]["ok"], 1);
    EXPECT_EQ(j["exit"]["code"], 0);
    EXPECT_TRUE(j["exit"]["signal"].is_null());
    EXPECT_DOUBLE_EQ(j["exit"]["after_stop_signal_s"].get<double>(), 0.5);
    EXPECT_EQ(j["stop_signal"]["name"], "TERM");
    EXPECT_EQ(j["events"][0]["type"], "signal_sent");
    EXPECT_EQ(j["latency_us"]["before"]["count"], 1);
}

TEST(JsonReport, WritesAtomicallyAndSurvivesAnyLogText) {
    RunResult run = sample_run();
    Verdict v = verify(run);
    auto j = make_json_report(run, v, compute_stats(run.records, {}, 0), "x");
    auto dir = fs::temp_directory_path() / ("dc-json-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto path = (dir / "report.json").string();
    write_json_report(path, j);
    EXPECT_FALSE(fs::exists(path + ".tmp"));
    std::ifstream in(path);
    auto back = nlohmann::json::parse(in);   // valid JSON despite invalid UTF-8 in the log
    EXPECT_EQ(back["log"]["tail"][0]["text"], "hello <script>alert(1)</script>");
    EXPECT_EQ(back["log"]["tail"][1]["stream"], "stderr");
    EXPECT_NE(back["log"]["tail"][1]["text"].get<std::string>().find("bad"), std::string::npos);
    fs::remove_all(dir);
    EXPECT_THROW(write_json_report("/nonexistent-dir/report.json", j), std::runtime_error);
}

// The load asked for against the load delivered, from the verdict's figures: what a closed loop has no
// use for (a requested rate, a schedule) is null there.
TEST(JsonReport, SetsTheLoadDeliveredAgainstTheLoadAskedFor) {
    RunResult run = sample_run();
    run.scenario.load.rate = 200;
    run.scenario.load.duration = std::chrono::seconds(3);
    run.load_started_ns = 500'000'000;
    run.load_sending_stopped_ns = 2'500'000'000;   // stopped early, 250 ms after the exit
    run.load_stopped_ns = 2'600'000'000;
    run.records[1].flags |= kWaitedForConnection;
    run.records[1].started_us += 20'000;
    run.requests_not_sent = 3;
    Verdict v = verify(run);
    auto load = make_json_report(run, v, compute_stats(run.records, {}, 0), "x")["load"];
    EXPECT_EQ(load["mode"], "rate");
    EXPECT_DOUBLE_EQ(load["started_s"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(load["sending_stopped_s"].get<double>(), 2.5);
    EXPECT_DOUBLE_EQ(load["stopped_s"].get<double>(), 2.6);
    EXPECT_DOUBLE_EQ(load["requested_rate"].get<double>(), 200);
    EXPECT_DOUBLE_EQ(load["requested_duration_s"].get<double>(), 3);
    EXPECT_EQ(load["sent"], 2);
    EXPECT_DOUBLE_EQ(load["sending_s"].get<double>(), 2);
    EXPECT_DOUBLE_EQ(load["achieved_rate"].get<double>(), 1);
    EXPECT_DOUBLE_EQ(load["overrun_s"].get<double>(), 0);
    ASSERT_EQ(load["seconds_below_rate"].size(), 2u);   // the whole seconds 0-1 and 1-2
    EXPECT_EQ(load["seconds_below_rate"][0], (nlohmann::json{{"second", 0}, {"sent", 1}, {"requested", 200}}));
    EXPECT_EQ(load["waited_for_connection"], (nlohmann::json{{"count", 4}, {"longest_s", 0.02}, {"never_sent", 3}}));
    EXPECT_EQ(load["sent_late"]["count"], 0);
    EXPECT_DOUBLE_EQ(load["sent_late"]["bound_s"].get<double>(), 0.5);
    EXPECT_EQ(v.warnings.size(), 2u) << ::testing::PrintToString(v.warnings);
    EXPECT_EQ(make_json_report(run, v, compute_stats(run.records, {}, 0), "x")["verdict"]["warnings"], v.warnings);

    run.scenario.load.mode = LoadSpec::Mode::connections;
    load = make_json_report(run, verify(run), compute_stats(run.records, {}, 0), "x")["load"];
    EXPECT_EQ(load["mode"], "connections");
    for (const char* key : {"requested_rate", "seconds_below_rate", "waited_for_connection", "sent_late"})
        EXPECT_TRUE(load[key].is_null()) << key;
    EXPECT_EQ(load["sent"], 2);
}
