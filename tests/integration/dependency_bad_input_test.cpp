// Bad dependencies: one clear message, the exit code of its kind, and no process left behind.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

constexpr int kInvalid = 2;
constexpr int kEnvironment = 3;

std::string scenario(const std::string& dependencies, const std::string& faults = "") {
    return "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\"]\n"
           "[load]\nrate = 50\nduration = \"1s\"\n" + dependencies + faults;
}

const std::string kRedis = "[[dependencies]]\nname = \"redis\"\n"
                           "command = [\"redis-server\", \"--port\", \"{port}\", \"--save\", \"\", \"--appendonly\", \"no\"]\n";

CliRun run(const TempDir& dir, const std::string& text) {
    return run_cli({"run", write_file(dir.path(), "s.toml", text).string()});
}

bool has(const CliRun& r, const std::string& needle) { return r.output.find(needle) != std::string::npos; }

TEST(DependencyBadInput, MissingDependencyCommand) {
    TempDir dir;
    CliRun r = run(dir, scenario("[[dependencies]]\nname = \"db\"\ncommand = [\"draincheck-no-such-db\", \"{port}\"]\n"));
    EXPECT_EQ(r.exit_code, kEnvironment) << r.output;
    EXPECT_TRUE(has(r, "dependency db: command not found: 'draincheck-no-such-db' (not in PATH)")) << r.output;
    EXPECT_TRUE(has(r, "draincheck-no-such-db")) << r.output;
    EXPECT_TRUE(has(r, "not found")) << r.output;
}

TEST(DependencyBadInput, DependencyNeverReadyShowsItsOutputAndLeavesNoProcess) {
    TempDir dir;
    std::string mark = fs::path(dir.path()).filename().string();
    // Prints, then never listens: the TCP probe times out.
    CliRun r = run(dir, scenario("[[dependencies]]\nname = \"db\"\ncommand = [\"/bin/sh\", \"-c\", \"echo db: waiting for "
                                 "disk " + mark + "; exec sleep 600\"]\nready = { tcp = true, timeout = \"500ms\" }\n"));
    EXPECT_EQ(r.exit_code, kEnvironment) << r.output;
    EXPECT_TRUE(has(r, "dependency db never became ready within 500ms")) << r.output;
    EXPECT_TRUE(has(r, "db: waiting for disk")) << r.output;   // its own words
    // Nothing of the run is left: the dependency's shell carries the mark in its command line.
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::ifstream cmdline(entry.path() / "cmdline");
        std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
        EXPECT_EQ(text.find("waiting for disk " + mark), std::string::npos) << "left behind: " << entry.path();
    }
}

TEST(DependencyBadInput, ReadyCommandThatNeverSucceedsSaysHowItLastEnded) {
    TempDir dir;
    CliRun r = run(dir, scenario(kRedis + "ready = { command = [\"/bin/sh\", \"-c\", \"echo not yet; exit 7\"], timeout = \"300ms\" }\n"));
    EXPECT_EQ(r.exit_code, kEnvironment) << r.output;
    EXPECT_TRUE(has(r, "dependency redis never became ready within 300ms (last probe: exit 7: not yet)")) << r.output;
}

TEST(DependencyBadInput, TwoDependenciesWithOneName) {
    TempDir dir;
    CliRun r = run(dir, scenario(kRedis + kRedis));
    EXPECT_EQ(r.exit_code, kInvalid) << r.output;
    EXPECT_TRUE(has(r, "s.toml:10:8: dependencies[1].name: \"redis\" is already the name of the dependency declared at line 6"))
        << r.output;
}

TEST(DependencyBadInput, ToxicWithNegativeLatency) {
    TempDir dir;
    CliRun r = run(dir, scenario(kRedis, "[[faults]]\nat = \"0s\"\naction = \"toxic\"\ndependency = \"redis\"\n"
                                         "toxic = \"latency\"\nlatency = \"-50ms\"\n"));
    EXPECT_EQ(r.exit_code, kInvalid) << r.output;
    EXPECT_TRUE(has(r, "s.toml:14:11: faults[0].latency: expected a duration >= 0, got \"-50ms\"")) << r.output;
}

TEST(DependencyBadInput, FaultOnAnUnknownDependencyNamesTheKnownOnes) {
    TempDir dir;
    CliRun r = run(dir, scenario(kRedis, "[[faults]]\nat = \"0s\"\naction = \"kill_dependency\"\ndependency = \"postgres\"\n"));
    EXPECT_EQ(r.exit_code, kInvalid) << r.output;
    EXPECT_TRUE(has(r, "s.toml:12:14: faults[0].dependency: unknown dependency \"postgres\"; known: redis")) << r.output;
}

}  // namespace
