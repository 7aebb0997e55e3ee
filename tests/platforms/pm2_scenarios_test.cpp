// PM2 as the platform, through the real CLI: each bundled pm2-* scenario gives the verdict measured by
// hand with a plain client (NOTES.md, "PM2"), the workers' real ends are reported where PM2 records
// exit code 0, and nothing of PM2 outlives a run -- also when draincheck is SIGKILLed.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <sys/wait.h>
#include <thread>

using namespace draincheck::testing;
using namespace std::chrono_literals;

namespace {

// Every process a run of draincheck `pid` started (PM2 itself and its workers carry the run's marker).
std::vector<int> run_processes(int pid) { return processes_with_env("DRAINCHECK_RUN=" + std::to_string(pid)); }

// PM2_HOMEs draincheck made in /tmp and did not remove.
size_t pm2_homes_left() {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/tmp"))
        n += e.path().filename().string().rfind("dc-pm2-", 0) == 0;
    return n;
}

// The report's instances stopped by a platform operation.
std::vector<nlohmann::json> stopped_by_operation(const CliRun& run) {
    std::vector<nlohmann::json> out;
    for (const auto& r : run.report["fleet"]["replicas"])
        if (r["stopped_by"].get<std::string>().rfind("platform ", 0) == 0) out.push_back(r);
    return out;
}

class Pm2Scenario : public ::testing::TestWithParam<VerdictExpectation> {};

TEST_P(Pm2Scenario, GivesTheVerdictMeasuredByHand) {
    TempDir dir;
    size_t homes = pm2_homes_left();
    CliRun run = run_expecting(GetParam(), dir.path());
    ASSERT_FALSE(run.report.is_null());
    EXPECT_EQ(run.report["fleet"]["platform"], "pm2");
    EXPECT_FALSE(stopped_by_operation(run).empty()) << run.output;
    EXPECT_EQ(pm2_homes_left(), homes) << "the run's PM2_HOME was left in /tmp";
}

const std::set<std::string> kDrain = {"dropped_inflight", "exit_code", "exit_within"};

INSTANTIATE_TEST_SUITE_P(
    Pm2, Pm2Scenario,
    ::testing::Values(
        VerdictExpectation{"pm2-reload-graceful.toml", 0, {}, {"dropped_inflight", "exit_code", "exit_within", "capacity_restored_within"}},
        VerdictExpectation{"pm2-reload-no-handler.toml", 1, {"dropped_inflight", "exit_code"}, {}},
        VerdictExpectation{"pm2-reload-ignores-sigint.toml", 1, {"exit_code", "exit_within"}, {}},
        VerdictExpectation{"pm2-restart-refuses.toml", 1, {"client_errors"}, {}},
        VerdictExpectation{"pm2-fork-reload.toml", 1, {"client_errors"}, {}},
        VerdictExpectation{"pm2-kill-timeout-default.toml", 1, {"dropped_inflight", "exit_code", "exit_within"}, {}},
        VerdictExpectation{"pm2-kill-timeout-long.toml", 0, {}, kDrain}),
    [](const ::testing::TestParamInfo<VerdictExpectation>& info) {
        std::string name = info.param.scenario.substr(0, info.param.scenario.size() - 5);
        for (char& c : name) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
        return name;
    });

// PM2 records exit code 0 for a worker its SIGINT killed ("exited with code [0] via signal [SIGINT]");
// draincheck reports the death by SIGINT, from the worker's own wait status.
TEST(Pm2Truth, AWorkerKilledBySigintIsNotCalledCodeZero) {
    TempDir dir;
    CliRun run = run_expecting({"pm2-reload-no-handler.toml", 1, {"exit_code"}, {}}, dir.path());
    ASSERT_FALSE(run.report.is_null());
    auto stopped = stopped_by_operation(run);
    ASSERT_EQ(stopped.size(), 2u) << run.output;
    for (const auto& r : stopped) {
        EXPECT_EQ(r["exit"]["signal"], "INT") << r.dump();
        EXPECT_EQ(r["signal"], "INT") << r.dump();
    }
    bool pm2_says_zero = false;
    for (const auto& l : run.report["fleet"]["platform_log"])
        pm2_says_zero = pm2_says_zero || l["text"].get<std::string>().find("exited with code [0] via signal [SIGINT]") != std::string::npos;
    EXPECT_TRUE(pm2_says_zero) << "PM2's own log no longer shows the code it records";
}

// A worker that ignores SIGINT is SIGKILLed by PM2 kill_timeout (1.6 s) later: forced, and the requests
// it kept serving meanwhile show it ignored the signal.
TEST(Pm2Truth, AWorkerKilledAfterKillTimeoutIsForced) {
    TempDir dir;
    CliRun run = run_expecting({"pm2-reload-ignores-sigint.toml", 1, {"exit_within"}, {}}, dir.path());
    ASSERT_FALSE(run.report.is_null());
    auto stopped = stopped_by_operation(run);
    ASSERT_EQ(stopped.size(), 2u) << run.output;
    for (const auto& r : stopped) {
        EXPECT_EQ(r["exit"]["signal"], "KILL") << r.dump();
        EXPECT_TRUE(r["exit"]["forced"].get<bool>()) << r.dump();
        double after = r["exit"]["at_s"].get<double>() - r["signalled_s"].get<double>();
        EXPECT_GE(after, 1.5) << "PM2's kill_timeout is 1600 ms";
    }
}

TEST(Pm2Errors, AMissingPm2IsNamedWithTheFix) {
    TempDir dir;
    auto scenario = localize_scenario("pm2-reload-graceful.toml", dir.path());
    ::setenv("DRAINCHECK_PM2", (dir.path() / "no-such-pm2").c_str(), 1);
    CliRun run = run_cli({"run", scenario.string()});
    ::unsetenv("DRAINCHECK_PM2");
    EXPECT_EQ(run.exit_code, 3) << run.output;
    EXPECT_NE(run.output.find("DRAINCHECK_PM2"), std::string::npos) << run.output;
}

TEST(Pm2Orphans, NoneSurviveASigkilledHarness) {
    TempDir dir;
    auto scenario = localize_scenario("pm2-reload-graceful.toml", dir.path());
    auto [pid, out] = spawn_draincheck({"run", scenario.string()});
    ASSERT_TRUE(read_until(out, "load_started"));
    ASSERT_GE(run_processes(pid).size(), 3u);   // PM2 and its two workers
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    fclose(out);
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!run_processes(pid).empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(run_processes(pid).empty()) << run_processes(pid).size() << " PM2 process(es) survived";
}

}  // namespace
