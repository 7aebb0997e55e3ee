// draincheck SIGKILLed mid-run leaves nothing behind: not the target, not its children, not a
// daemon that left its process group.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>

using namespace draincheck::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(Orphans, NoneSurviveASigkilledHarness) {
    TempDir dir;
    std::string tag = dir.path().filename().string();
    std::string mark = "DRAINCHECK_ORPHAN_MARK=" + tag;
    // The target forks a child in its group and a daemon in a session of its own, then serves.
    auto scenario = write_file(dir.path(), "forking.toml",
        "[target]\ncommand = [\"/bin/sh\", \"-c\", \"sleep 300 & setsid sleep 301 & exec " + sample_service() +
        " --port {port}\"]\nready = { http = \"/healthz\" }\nenv = { DRAINCHECK_ORPHAN_MARK = \"" + tag + "\" }\n"
        "[load]\nrate = 50\nduration = \"60s\"\n");
    auto [pid, out] = spawn_draincheck({"run", scenario.string()});
    ASSERT_TRUE(read_until(out, "load_started"));
    ASSERT_GE(processes_with_env(mark).size(), 3u);   // the service, its child, the daemon
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    fclose(out);
    // SIGKILL of other processes completes asynchronously: a bounded wait, as the issue allows (1 s).
    auto deadline = std::chrono::steady_clock::now() + 1s;
    while (!processes_with_env(mark).empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(processes_with_env(mark).empty()) << processes_with_env(mark).size() << " survivors";
}

TEST(Orphans, ADaemonTheTargetLeftBehindIsKilledAtTheEndOfTheRun) {
    TempDir dir;
    std::string tag = dir.path().filename().string();
    auto scenario = write_file(dir.path(), "daemon.toml",
        "[target]\ncommand = [\"/bin/sh\", \"-c\", \"setsid sleep 302 & exec " + sample_service() + " --port {port}\"]\n"
        "ready = { http = \"/healthz\" }\nenv = { DRAINCHECK_ORPHAN_MARK = \"" + tag + "\" }\n"
        "[load]\nrate = 50\nduration = \"300ms\"\n");
    CliRun r = run_cli({"run", scenario.string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("left behind by the target were killed"), std::string::npos) << r.output;
    auto deadline = std::chrono::steady_clock::now() + 1s;
    while (!processes_with_env("DRAINCHECK_ORPHAN_MARK=" + tag).empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(processes_with_env("DRAINCHECK_ORPHAN_MARK=" + tag).empty());
}

// Dependencies, and what they start, go the same way as the target.
std::string scenario_with_dependency(const std::string& tag, const std::string& duration) {
    std::string marked = "\"env\", \"DRAINCHECK_ORPHAN_MARK=" + tag + "\"";
    return "[[dependencies]]\nname = \"redis\"\ncommand = [" + marked +
           ", \"/bin/sh\", \"-c\", \"sleep 303 & exec redis-server --port {port} --save '' --appendonly no\"]\n"
           "env = { REDIS_URL = \"redis://127.0.0.1:{proxy_port}\" }\n"
           "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\"]\nready = { http = \"/healthz\" }\n"
           "env = { DRAINCHECK_ORPHAN_MARK = \"" + tag + "\" }\n"
           "[load]\nrate = 50\nduration = \"" + duration + "\"\npath = \"/count\"\n";
}

// Children of `parent` whose command line starts with `program`, or whose program is named so (redis-server rewrites its
// environment area for its process title, so it is found by parent rather than by marker).
std::vector<int> children_running(int parent, const std::string& program) {
    std::vector<int> pids;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat"), cmdline(entry.path() / "cmdline");
        std::string stat_text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        std::string command((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
        auto close = stat_text.rfind(')');
        std::string argv0 = command.substr(0, command.find('\0'));
        std::string base = argv0.substr(argv0.rfind('/') + 1);   // haproxy runs as /usr/sbin/haproxy
        if (close == std::string::npos || (!command.starts_with(program) && base != program)) continue;
        std::istringstream fields(stat_text.substr(close + 2));
        std::string state;
        int ppid = 0;
        fields >> state >> ppid;
        if (ppid == parent && state != "Z") pids.push_back(std::stoi(name));
    }
    return pids;
}

bool gone(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    return text.empty() || text.find(") Z") != std::string::npos;
}

TEST(Orphans, NoDependencySurvivesASigkilledHarness) {
    TempDir dir;
    std::string tag = dir.path().filename().string();
    std::string mark = "DRAINCHECK_ORPHAN_MARK=" + tag;
    auto scenario = write_file(dir.path(), "dependency.toml", scenario_with_dependency(tag, "60s"));
    auto [pid, out] = spawn_draincheck({"run", scenario.string()});
    ASSERT_TRUE(read_until(out, "load_started"));
    ASSERT_GE(processes_with_env(mark).size(), 2u);   // the sleep the dependency left, the service
    auto redis = children_running(pid, "redis-server");
    ASSERT_EQ(redis.size(), 1u);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    fclose(out);
    auto deadline = std::chrono::steady_clock::now() + 1s;
    while ((!processes_with_env(mark).empty() || !gone(redis[0])) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(processes_with_env(mark).empty()) << processes_with_env(mark).size() << " survivors";
    EXPECT_TRUE(gone(redis[0])) << "redis-server survived";
}

TEST(Orphans, DependenciesAreStoppedAfterTheTargetAtTheEndOfARun) {
    TempDir dir;
    std::string tag = dir.path().filename().string();
    auto scenario = write_file(dir.path(), "dependency.toml", scenario_with_dependency(tag, "300ms"));
    CliRun r = run_cli({"run", scenario.string(), "--json", (dir.path() / "r.json").string()}, dir.path() / "r.json");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(processes_with_env("DRAINCHECK_ORPHAN_MARK=" + tag).empty()) << r.output;
    double target_exit = -1, dependency_exit = -1;
    for (const auto& e : r.report["events"]) {
        if (e["type"] == "exited") target_exit = e["at_s"].get<double>();
        if (e["type"] == "dependency_exited") dependency_exit = e["at_s"].get<double>();
    }
    EXPECT_GT(target_exit, 0) << r.output;
    EXPECT_GT(dependency_exit, target_exit) << "the dependency stops after the target";
}

// A fleet: every replica (and what each forks) and the haproxy in front of them go with the harness.
TEST(Orphans, NoReplicaNorHaproxySurvivesASigkilledHarness) {
    TempDir dir;
    std::string tag = dir.path().filename().string();
    std::string mark = "DRAINCHECK_ORPHAN_MARK=" + tag;
    auto scenario = write_file(dir.path(), "fleet.toml",
        "[target]\ncommand = [\"/bin/sh\", \"-c\", \"sleep 304 & exec " + sample_service() + " --port {port}\"]\n"
        "ready = { http = \"/healthz\" }\nenv = { DRAINCHECK_ORPHAN_MARK = \"" + tag + "\" }\n"
        "[fleet]\nreplicas = 3\nlb = \"haproxy\"\n[fleet.health]\npath = \"/healthz\"\ninterval = \"100ms\"\n"
        "[load]\nrate = 50\nduration = \"60s\"\n");
    auto [pid, out] = spawn_draincheck({"run", scenario.string()});
    ASSERT_TRUE(read_until(out, "load_started"));
    ASSERT_GE(processes_with_env(mark).size(), 6u);   // three replicas and the sleep each forked
    auto haproxy = children_running(pid, "haproxy");
    ASSERT_EQ(haproxy.size(), 1u);
    // haproxy's configuration and admin socket, in a directory named for the run.
    const std::string run_files = "draincheck-" + std::to_string(pid) + "-";
    auto files_left = [&] {
        size_t n = 0;
        for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
            n += e.path().filename().string().starts_with(run_files);
        return n;
    };
    ASSERT_EQ(files_left(), 1u);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    fclose(out);
    auto deadline = std::chrono::steady_clock::now() + 1s;
    while ((!processes_with_env(mark).empty() || !gone(haproxy[0]) || files_left() > 0) &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(processes_with_env(mark).empty()) << processes_with_env(mark).size() << " survivors";
    EXPECT_TRUE(gone(haproxy[0])) << "haproxy survived";
    EXPECT_EQ(files_left(), 0u) << "the run's files in " << fs::temp_directory_path() << " were left behind";
}
