// The bundled container scenarios through the real CLI, against the images build-images.sh makes
// (fixture container_images): the graceful image PASSes; each image pitfall FAILs on the right
// assertions and names its cause; a fleet of an image's replicas survives a rolling restart; a
// dependency in a container is killed and restarted. Without Docker these are skipped with the reason, except with
// CI=true, where Docker must run.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sys/wait.h>
#include <thread>

using namespace draincheck::testing;

namespace {

// Why Docker cannot be used here, or nullopt when it can.
struct Expectation {
    VerdictExpectation verdict;
    std::string cause;   // a phrase the verdict's cause must hold; "" = no cause
};

void PrintTo(const Expectation& e, std::ostream* os) { *os << e.verdict.scenario; }

class ContainerScenario : public ::testing::TestWithParam<Expectation> {};

TEST_P(ContainerScenario, GivesTheExpectedVerdictAndNamesTheCause) {
    REQUIRE_DOCKER();
    const Expectation& e = GetParam();
    TempDir dir;
    CliRun run = run_expecting(e.verdict, dir.path());
    ASSERT_FALSE(run.report.is_null());
    std::string cause = run.report["verdict"]["cause"];
    if (e.cause.empty()) {
        EXPECT_EQ(cause, "") << run.output;
    } else {
        EXPECT_NE(cause.find(e.cause), std::string::npos) << "cause: " << cause << "\n" << run.output;
        // The one line a CI log shows names the cause too.
        EXPECT_NE(run.report["verdict"]["summary"].get<std::string>().find(e.cause), std::string::npos);
    }
    // The container ran on the host's network, and nothing of it is left.
    EXPECT_EQ(run.report["target"]["host"], "127.0.0.1");
    EXPECT_EQ(std::system("test -z \"$(docker ps -aq --filter label=draincheck.run)\""), 0)
        << "a container of the run is left behind";
}

INSTANTIATE_TEST_SUITE_P(
    Images, ContainerScenario,
    ::testing::Values(
        Expectation{{"container-graceful.toml", 0, {},
                    {"dropped_inflight", "exit_code", "exit_within", "max_error_rate", "refused_after_close"}}, ""},
        Expectation{{"container-no-handler.toml", 1, {"exit_code", "exit_within"}, {}}, "PID 1 is node"},
        Expectation{{"container-init-no-handler.toml", 1, {"exit_code", "dropped_inflight"}, {"exit_within"}}, "docker-init"},
        Expectation{{"container-shell-form.toml", 1, {"exit_code", "exit_within"}, {}}, "shell-form CMD"},
        Expectation{{"container-stopsignal-quit.toml", 1, {"exit_code", "exit_within"}, {}}, "the image's STOPSIGNAL"},
        Expectation{{"container-npm-start.toml", 1, {"exit_code"}, {}}, "PID 1 is npm"},
        // Three replicas of an image behind the built-in balancer, replaced one at a time.
        Expectation{{"container-fleet-rolling-restart.toml", 0, {},
                    {"client_errors", "dropped_inflight", "exit_code", "exit_within", "capacity_restored_within"}}, ""},
        // Redis as a container behind the fault proxy, killed and restarted (a new container) under load.
        Expectation{{"container-redis-killed-and-restarted.toml", 0, {},
                    {"dropped_inflight", "exit_code", "max_error_rate", "dependency_closed_before_exit",
                     "dependency_down.max_latency", "dependency_down.ready_fails", "dependency_down.recovers_within"}},
                    ""}),
    [](const ::testing::TestParamInfo<Expectation>& info) {
        std::string name = info.param.verdict.scenario.substr(0, info.param.verdict.scenario.size() - 5);
        for (char& c : name) if (c == '-') c = '_';
        return name;
    });

// Bad input: an image that is not there is one clear message and exit 3; draincheck never pulls.
TEST(ContainerErrors, AnImageNotPresentLocallyIsNamedAndNeverPulled) {
    REQUIRE_DOCKER();
    TempDir dir;
    auto scenario = write_file(dir.path(), "absent.toml", R"(
[target]
image = "draincheck-test/not-built-anywhere:1.0"
ready = { http = "/healthz" }
[load]
duration = "1s"
)");
    CliRun run = run_cli({"run", scenario.string()}, {});
    EXPECT_EQ(run.exit_code, 3) << run.output;
    EXPECT_NE(run.output.find("is not present locally, and draincheck never pulls"), std::string::npos) << run.output;
}

// A container that exits before it is ready: the run says so, with the container's own output.
TEST(ContainerErrors, AContainerThatExitsBeforeReadyShowsItsLog) {
    REQUIRE_DOCKER();
    TempDir dir;
    auto scenario = write_file(dir.path(), "exits.toml", R"toml(
[target]
image = "draincheck-test/node-graceful"
command = ["node", "-e", "console.error('cannot open config: /etc/app.conf'); process.exit(4)"]
ready = { http = "/healthz", timeout = "20s" }
[load]
duration = "1s"
)toml");
    CliRun run = run_cli({"run", scenario.string()}, {});
    EXPECT_EQ(run.exit_code, 3) << run.output;
    EXPECT_NE(run.output.find("exited before it became ready (code 4)"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("cannot open config: /etc/app.conf"), std::string::npos) << run.output;
}

}  // namespace

namespace {

std::string containers_of_run(int draincheck_pid) {
    std::string cmd = "docker ps --all --quiet --filter label=draincheck.run=" + std::to_string(draincheck_pid);
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buffer[256];
        while (fgets(buffer, sizeof buffer, p)) out += buffer;
        pclose(p);
    }
    return out;
}

}  // namespace

