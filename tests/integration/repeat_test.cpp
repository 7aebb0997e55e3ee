// `draincheck run --repeat N`: one scenario N times, each with a fresh target and fresh ports; the
// verdict over all of them, per assertion, in the console, the JSON, the HTML and JUnit.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

nlohmann::json read_json(const fs::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const nlohmann::json& tally(const nlohmann::json& repeat, const std::string& name) {
    for (const auto& a : repeat["assertions"])
        if (a["name"] == name) return a;
    static const nlohmann::json none;
    return none;
}

}  // namespace

TEST(Repeat, EveryRunIsCountedPerAssertionAndKeptInItsOwnReport) {
    TempDir dir;
    auto scenario = localize_scenario("sigterm-graceful.toml", dir.path());
    auto out = dir.path() / "out";
    CliRun run = run_cli({"run", scenario.string(), "--repeat", "3", "--out", out.string()});
    ASSERT_EQ(run.exit_code, 0) << run.output;
    for (int k = 1; k <= 3; ++k) EXPECT_TRUE(fs::exists(out / ("run-" + std::to_string(k)) / "report.json")) << k;
    auto report = read_json(out / "report.json");
    const auto& repeat = report["repeat"];
    EXPECT_EQ(repeat["asked"], 3);
    EXPECT_EQ(repeat["runs"], 3);
    EXPECT_EQ(repeat["passed"], 3);
    EXPECT_EQ(repeat["failed"], 0);
    EXPECT_EQ(tally(repeat, "dropped_inflight")["held"], 3) << repeat.dump();
    EXPECT_EQ(tally(repeat, "exit_code")["failed"], 0) << repeat.dump();
    EXPECT_NE(run.output.find("repeated: 3 runs: 3 passed, 0 failed"), std::string::npos) << run.output;
    // Three targets, one after the other, each on its own port.
    std::set<int> ports;
    for (int k = 1; k <= 3; ++k)
        ports.insert(read_json(out / ("run-" + std::to_string(k)) / "report.json")["target"]["port"].get<int>());
    EXPECT_EQ(ports.size(), 3u);
}

TEST(Repeat, UntilFailStopsAtTheFirstFailingRunAndJunitNamesIt) {
    TempDir dir;
    auto scenario = localize_scenario("sigterm-exit-nonzero.toml", dir.path());
    auto json = dir.path() / "r.json";
    auto junit = dir.path() / "junit.xml";
    CliRun run = run_cli({"run", scenario.string(), "--repeat", "5", "--until-fail", "--json", json.string(), "--junit",
                          junit.string()},
                         json);
    ASSERT_EQ(run.exit_code, 1) << run.output;
    const auto& repeat = run.report["repeat"];
    EXPECT_EQ(repeat["asked"], 5);
    EXPECT_EQ(repeat["runs"], 1);
    EXPECT_EQ(repeat["worst_run"], 1);
    const auto& exit_code = tally(repeat, "exit_code");
    ASSERT_EQ(exit_code["failures"].size(), 1u) << repeat.dump();
    EXPECT_EQ(exit_code["failures"][0]["run"], 1);
    EXPECT_NE(exit_code["failures"][0]["reason"].get<std::string>().find("exited with code 1"), std::string::npos);
    EXPECT_NE(run.output.find("(stopped at the first failure)"), std::string::npos) << run.output;
    std::string xml = read_text(junit);
    EXPECT_NE(xml.find("name=\"exit_code\""), std::string::npos) << xml;
    EXPECT_NE(xml.find("failed in 1 of 1 runs"), std::string::npos) << xml;
    EXPECT_NE(xml.find("run 1: exited with code 1"), std::string::npos) << xml;
}

TEST(Repeat, ABrokenScenarioFailsEveryRunAndTheExitCodeIsTheWorst) {
    TempDir dir;
    auto scenario = localize_scenario("sigterm-exit-nonzero.toml", dir.path());
    auto json = dir.path() / "r.json";
    CliRun run = run_cli({"run", scenario.string(), "--repeat", "2", "-q", "--json", json.string()}, json);
    ASSERT_EQ(run.exit_code, 1) << run.output;
    EXPECT_EQ(run.report["repeat"]["failed"], 2);
    EXPECT_EQ(tally(run.report["repeat"], "exit_code")["failed"], 2);
    EXPECT_NE(run.output.find("repeat: 2 runs: 0 passed, 2 failed; exit_code held in 0 of 2 (failed in runs 1, 2)"),
              std::string::npos)
        << run.output;
}

TEST(Repeat, ZeroRunsIsAUsageError) {
    TempDir dir;
    auto scenario = localize_scenario("sigterm-graceful.toml", dir.path());
    CliRun run = run_cli({"run", scenario.string(), "--repeat", "0"});
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("--repeat"), std::string::npos) << run.output;
}
