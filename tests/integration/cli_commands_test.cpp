// The CI-gate side of the CLI: JUnit, several scenarios, quick, init, report; and their bad input.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int count(const std::string& text, const std::string& needle) {
    int n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

bool has(const CliRun& r, const std::string& needle) { return r.output.find(needle) != std::string::npos; }

}  // namespace

TEST(CliCommands, SeveralScenariosGiveOneTableTheWorstExitCodeAndJunit) {
    TempDir dir;
    // What is under test is the table, the exit code and the JUnit shape, so each scenario expects only what
    // cannot depend on the machine's timing: how the target exits.
    auto exit_only = [&](const std::string& bundled) {
        auto path = localize_scenario(bundled, dir.path());
        std::string text = slurp(path);
        text = text.substr(0, text.find("[expect]")) + "[expect]\nexit_code = 0\nexit_within = \"3s\"\n";
        return write_file(dir.path(), bundled, text);
    };
    auto good = exit_only("sigterm-graceful.toml");
    auto bad = exit_only("sigterm-exit-nonzero.toml");
    auto out = dir.path() / "out";
    auto junit = dir.path() / "junit.xml";
    CliRun r = run_cli({"run", good.string(), bad.string(), "--out", out.string(), "--junit", junit.string(), "-q"});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_TRUE(has(r, "sigterm-graceful: PASS")) << r.output;
    EXPECT_TRUE(has(r, "sigterm-exit-nonzero: FAIL: exited with code 1, expected 0")) << r.output;
    EXPECT_TRUE(fs::exists(out / "sigterm-graceful" / "report.json"));
    EXPECT_TRUE(fs::exists(out / "sigterm-exit-nonzero" / "report.html"));

    // The shape CI systems read: testsuites > testsuite (one per scenario) > testcase (one per assertion).
    std::string xml = slurp(junit);
    EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ", 0), 0u) << xml;
    EXPECT_EQ(count(xml, "<testsuite "), 2);
    EXPECT_EQ(count(xml, "<testcase "), 4);
    EXPECT_EQ(count(xml, "<failure "), 1);
    auto suite = xml.find("<testsuite name=\"sigterm-exit-nonzero\"");
    ASSERT_NE(suite, std::string::npos) << xml;
    std::string suite_tag = xml.substr(suite, xml.find('>', suite) - suite);
    EXPECT_NE(suite_tag.find(" tests=\"2\" failures=\"1\" errors=\"0\""), std::string::npos) << suite_tag;
    EXPECT_NE(xml.find("<failure message=\"exited with code 1, expected 0\""), std::string::npos);
    EXPECT_NE(xml.find("<system-out><![CDATA["), std::string::npos);
    EXPECT_EQ(count(xml, "<testsuite "), count(xml, "</testsuite>"));
    EXPECT_EQ(count(xml, "<testcase "), count(xml, "</testcase>"));
}

TEST(CliCommands, AScenarioThatCannotRunIsAJunitError) {
    TempDir dir;
    auto broken = write_file(dir.path(), "broken.toml", "[target]\ncommand = [\"x\"]\n[load]\nduraton = \"1s\"\n");
    auto junit = dir.path() / "junit.xml";
    CliRun r = run_cli({"run", broken.string(), "--junit", junit.string()});
    EXPECT_EQ(r.exit_code, 2);
    std::string xml = slurp(junit);
    EXPECT_NE(xml.find("<error message="), std::string::npos) << xml;
    EXPECT_NE(xml.find("did you mean"), std::string::npos) << xml;
}

TEST(CliCommands, QuotedGlobsAreExpandedAndAnEmptyMatchIsAnError) {
    TempDir dir;
    localize_scenario("sigterm-exit-nonzero.toml", dir.path());
    CliRun r = run_cli({"run", (dir.path() / "sigterm-exit-*.toml").string(), "-q"});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_TRUE(has(r, "sigterm-exit-nonzero: FAIL")) << r.output;
    CliRun none = run_cli({"run", (dir.path() / "nothing-*.toml").string()});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_TRUE(has(none, "no scenario file matches")) << none.output;
}

TEST(CliCommands, QuickPassesAGoodServiceAndFailsABrokenOne) {
    auto quick = [](const std::string& mode) {
        return run_cli({"quick", "-q", "--duration", "3s", "--signal-at", "1s", "--kill-after", "3s", "--slow-path", "/work?ms=800",
                        "--", sample_service(), "--port", "{port}", "--mode", mode});
    };
    CliRun good = quick("graceful");
    EXPECT_EQ(good.exit_code, 0) << good.output;
    CliRun bad = quick("exit-immediately");
    EXPECT_EQ(bad.exit_code, 1) << bad.output;
    EXPECT_TRUE(has(bad, "dropped in flight")) << bad.output;
}

TEST(CliCommands, QuickPrintsAScenarioThatRunsAsIs) {
    TempDir dir;
    CliRun printed = run_cli({"quick", "--print-scenario", "--ready-http", "/healthz", "--", sample_service(), "--port", "{port}"});
    ASSERT_EQ(printed.exit_code, 0) << printed.output;
    EXPECT_NE(printed.output.find("signal = \"TERM\""), std::string::npos);
    EXPECT_NE(printed.output.find("ready = { http = \"/healthz\" }"), std::string::npos);
    auto kept = write_file(dir.path(), "kept.toml", printed.output);
    CliRun valid = run_cli({"validate", kept.string()});
    EXPECT_EQ(valid.exit_code, 0) << valid.output;
    CliRun missing = run_cli({"quick"});
    EXPECT_EQ(missing.exit_code, 2);
}

