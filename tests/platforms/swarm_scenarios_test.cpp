// Docker Swarm as the platform, through the real CLI, against the test images (fixture
// container_images): a stop-first rolling update of a graceful image loses no request; a start-first
// update with a port per slot pauses (the new task dies with EADDRINUSE), yet Swarm stops the old
// task, and that slot has no listener for seconds. Nothing of the run is left: no service, no
// container. Without Docker these are skipped with the reason, except with CI=true.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <csignal>
#include <sys/wait.h>
#include <thread>

using namespace draincheck::testing;

namespace {

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
    for (const auto& r : run.report["fleet"]["replicas"]) {
        if (r["stopped_by"] != "platform update") continue;
        ++updated;
        // The balancer let the task go when Swarm wanted it shut down; SIGTERM came later (the engine
        // waits about 2 s on a non-bridge network).
        ASSERT_FALSE(r["out_lb_s"].is_null()) << r.dump();
        EXPECT_GT(r["signalled_s"].get<double>(), r["out_lb_s"].get<double>()) << r.dump();
    }
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

// A SIGKILLed draincheck leaves no service and no container: the guard removes the service first
// (Swarm would start its tasks again), then the containers.
TEST(SwarmOrphans, NoServiceNorContainerSurvivesASigkilledHarness) {
    REQUIRE_DOCKER();
    TempDir dir;
    auto scenario = localize_scenario("swarm-update-stop-first.toml", dir.path());
    auto [pid, out] = spawn_draincheck({"run", scenario.string()});
    ASSERT_TRUE(read_until(out, "load_started"));
    std::string label = "label=draincheck.run=" + std::to_string(pid);
    std::string none = "test -z \"$(docker service ls -q --filter " + label + ")\" && test -z \"$(docker ps -aq --filter " +
                       label + ")\"";
    ASSERT_NE(std::system(none.c_str()), 0) << "the run's service is not there";
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    fclose(out);
    // Docker removes the service's containers asynchronously: a bounded wait.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::system(none.c_str()) != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(std::system(none.c_str()), 0) << "a service or container of the killed run is left";
}

}  // namespace
