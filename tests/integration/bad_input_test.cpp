// Bad input gets one clear message and a distinct exit code, and leaves no process behind.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

constexpr int kInvalid = 2;
constexpr int kEnvironment = 3;

// A small valid scenario; `target` and `extra` replace its parts.
std::string scenario(const std::string& target_lines, const std::string& extra = "",
                     const std::string& load_lines = "rate = 50\nduration = \"1s\"\n") {
    return "[target]\n" + target_lines + "\n[load]\n" + load_lines + "\n" + extra;
}

std::string sample_target(const std::string& args = "") {
    return "command = [\"" + sample_service() + "\", \"--port\", \"{port}\"" + args + "]\n";
}

CliRun validate(const TempDir& dir, const std::string& text) {
    return run_cli({"validate", write_file(dir.path(), "s.toml", text).string()});
}

CliRun run(const TempDir& dir, const std::string& text) {
    return run_cli({"run", write_file(dir.path(), "s.toml", text).string()});
}

bool has(const CliRun& r, const std::string& needle) { return r.output.find(needle) != std::string::npos; }

TEST(BadInput, ValidScenarioValidatesSilently) {
    TempDir dir;
    CliRun r = validate(dir, scenario(sample_target()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, "");
}

TEST(BadInput, EveryBundledScenarioValidates) {
    for (const auto& entry : fs::directory_iterator(fs::path(DRAINCHECK_SOURCE_DIR) / "scenarios")) {
        CliRun r = run_cli({"validate", entry.path().string()});
        EXPECT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.output;
    }
}

TEST(BadInput, MissingScenarioFile) {
    CliRun r = run_cli({"run", "/nonexistent/draincheck/scenario.toml"});
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "/nonexistent/draincheck/scenario.toml")) << r.output;
    EXPECT_TRUE(has(r, "cannot read")) << r.output;
}

TEST(BadInput, MalformedTomlNamesLineAndColumn) {
    TempDir dir;
    CliRun r = validate(dir, "[target]\ncommand = [\"x\"\n[load]\n");
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "s.toml:2:") || has(r, "s.toml:3:")) << r.output;
}

TEST(BadInput, UnknownKeySuggestsTheRightOne) {
    TempDir dir;
    CliRun r = validate(dir, scenario(sample_target(), "", "rate = 50\nduraton = \"1s\"\n"));
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "s.toml:6:1")) << r.output;
    EXPECT_TRUE(has(r, "did you mean")) << r.output;
    EXPECT_TRUE(has(r, "duration")) << r.output;
}

TEST(BadInput, ZeroDuration) {
    TempDir dir;
    CliRun r = validate(dir, scenario(sample_target(), "", "rate = 50\nduration = \"0s\"\n"));
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "load.duration")) << r.output;
}

TEST(BadInput, NegativeDuration) {
    TempDir dir;
    CliRun r = validate(dir, scenario(sample_target(), "", "rate = 50\nduration = \"-1s\"\n"));
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "load.duration")) << r.output;
}

TEST(BadInput, RateZero) {
    TempDir dir;
    CliRun r = validate(dir, scenario(sample_target(), "", "rate = 0\nduration = \"1s\"\n"));
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "load.rate")) << r.output;
}

TEST(BadInput, FaultAfterTheEndOfLoad) {
    TempDir dir;
    CliRun r = validate(dir, scenario(sample_target(), "[[faults]]\nat = \"5s\"\naction = \"signal\"\nsignal = \"TERM\"\n"));
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "faults")) << r.output;
    EXPECT_TRUE(has(r, "load.duration")) << r.output;
}

TEST(BadInput, NonLoopbackTargetIsRefusedBeforeAnythingRuns) {
    TempDir dir;
    // A documentation-only address (TEST-NET-3): never reachable, and never contacted.
    CliRun r = run(dir, scenario(sample_target() + "host = \"203.0.113.5\"\n"));
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "loopback")) << r.output;
}

TEST(BadInput, LoopbackOtherThan127001IsAllowed) {
    TempDir dir;
    CliRun r = validate(dir, scenario(sample_target() + "host = \"127.0.0.2\"\n"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(BadInput, MissingTargetBinary) {
    TempDir dir;
    CliRun r = run(dir, scenario("command = [\"draincheck-no-such-binary\", \"{port}\"]\n"));
    EXPECT_EQ(r.exit_code, kEnvironment);
    EXPECT_TRUE(has(r, "draincheck-no-such-binary")) << r.output;
    EXPECT_TRUE(has(r, "not found")) << r.output;
}

TEST(BadInput, TargetExitsBeforeReady) {
    TempDir dir;
    CliRun r = run(dir, scenario("command = [\"/bin/sh\", \"-c\", \"echo cannot open config >&2; exit 4\"]\n"));
    EXPECT_EQ(r.exit_code, kEnvironment);
    EXPECT_TRUE(has(r, "exited before it became ready")) << r.output;
    EXPECT_TRUE(has(r, "code 4")) << r.output;
    EXPECT_TRUE(has(r, "cannot open config")) << r.output;   // the target's own words
}

TEST(BadInput, TargetNeverReadyTimesOutAndLeavesNoProcess) {
    TempDir dir;
    std::string marker = "DRAINCHECK_TEST_MARK=" + fs::path(dir.path()).filename().string();
    std::string target = sample_target(", \"--ready-delay-ms\", \"600000\"") +
                         "ready = { http = \"/healthz\", timeout = \"500ms\" }\n"
                         "env = { DRAINCHECK_TEST_MARK = \"" + fs::path(dir.path()).filename().string() + "\" }\n";
    CliRun r = run(dir, scenario(target));
    EXPECT_EQ(r.exit_code, kEnvironment);
    EXPECT_TRUE(has(r, "never became ready")) << r.output;
    EXPECT_TRUE(has(r, "503")) << r.output;
    EXPECT_TRUE(processes_with_env(marker).empty());
}

TEST(BadInput, PortAlreadyInUse) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);

    TempDir dir;
    CliRun r = run(dir, scenario(sample_target() + "port = " + std::to_string(port) + "\n"));
    ::close(fd);
    EXPECT_EQ(r.exit_code, kEnvironment);
    EXPECT_TRUE(has(r, "already in use")) << r.output;
    EXPECT_TRUE(has(r, std::to_string(port))) << r.output;
}

TEST(BadInput, OutputDirIsAFile) {
    TempDir dir;
    auto file = write_file(dir.path(), "not-a-dir", "x");
    auto s = write_file(dir.path(), "s.toml", scenario(sample_target()));
    CliRun r = run_cli({"run", s.string(), "--out", file.string()});
    EXPECT_EQ(r.exit_code, kInvalid);
    EXPECT_TRUE(has(r, "--out")) << r.output;
}

TEST(BadInput, UnknownSubcommandIsUsageError) {
    CliRun r = run_cli({"frobnicate"});
    EXPECT_EQ(r.exit_code, kInvalid);
}

TEST(Cli, VersionAndHelp) {
    CliRun v = run_cli({"--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_TRUE(has(v, "draincheck ")) << v.output;
    CliRun h = run_cli({"--help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_TRUE(has(h, "run")) << h.output;
}

}  // namespace