TEST(CliCommands, InitWritesAValidStarterAndNeverOverwrites) {
    TempDir dir;
    auto path = (dir.path() / "draincheck.toml").string();
    CliRun first = run_cli({"init", path});
    EXPECT_EQ(first.exit_code, 0) << first.output;
    CliRun valid = run_cli({"validate", path});
    EXPECT_EQ(valid.exit_code, 0) << valid.output;
    CliRun again = run_cli({"init", path});
    EXPECT_EQ(again.exit_code, 2);
    EXPECT_TRUE(has(again, "already exists")) << again.output;
}

TEST(CliCommands, ReportRerendersHtmlFromJsonAndRefusesOtherSchemas) {
    TempDir dir;
    auto scenario = localize_scenario("sigterm-exit-nonzero.toml", dir.path());
    auto json = dir.path() / "report.json";
    ASSERT_EQ(run_cli({"run", scenario.string(), "--json", json.string(), "-q"}).exit_code, 1);
    auto html = dir.path() / "again.html";
    CliRun r = run_cli({"report", json.string(), "--html", html.string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::string page = slurp(html);
    EXPECT_NE(page.find("exited with code 1, expected 0"), std::string::npos);

    auto other = write_file(dir.path(), "other.json", "{\"schema\": \"draincheck/0\"}");
    CliRun wrong = run_cli({"report", other.string(), "--html", (dir.path() / "x.html").string()});
    EXPECT_EQ(wrong.exit_code, 2);
    EXPECT_TRUE(has(wrong, "draincheck/0")) << wrong.output;
    EXPECT_TRUE(has(wrong, "draincheck/1")) << wrong.output;
    CliRun not_json = run_cli({"report", scenario.string(), "--html", (dir.path() / "y.html").string()});
    EXPECT_EQ(not_json.exit_code, 2);
}

TEST(CliCommands, NonTtyOutputIsPlain) {
    TempDir dir;
    CliRun r = run_cli({"run", localize_scenario("sigterm-graceful.toml", dir.path()).string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find('\033'), std::string::npos) << "control codes in non-TTY output";
    EXPECT_EQ(r.output.find('\r'), std::string::npos) << "carriage returns in non-TTY output";
}

TEST(CliCommands, VerboseStreamsTheTargetsOutputAndQuietOnlyTheVerdict) {
    TempDir dir;
    auto scenario = localize_scenario("sigterm-exit-nonzero.toml", dir.path());
    CliRun verbose = run_cli({"run", scenario.string(), "--verbose"});
    EXPECT_EQ(verbose.exit_code, 1);
    EXPECT_TRUE(has(verbose, "out| listening on 127.0.0.1:")) << verbose.output;
    EXPECT_TRUE(has(verbose, "out| closing resources failed: exit 1")) << verbose.output;
    CliRun quiet = run_cli({"run", scenario.string(), "--quiet"});
    EXPECT_EQ(quiet.exit_code, 1);
    EXPECT_EQ(quiet.output, "sigterm-exit-nonzero: FAIL: exited with code 1, expected 0\n");
}

// Every file is read and validated before any scenario runs: a good file followed by broken ones runs
// nothing (its target is never started, no report is written), and each broken file is named.
TEST(CliCommands, SeveralFilesAreAllValidatedBeforeAnyRuns) {
    TempDir dir;
    auto started = dir.path() / "target-started";
    auto good = write_file(dir.path(), "good.toml",
                           "[target]\ncommand = [\"/bin/sh\", \"-c\", \"touch '" + started.string() + "'; exec " +
                               sample_service() + " --port \\\"$PORT\\\"\"]\nready = { http = \"/healthz\" }\n"
                               "[load]\nrate = 50\nduration = \"500ms\"\n[expect]\nexit_code = 0\n");
    // The good file alone runs its target: the mark the test looks for is made.
    CliRun alone = run_cli({"run", good.string(), "-q"});
    ASSERT_EQ(alone.exit_code, 0) << alone.output;
    ASSERT_TRUE(fs::exists(started)) << alone.output;
    fs::remove(started);

    auto broken = write_file(dir.path(), "broken.toml", "[target]\ncommand = [\"x\"]\n[load]\nduraton = \"1s\"\n");
    auto missing = dir.path() / "missing.toml";
    auto out = dir.path() / "out";
    auto junit = dir.path() / "junit.xml";
    CliRun r = run_cli({"run", good.string(), broken.string(), missing.string(), "--out", out.string(), "--junit",
                        junit.string()});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(has(r, broken.string() + ":4:1: load.duraton: unknown key; did you mean `duration`?")) << r.output;
    EXPECT_TRUE(has(r, missing.string() + ": cannot read scenario file: No such file or directory")) << r.output;
    EXPECT_TRUE(has(r, "2 of 3 scenario files are invalid; none was run")) << r.output;
    EXPECT_FALSE(fs::exists(started)) << "the good scenario's target was started\n" << r.output;
    EXPECT_FALSE(fs::exists(out)) << "reports were written\n" << r.output;
    EXPECT_FALSE(has(r, "scenario good")) << r.output;
    // CI still learns why: one error per broken file.
    std::string xml = slurp(junit);
    EXPECT_EQ(count(xml, "<error "), 2) << xml;
    EXPECT_EQ(count(xml, "<testsuite name=\"good\""), 0) << xml;
}
