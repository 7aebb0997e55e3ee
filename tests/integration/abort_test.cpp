// Ctrl-C or SIGTERM to draincheck: the target is stopped with its stop signal and grace, a partial
// report marked aborted is written, the exit code says which signal, and no process is left.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <cstdio>
#include <fstream>
#include <functional>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

// Runs `scenario`, calls `while_running` once the load has started, interrupts draincheck with
// `signo`, waits for it to end, checks its exit code and reads its partial report into `report`.
void interrupt_after_load_started(const fs::path& scenario, int signo, int expected_exit,
                                  const std::function<void()>& while_running, nlohmann::json& report) {
    auto json = scenario.parent_path() / "report.json";
    auto [pid, out] = spawn_draincheck({"run", scenario.string(), "--json", json.string()});
    ASSERT_TRUE(read_until(out, "load_started"));
    while_running();
    kill(pid, signo);
    read_until(out, "\x01");   // to the end of its output
    fclose(out);
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), expected_exit);
    std::ifstream in(json);
    report = nlohmann::json::parse(in);
    EXPECT_TRUE(report["aborted"].get<bool>());
}

void interrupt_run(int signo, int expected_exit) {
    TempDir dir;
    std::string mark = "DRAINCHECK_ABORT_MARK=" + dir.path().filename().string();
    auto scenario = write_file(dir.path(), "long.toml",
        "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\", \"--mode\", \"ignore-term\"]\n"
        "ready = { http = \"/healthz\" }\nkill_after = \"300ms\"\n"
        "env = { DRAINCHECK_ABORT_MARK = \"" + dir.path().filename().string() + "\" }\n"
        "[load]\nrate = 100\nduration = \"60s\"\n[[load.mix]]\npath = \"/work?ms=5000\"\n"
        "[expect]\ndropped_inflight = 0\n");
    nlohmann::json report;
    interrupt_after_load_started(scenario, signo, expected_exit, [&] {
        EXPECT_FALSE(processes_with_env(mark).empty());   // the target is running
    }, report);
    EXPECT_FALSE(report["verdict"]["passed"].get<bool>());
    EXPECT_TRUE(report["exit"]["forced"].get<bool>());   // it ignored TERM: killed after its grace
    EXPECT_TRUE(processes_with_env(mark).empty());
}

TEST(Abort, CtrlCStopsTheTargetWritesAPartialReportAndExits130) { interrupt_run(SIGINT, 130); }
TEST(Abort, SigtermExits143) { interrupt_run(SIGTERM, 143); }

}  // namespace

// A second interrupt does not wait for the grace period: the target is killed at once.
TEST(Abort, ASecondCtrlCKillsAtOnce) {
    TempDir dir;
    std::string mark = "DRAINCHECK_ABORT_MARK=" + dir.path().filename().string();
    auto scenario = write_file(dir.path(), "stubborn.toml",
        "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\", \"--mode\", \"ignore-term\"]\n"
        "ready = { http = \"/healthz\" }\nkill_after = \"60s\"\n"
        "env = { DRAINCHECK_ABORT_MARK = \"" + dir.path().filename().string() + "\" }\n"
        "[load]\nrate = 50\nduration = \"60s\"\n");
    auto json = dir.path() / "report.json";
    auto [pid, out] = spawn_draincheck({"run", scenario.string(), "--json", json.string()});
    ASSERT_TRUE(read_until(out, "load_started"));
    kill(pid, SIGINT);
    ASSERT_TRUE(read_until(out, "interrupted by INT"));   // the first one was taken: stopping with grace
    kill(pid, SIGINT);
    read_until(out, "\x01");
    fclose(out);
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_EQ(WEXITSTATUS(status), 130);
    std::ifstream in(json);
    auto report = nlohmann::json::parse(in);
    EXPECT_TRUE(report["aborted"].get<bool>());
    EXPECT_FALSE(report["exit"]["forced"].get<bool>()) << "it waited for the 60 s grace instead";
    EXPECT_TRUE(processes_with_env(mark).empty());
}

// Interrupted with a dependency running: the target stops first, then the dependency, and the partial
// report still lists the dependency's connections.
TEST(Abort, CtrlCStopsTheDependencyAfterTheTarget) {
    TempDir dir;
    std::string tag = dir.path().filename().string();
    auto scenario = write_file(dir.path(), "dependency.toml",
        "[[dependencies]]\nname = \"redis\"\ncommand = [\"env\", \"DRAINCHECK_ABORT_MARK=" + tag +
        "\", \"/bin/sh\", \"-c\", \"sleep 304 & exec redis-server --port {port} --save '' --appendonly no\"]\n"
        "env = { REDIS_URL = \"redis://127.0.0.1:{proxy_port}\" }\n"
        "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\"]\nready = { http = \"/healthz\" }\n"
        "env = { DRAINCHECK_ABORT_MARK = \"" + tag + "\" }\n"
        "[load]\nrate = 50\nduration = \"60s\"\npath = \"/count\"\n");
    nlohmann::json report;
    interrupt_after_load_started(scenario, SIGINT, 130, [] {}, report);
    double target_exit = -1, dependency_exit = -1;
    for (const auto& e : report["events"]) {
        if (e["type"] == "exited") target_exit = e["at_s"].get<double>();
        if (e["type"] == "dependency_exited") dependency_exit = e["at_s"].get<double>();
    }
    EXPECT_GT(target_exit, 0);
    EXPECT_GT(dependency_exit, target_exit);
    EXPECT_FALSE(report["dependencies"][0]["connections"].empty());
    EXPECT_TRUE(processes_with_env("DRAINCHECK_ABORT_MARK=" + tag).empty());   // the sleep redis's shell left
}

// A fleet interrupted: every replica leaves the balancer and gets its stop signal and grace, the
// partial report is written, nothing is left running.
TEST(Abort, CtrlCStopsEveryReplicaGracefully) {
    TempDir dir;
    std::string mark = "DRAINCHECK_ABORT_MARK=" + dir.path().filename().string();
    auto scenario = write_file(dir.path(), "fleet.toml",
        "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\", \"--mode\", \"graceful\"]\n"
        "ready = { http = \"/healthz\" }\nkill_after = \"5s\"\n"
        "env = { DRAINCHECK_ABORT_MARK = \"" + dir.path().filename().string() + "\" }\n"
        "[fleet]\nreplicas = 2\nderegistration_delay = \"100ms\"\n"
        "[load]\nrate = 50\nduration = \"60s\"\n[[load.mix]]\npath = \"/work?ms=300\"\n"
        "[expect]\nclient_errors = 0\n");
    nlohmann::json report;
    interrupt_after_load_started(scenario, SIGINT, 130, [&] { EXPECT_EQ(processes_with_env(mark).size(), 2u); },
                                 report);
    ASSERT_EQ(report["fleet"]["replicas"].size(), 2u);
    for (const auto& r : report["fleet"]["replicas"]) {
        EXPECT_EQ(r["signal"], "TERM") << r.dump();           // stopped the way the platform would
        EXPECT_EQ(r["exit"]["code"], 0) << r.dump();          // and it drained
        EXPECT_NE(r["out_lb_s"], nullptr) << r.dump();        // after leaving the balancer
    }
    EXPECT_TRUE(processes_with_env(mark).empty());
}
