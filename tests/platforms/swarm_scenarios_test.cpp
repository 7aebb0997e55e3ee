// Docker Swarm as the platform, through the real CLI, against the test images (fixture
// container_images): a stop-first rolling update of a graceful image loses no request; a start-first
// update with a port per slot pauses (the new task dies with EADDRINUSE), yet Swarm stops the old
// task, and that slot has no listener for seconds. Nothing of the run is left: no service, no
// container. Without Docker these are skipped with the reason, except with CI=true.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

using namespace draincheck::testing;

namespace {

std::optional<std::string> docker_unavailable() {
    if (std::system("command -v docker >/dev/null 2>&1") != 0) return "docker is not installed (./setup.sh installs docker.io)";
    if (std::system("docker info >/dev/null 2>&1") != 0) return "the Docker daemon is not reachable (./setup.sh starts dockerd)";
    return std::nullopt;
}

#define REQUIRE_DOCKER()                                                                        \
    if (auto why = docker_unavailable()) {                                                      \
        const char* ci = std::getenv("CI");                                                     \
        if (ci && std::string(ci) == "true") FAIL() << "Docker must run in CI: " << *why;       \
        GTEST_SKIP() << *why;                                                                   \
    }

bool nothing_left() {
    return std::system("test -z \"$(docker service ls -q --filter label=draincheck.run)\" && "
                       "test -z \"$(docker ps -aq --filter label=draincheck.run)\"") == 0;
}

// The time a slot had no task taking traffic: from its last old task's exit to its next lb_in.
double longest_gap_without_listener(const nlohmann::json& report) {
    double longest = 0;
    const auto& replicas = report["fleet"]["replicas"];
    for (const auto& old : replicas) {
        if (old["exit"]["at_s"].is_null() || old["stopped_by"] != "platform update") continue;
        double died = old["exit"]["at_s"].get<double>(), back = -1;
        for (const auto& r : replicas)
            if (r["port"] == old["port"] && !r["in_lb_s"].is_null() && r["in_lb_s"].get<double>() > died &&
                (back < 0 || r["in_lb_s"].get<double>() < back))
                back = r["in_lb_s"].get<double>();
        if (back > 0) longest = std::max(longest, back - died);
    }
    return longest;
}

TEST(Swarm, AStopFirstUpdateOfAGracefulImageLosesNoRequest) {
    REQUIRE_DOCKER();
    TempDir dir;
    CliRun run = run_expecting({"swarm-update-stop-first.toml", 0, {},
                                {"client_errors", "dropped_inflight", "exit_code", "exit_within"}}, dir.path());
    ASSERT_FALSE(run.report.is_null());
    EXPECT_EQ(run.report["fleet"]["platform"], "swarm");
    int updated = 0;
    for (const auto& r : run.report["fleet"]["replicas"]) updated += r["stopped_by"] == "platform update";
    EXPECT_EQ(updated, 2) << run.output;
    EXPECT_TRUE(nothing_left()) << "a service or container of the run is left behind";
}

TEST(Swarm, AStartFirstUpdateWithFixedPortsLeavesASlotWithoutListener) {
    REQUIRE_DOCKER();
    TempDir dir;
    CliRun run = run_expecting({"swarm-update-start-first-fixed-ports.toml", 1, {"client_errors", "capacity_restored_within"}, {}},
                               dir.path());
    ASSERT_FALSE(run.report.is_null());
    // The new tasks died at once (EADDRINUSE: the old task still held the port), the update paused...
    int died_at_start = 0;
    for (const auto& r : run.report["fleet"]["replicas"]) died_at_start += r["exit"]["code"] == 1;
    EXPECT_GE(died_at_start, 1) << run.output;
    EXPECT_NE(run.output.find("Swarm paused the update"), std::string::npos) << run.output;
    // ...and yet the old task was stopped: its slot had no listener for seconds.
    EXPECT_GT(longest_gap_without_listener(run.report), 1.0) << run.output;
    EXPECT_TRUE(nothing_left()) << "a service or container of the run is left behind";
}

}  // namespace