// draincheck SIGKILLed mid-run: its orphan guard removes the container (by the run's label) and
// kills its processes (they carry the run marker).
TEST(ContainerOrphans, NoContainerSurvivesASigkilledHarness) {
    REQUIRE_DOCKER();
    TempDir dir;
    auto scenario = write_file(dir.path(), "long.toml", R"toml(
[target]
image = "draincheck-test/node-graceful"
ready = { http = "/healthz", timeout = "20s" }
[load]
rate = 20
duration = "60s"
)toml");
    auto [pid, out] = spawn_draincheck({"run", scenario.string()});
    ASSERT_TRUE(read_until(out, "load_started"));
    ASSERT_FALSE(containers_of_run(pid).empty()) << "the run's container is not labelled with its pid";
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    fclose(out);
    // Docker removes a container in a fraction of a second; a busy machine may take some: bounded.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!containers_of_run(pid).empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(containers_of_run(pid).empty()) << "container left behind: " << containers_of_run(pid);
}

namespace {

const char* kImageScenario = R"toml(
[target]
image = "draincheck-test/node-graceful"
ready = { http = "/healthz" }
[load]
duration = "1s"
)toml";

// Runs draincheck with one environment variable changed.
CliRun run_with_env(const char* name, const char* value, const std::vector<std::string>& args) {
    const char* old = std::getenv(name);
    std::string saved = old ? old : "";
    ::setenv(name, value, 1);
    CliRun run = run_cli(args, {});
    if (old) ::setenv(name, saved.c_str(), 1);
    else ::unsetenv(name);
    return run;
}

}  // namespace

// No Docker needed: docker missing, or its daemon unreachable, is one message naming what to do, exit 3.
TEST(ContainerErrors, DockerNotInstalledNamesThePackage) {
    TempDir dir;
    auto scenario = write_file(dir.path(), "image.toml", kImageScenario);
    CliRun run = run_with_env("PATH", "/nonexistent", {"run", scenario.string()});
    EXPECT_EQ(run.exit_code, 3) << run.output;
    EXPECT_NE(run.output.find("docker is not installed"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("docker.io"), std::string::npos) << run.output;
}

TEST(ContainerErrors, DockerDaemonDownSaysStartDockerd) {
    if (docker_unavailable() && docker_unavailable()->find("not installed") != std::string::npos)
        GTEST_SKIP() << *docker_unavailable();
    TempDir dir;
    auto scenario = write_file(dir.path(), "image.toml", kImageScenario);
    std::string socket = "unix://" + (dir.path() / "no-daemon.sock").string();
    CliRun run = run_with_env("DOCKER_HOST", socket.c_str(), {"run", scenario.string()});
    EXPECT_EQ(run.exit_code, 3) << run.output;
    EXPECT_NE(run.output.find("the Docker daemon is not running"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("start dockerd"), std::string::npos) << run.output;
}

// Validation, before Docker is asked anything: another network is refused with its position.
TEST(ContainerErrors, AnotherNetworkIsRefusedBeforeAnythingRuns) {
    TempDir dir;
    auto scenario = write_file(dir.path(), "bridge.toml", R"toml([target]
image = "draincheck-test/node-graceful"
docker_args = ["--network", "bridge"]
[load]
duration = "1s"
)toml");
    CliRun run = run_cli({"run", scenario.string()}, {});
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("bridge.toml:3:15: target.docker_args: \"--network\": draincheck runs containers with "
                              "--network host only"), std::string::npos) << run.output;
}

// draincheck quick --image: an image tested without a scenario file, stopped as docker stop does.
TEST(ContainerQuick, AnImageWithoutAScenarioFile) {
    REQUIRE_DOCKER();
    CliRun shown = run_cli({"quick", "--image", "draincheck-test/node-graceful", "--init", "--print-scenario"}, {});
    EXPECT_EQ(shown.exit_code, 0) << shown.output;
    EXPECT_NE(shown.output.find("image = \"draincheck-test/node-graceful\"\ninit = true\n"), std::string::npos) << shown.output;
    EXPECT_NE(shown.output.find("action = \"stop\""), std::string::npos) << shown.output;
    EXPECT_EQ(shown.output.find("cwd ="), std::string::npos) << shown.output;
    TempDir dir;
    auto json = dir.path() / "quick.json";
    CliRun run = run_cli({"quick", "--image", "draincheck-test/node-graceful", "--ready-http", "/healthz", "--slow-path",
                          "/work?ms=800", "--rate", "100", "--duration", "3s", "--signal-at", "1s", "--kill-after", "4s",
                          "--json", json.string()},
                         json);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    ASSERT_FALSE(run.report.is_null()) << run.output;
    EXPECT_EQ(run.report["target"]["stop_signal_source"], "Docker's default") << run.output;
    CliRun bad = run_cli({"quick", "--init", "--", "node", "app.js"}, {});
    EXPECT_EQ(bad.exit_code, 2) << bad.output;
    EXPECT_NE(bad.output.find("--init applies to an image"), std::string::npos) << bad.output;
}
