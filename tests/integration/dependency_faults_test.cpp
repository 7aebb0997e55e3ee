// Dependency faults in real runs: a real redis-server behind the fault proxy, the sample service as
// the target. What the target's clients saw must match what was done to its dependency.
#include "cli_harness.h"

#include <gtest/gtest.h>

using namespace draincheck::testing;

namespace {

std::string scenario(const std::string& load, const std::string& faults, const std::string& expect = "") {
    return "[[dependencies]]\nname = \"redis\"\n"
           "command = [\"redis-server\", \"--port\", \"{port}\", \"--save\", \"\", \"--appendonly\", \"no\"]\n"
           "ready = { command = [\"redis-cli\", \"-p\", \"{port}\", \"ping\"] }\n"
           "env = { REDIS_URL = \"redis://127.0.0.1:{proxy_port}\" }\n"
           "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\", \"--redis-timeout-ms\", \"2000\"]\n"
           "ready = { http = \"/healthz\" }\n[load]\n" + load + faults + expect;
}

CliRun run(const TempDir& dir, const std::string& text) {
    auto json = dir.path() / "r.json";
    return run_cli({"run", write_file(dir.path(), "s.toml", text).string(), "--json", json.string()}, json);
}

std::vector<nlohmann::json> events_of(const CliRun& r, const std::string& type) {
    std::vector<nlohmann::json> out;
    for (const auto& e : r.report["events"])
        if (e["type"] == type) out.push_back(e);
    return out;
}

TEST(DependencyFaults, ALatencyToxicSlowsAnswersWhileItIsOn) {
    TempDir dir;
    CliRun r = run(dir, scenario("rate = 50\nduration = \"3s\"\npath = \"/count\"\n",
                                 "[[faults]]\nat = \"1s\"\naction = \"toxic\"\ndependency = \"redis\"\ntoxic = \"latency\"\n"
                                 "latency = \"120ms\"\nuntil = \"2s\"\n",
                                 "[expect]\nmax_error_rate = 0.0\n"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_EQ(events_of(r, "toxic_added").size(), 1u) << r.output;
    ASSERT_EQ(events_of(r, "toxic_removed").size(), 1u) << r.output;
    EXPECT_EQ(events_of(r, "toxic_added")[0]["subject"], "redis");
    // Buckets by start time from the start of load: clearly inside the toxic's window, every answer
    // waited for it; well outside, none did.
    int slow_inside = 0, fast_outside = 0;
    for (const auto& b : r.report["per_100ms"]) {
        double at = b["start_s"].get<double>();
        uint64_t p50 = b["p50_us"].get<uint64_t>();
        if (b["ok"].get<uint64_t>() == 0) continue;
        if (at >= 1.2 && at < 1.8) {
            EXPECT_GE(p50, 120'000u) << "at " << at;
            ++slow_inside;
        }
        if (at < 0.8 || at >= 2.3) {
            EXPECT_LT(p50, 120'000u) << "at " << at;
            ++fast_outside;
        }
    }
    EXPECT_GT(slow_inside, 3);
    EXPECT_GT(fast_outside, 3);
}

TEST(DependencyFaults, RestartingARunningDependencyIsAnOutageUntilItIsReadyAgain) {
    TempDir dir;
    CliRun r = run(dir, scenario("rate = 50\nduration = \"3s\"\npath = \"/count\"\n",
                                 "[[faults]]\nat = \"1s\"\naction = \"restart_dependency\"\ndependency = \"redis\"\n"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto& d = r.report["dependencies"][0];
    ASSERT_EQ(d["outages"].size(), 1u) << d.dump();
    EXPECT_EQ(d["outages"][0]["how"], "restarting");
    ASSERT_FALSE(d["outages"][0]["up_s"].is_null());
    EXPECT_GT(d["outages"][0]["up_s"].get<double>(), d["outages"][0]["down_s"].get<double>());
    EXPECT_EQ(events_of(r, "dependency_spawned").size(), 2u) << r.output;
    EXPECT_EQ(events_of(r, "dependency_ready").size(), 2u) << r.output;
    // Redis ran again: the service's connection before and its reconnection after both went through.
    EXPECT_GE(d["connections"].size(), 2u) << d.dump();
}

TEST(DependencyFaults, ResetPeerResetsTheTargetsConnectionsAndTheProxySaysSo) {
    TempDir dir;
    CliRun r = run(dir, scenario("rate = 50\nduration = \"2s\"\npath = \"/count\"\n",
                                 "[[faults]]\nat = \"1s\"\naction = \"toxic\"\ndependency = \"redis\"\ntoxic = \"reset_peer\"\n"
                                 "until = \"1200ms\"\n"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    size_t reset = 0;
    for (const auto& c : r.report["dependencies"][0]["connections"])
        if (c["closed_by"] == "proxy" && c["close_detail"] == "toxic reset_peer") ++reset;
    EXPECT_GE(reset, 1u) << r.report["dependencies"][0]["connections"].dump();
    bool seen = false;   // the target's own log says it lost the connection
    for (const auto& line : r.report["log"]["tail"])
        seen = seen || line["text"].get<std::string>().find("redis: connection lost") != std::string::npos;
    EXPECT_TRUE(seen) << r.report["log"].dump();
}

TEST(DependencyFaults, AFrozenDependencyIsDownUntilContinued) {
    TempDir dir;
    // Frozen longer than a ready probe waits (1 s): the probe during the freeze times out.
    CliRun r = run(dir, scenario("rate = 50\nduration = \"3500ms\"\npath = \"/count\"\n",
                                 "[[faults]]\nat = \"1s\"\naction = \"stop_dependency\"\ndependency = \"redis\"\n"
                                 "[[faults]]\nat = \"2500ms\"\naction = \"cont_dependency\"\ndependency = \"redis\"\n",
                                 "[expect.dependency_down]\nready_fails = true\n"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto& outages = r.report["dependencies"][0]["outages"];
    ASSERT_EQ(outages.size(), 1u);
    EXPECT_EQ(outages[0]["how"], "frozen");
    double frozen_for = outages[0]["up_s"].get<double>() - outages[0]["down_s"].get<double>();
    EXPECT_GT(frozen_for, 1.4);
    EXPECT_FALSE(r.report["outage_probes"].empty());
}

}  // namespace
