// Bad [fleet] scenarios: the real CLI refuses them before anything runs, with the position and one clear message.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace draincheck::testing;

namespace {

constexpr int kInvalid = 2;

// Lines 1-6: a sample-service target on its own port per replica, and three seconds of load.
std::string scenario(const std::string& rest) {
    return "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\"]\n"
           "[load]\nrate = 50\nduration = \"3s\"\n\n" + rest;
}

CliRun validate(const TempDir& dir, const std::string& text) {
    return run_cli({"validate", write_file(dir.path(), "s.toml", text).string()});
}

CliRun run(const TempDir& dir, const std::string& text) {
    return run_cli({"run", write_file(dir.path(), "s.toml", text).string()});
}

bool has(const CliRun& r, const std::string& needle) { return r.output.find(needle) != std::string::npos; }

TEST(FleetBadInput, NoReplicas) {
    TempDir dir;
    std::string text = scenario("[fleet]\nreplicas = 0\n");
    for (const CliRun& r : {validate(dir, text), run(dir, text)}) {
        EXPECT_EQ(r.exit_code, kInvalid) << r.output;
        EXPECT_TRUE(has(r, "s.toml:8:12: fleet.replicas: must be at least 1 (the replicas behind the load balancer), got 0"))
            << r.output;
    }
}

TEST(FleetBadInput, ScaleDownOfMoreReplicasThanRun) {
    TempDir dir;
    CliRun r = validate(dir, scenario("[fleet]\nreplicas = 2\n\n[[faults]]\nat = \"2s\"\naction = \"scale_down\"\ncount = 3\n"));
    EXPECT_EQ(r.exit_code, kInvalid) << r.output;
    EXPECT_TRUE(has(r, "s.toml:13:9: faults[0].count: scale_down of 3 at 2s: only 2 replicas are running then")) << r.output;
}

TEST(FleetBadInput, RollingRestartThatCanNeverMakeProgress) {
    TempDir dir;
    CliRun r = run(dir, scenario("[fleet]\nreplicas = 2\n\n[[faults]]\nat = \"1s\"\naction = \"rolling_restart\"\n"
                                 "max_surge = 0\nmax_unavailable = 0\n"));
    EXPECT_EQ(r.exit_code, kInvalid) << r.output;
    EXPECT_TRUE(has(r, "s.toml:13:13: faults[0].max_surge: rolling_restart can never make progress: max_surge and "
                       "max_unavailable are both 0")) << r.output;
}

constexpr int kEnvironment = 3;

// The haproxy balancer asked for on a machine without haproxy: one message naming the package.
TEST(FleetBadInput, HaproxyNotInstalled) {
    TempDir dir;
    std::string text = scenario("[fleet]\nreplicas = 2\nlb = \"haproxy\"\n");
    const char* saved = std::getenv("PATH");
    std::string path = saved ? saved : "";
    // A PATH with neither haproxy nor an sbin next to it; the target is given by its full path.
    ::setenv("PATH", (dir.path() / "bin").c_str(), 1);
    CliRun r = run(dir, text);
    ::setenv("PATH", path.c_str(), 1);
    EXPECT_EQ(r.exit_code, kEnvironment) << r.output;
    EXPECT_TRUE(has(r, "haproxy is not installed (Debian package \"haproxy\"")) << r.output;
}

// A health check that can never pass (404): "never healthy", with the replica's own output.
TEST(FleetBadInput, HealthPathThatAnswers404NeverBecomesHealthy) {
    TempDir dir;
    CliRun r = run(dir, "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\"]\n"
                        "ready = { http = \"/healthz\", timeout = \"2s\" }\n"
                        "[load]\nrate = 50\nduration = \"3s\"\n[fleet]\nreplicas = 2\n[fleet.health]\npath = \"/nope\"\n");
    EXPECT_EQ(r.exit_code, kEnvironment) << r.output;
    EXPECT_TRUE(has(r, "is ready but never became healthy in the load balancer within 2s (health check GET /nope: 404)"))
        << r.output;
    EXPECT_TRUE(has(r, "listening on 127.0.0.1:")) << "the replica's output is shown\n" << r.output;
}

}  // namespace
