#pragma once
// Runs the real draincheck CLI on a scenario and hands back its exit code, output and JSON report.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace draincheck::testing {

struct CliRun {
    int exit_code = -1;
    std::string output;          // stdout and stderr together
    nlohmann::json report;       // empty when no report was written
    std::set<std::string> failed_assertions() const;
    std::set<std::string> passed_assertions() const;
};

// A fresh directory for one test, removed when it goes out of scope.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
private:
    std::filesystem::path path_;
};

// Copies a bundled scenario into `dir`, pointing its target command at this build's sample service
// and at the source tree's Node targets, so the test works from any build directory.
std::filesystem::path localize_scenario(const std::string& bundled_name, const std::filesystem::path& dir);

// Writes `toml` to dir/name and returns the path.
std::filesystem::path write_file(const std::filesystem::path& dir, const std::string& name, const std::string& text);

// Runs `draincheck <args...>`; when `json` is given, also parses that report file.
CliRun run_cli(const std::vector<std::string>& args, const std::filesystem::path& json = {});

// What a bundled scenario must give: the exit code, the assertions that must fail and those that must hold.
struct VerdictExpectation {
    std::string scenario;        // a file of scenarios/
    int exit_code = 0;
    std::set<std::string> must_fail;
    std::set<std::string> must_pass;
};

inline void PrintTo(const VerdictExpectation& e, std::ostream* os) { *os << e.scenario; }

// Runs the bundled scenario through the CLI (localized into `dir`, JSON report there) and checks `e`
// with non-fatal expectations: the exit code, the assertions, a reason for every failed one, and no
// failed assertion when it must pass. Returns the run for the caller's own checks.
CliRun run_expecting(const VerdictExpectation& e, const std::filesystem::path& dir);

// Why Docker cannot be used here, or nullopt when it can.
std::optional<std::string> docker_unavailable();

// In a test that needs Docker: skipped with the reason when it cannot be used, except with CI=true,
// where Docker must run.
#define REQUIRE_DOCKER()                                                                                 \
    if (auto why = ::draincheck::testing::docker_unavailable()) {                                        \
        const char* ci = std::getenv("CI");                                                              \
        if (ci && std::string(ci) == "true") FAIL() << "Docker must run in CI: " << *why;                \
        GTEST_SKIP() << *why;                                                                            \
    }

// Processes whose environment has the entry `name=value` (e.g. a marker a test scenario sets).
std::vector<int> processes_with_env(const std::string& entry);

std::string sample_service();

// A scenario of this build's sample service (graceful, ready on /healthz): `load` and `expect` are the
// lines of its [load] and [expect] tables.
std::string sample_service_scenario(const std::string& load, const std::string& expect);
// [load] lines no machine delivers to the sample service: a million requests a second through at most
// 8 connections.
inline const std::string kLoadBeyondReach = "rate = 1000000\nduration = \"1s\"\nmax_connections = 8\n";

// Starts draincheck in the background with stdout and stderr into a pipe: its pid and the read end.
std::pair<int, FILE*> spawn_draincheck(const std::vector<std::string>& args);
// Reads that output until a line contains `needle` (events are printed as they happen); false at EOF.
bool read_until(FILE* out, const std::string& needle);

}  // namespace draincheck::testing
