// A load the machine cannot possibly deliver: the verdict is still reached, and says, in the console,
// the JSON and the JUnit file, that it was reached under far less load than asked for.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

bool any_warning(const nlohmann::json& report, const std::string& needle) {
    for (const auto& w : report["verdict"]["warnings"])
        if (has(w.get<std::string>(), needle)) return true;
    return false;
}

}  // namespace

TEST(LoadShortfall, ARateBeyondTheMachineIsAWarningOfAVerdictStillReached) {
    TempDir dir;
    auto scenario = write_file(dir.path(), "beyond.toml",
                               sample_service_scenario(kLoadBeyondReach, "exit_code = 0\ndropped_inflight = 0\n"));
    auto json = dir.path() / "report.json";
    auto junit = dir.path() / "junit.xml";
    CliRun run = run_cli({"run", scenario.string(), "--json", json.string(), "--junit", junit.string()}, json);
    ASSERT_TRUE(run.exit_code == 0 || run.exit_code == 1) << run.output;
    ASSERT_FALSE(run.report.is_null()) << run.output;

    // The verdict: its assertions judged as ever.
    EXPECT_EQ(run.report["assertions"].size(), 2u) << run.output;
    EXPECT_TRUE(run.passed_assertions().count("exit_code")) << run.output;

    // The load asked for against the load delivered.
    const auto& load = run.report["load"];
    EXPECT_EQ(load["mode"], "rate");
    EXPECT_EQ(load["requested_rate"].get<double>(), 1e6);
    EXPECT_EQ(load["requested_duration_s"].get<double>(), 1.0);
    EXPECT_GT(load["sent"].get<uint64_t>(), 0u);
    EXPECT_LT(load["achieved_rate"].get<double>(), 0.95e6);
    ASSERT_EQ(load["seconds_below_rate"].size(), 1u) << load.dump();
    EXPECT_EQ(load["seconds_below_rate"][0]["second"], 0);
    EXPECT_EQ(load["seconds_below_rate"][0]["requested"], 1000000);
    EXPECT_GT(load["waited_for_connection"]["count"].get<uint64_t>(), 0u) << load.dump();

    // The warnings, in the JSON verdict and on the console.
    EXPECT_TRUE(any_warning(run.report, "the load fell below 95% of the requested 1000000 req/s in 1 of 1 whole seconds (0-1s: "))
        << run.report["verdict"]["warnings"].dump();
    EXPECT_TRUE(any_warning(run.report, "requests waited for a free connection (max_connections = 8 were open), the longest "))
        << run.report["verdict"]["warnings"].dump();
    EXPECT_TRUE(has(run.output, "  warning: the load fell below 95% of the requested 1000000 req/s")) << run.output;
    EXPECT_TRUE(has(run.output, "  warning: " + std::to_string(load["waited_for_connection"]["count"].get<uint64_t>()) +
                                    " requests waited for a free connection")) << run.output;
    EXPECT_TRUE(has(run.output, "  load: requested 1000000 req/s for 1s; sent " + std::to_string(load["sent"].get<uint64_t>()) +
                                    " requests in ")) << run.output;
    // The verdict's one sentence says it too, for a quiet console or a CI log.
    std::string summary = run.report["verdict"]["summary"];
    EXPECT_TRUE(has(summary, " (reached under less load than asked for: ")) << summary;
    EXPECT_TRUE(has(run.output, "\n" + summary + "\n")) << run.output;

    // And in the JUnit file, as properties of the scenario's suite.
    std::ifstream in(junit);
    std::stringstream xml;
    xml << in.rdbuf();
    EXPECT_TRUE(has(xml.str(), "<property name=\"warning\" value=\"the load fell below 95% of the requested 1000000 req/s")) << xml.str();
}

// The same service at a rate it keeps up with: no load warning, and the figures say the load was delivered.
TEST(LoadShortfall, ARateTheMachineKeepsUpWithHasNoWarning) {
    TempDir dir;
    auto scenario = write_file(dir.path(), "within.toml",
                               sample_service_scenario("rate = 100\nduration = \"2s\"\n", "exit_code = 0\n"));
    auto json = dir.path() / "report.json";
    CliRun run = run_cli({"run", scenario.string(), "--json", json.string()}, json);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_EQ(run.report["verdict"]["warnings"].size(), 0u) << run.report["verdict"]["warnings"].dump();
    const auto& load = run.report["load"];
    EXPECT_EQ(load["sent"], 200);
    EXPECT_EQ(load["seconds_below_rate"].size(), 0u);
    EXPECT_EQ(load["waited_for_connection"]["count"], 0);
    EXPECT_TRUE(has(run.output, "  load: requested 100 req/s for 2s; sent 200 requests in ")) << run.output;
}
