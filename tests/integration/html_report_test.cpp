// The HTML report in a real headless Chromium: it renders without script errors, shows the verdict,
// the chart and the assertion rows, and a hostile log line stays text.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

struct Browser {
    int exit_code;
    std::string stdout_text;
    std::string stderr_text;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Headless Chromium as the machine's package ships it, with no network use of its own.
Browser chromium(const std::vector<std::string>& extra, const fs::path& page, const fs::path& work) {
    std::string cmd = "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                      "--disable-background-networking --disable-component-update --disable-sync "
                      "--enable-logging=stderr --v=0 --user-data-dir='" + (work / "profile").string() + "'";
    for (const auto& e : extra) cmd += " " + e;
    cmd += " 'file://" + page.string() + "' >'" + (work / "out.txt").string() + "' 2>'" + (work / "err.txt").string() + "'";
    int status = std::system(cmd.c_str());
    return {WEXITSTATUS(status), slurp(work / "out.txt"), slurp(work / "err.txt")};
}

}  // namespace

TEST(HtmlReport, RendersInChromiumWithEvidenceAndEscapedLogs) {
    ASSERT_EQ(std::system("command -v chromium >/dev/null"), 0) << "chromium is not installed (setup.sh installs it)";
    TempDir dir;
    // The target's first log line tries to run script in the report.
    auto scenario = write_file(dir.path(), "hostile.toml",
        "[target]\ncommand = [\"/bin/sh\", \"-c\", \"echo '<script>document.title=\\\"pwned\\\"</script> </pre>'; exec " + sample_service() +
        " --port {port} --mode exit-immediately\"]\nready = { http = \"/healthz\" }\n"
        "[load]\nrate = 100\nduration = \"2s\"\n[[load.mix]]\npath = \"/work?ms=600\"\n"
        "[[faults]]\nat = \"1s\"\naction = \"signal\"\nsignal = \"TERM\"\n[expect]\ndropped_inflight = 0\nexit_code = 0\n");
    auto out = dir.path() / "out";
    CliRun run = run_cli({"run", scenario.string(), "--out", out.string()});
    ASSERT_EQ(run.exit_code, 1) << run.output;
    fs::path page = out / "report.html";
    ASSERT_TRUE(fs::exists(page)) << run.output;
    std::string html = slurp(page);
    EXPECT_EQ(html.find("<script>document.title"), std::string::npos) << "a log line reached the page as markup";
    // Self-contained: nothing is fetched at view time (uPlot's licence comment names its home page).
    for (const char* fetch : {"src=\"http", "href=\"http", "url(http", "src='http", "@import"})
        EXPECT_EQ(html.find(fetch), std::string::npos) << fetch;

    Browser dom = chromium({"--dump-dom", "--virtual-time-budget=5000"}, page, dir.path());
    ASSERT_EQ(dom.exit_code, 0) << dom.stderr_text;
    EXPECT_NE(dom.stdout_text.find("data-rendered=\"true\""), std::string::npos) << "the page script did not finish";
    EXPECT_NE(dom.stdout_text.find("<div id=\"js-errors\"></div>"), std::string::npos) << dom.stdout_text.substr(0, 2000);
    EXPECT_EQ(dom.stderr_text.find("Uncaught"), std::string::npos) << dom.stderr_text;
    EXPECT_NE(dom.stdout_text.find("FAIL: "), std::string::npos);
    EXPECT_NE(dom.stdout_text.find("requests dropped in flight"), std::string::npos);
    EXPECT_NE(dom.stdout_text.find("<canvas"), std::string::npos) << "no chart";
    EXPECT_NE(dom.stdout_text.find("<td>dropped_inflight</td>"), std::string::npos);
    EXPECT_NE(dom.stdout_text.find("<td>exit_code</td>"), std::string::npos);
    EXPECT_NE(dom.stdout_text.find("GET /work?ms=600"), std::string::npos) << "no evidence rows";
    // The verdict's count kind by kind, with the requests of each.
    EXPECT_NE(dom.stdout_text.find("<ul class=\"breakdown\"><li class=\"counted\">"), std::string::npos) << "no breakdown";
    EXPECT_NE(dom.stdout_text.find("&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(dom.stdout_text.find("<title>draincheck report</title>"), std::string::npos);

    // A picture for people, kept with the build's test artifacts.
    fs::path artifacts = fs::path(DRAINCHECK_BINARY_DIR) / "test-artifacts";
    fs::create_directories(artifacts);
    Browser shot = chromium({"--window-size=1280,2200", "--screenshot='" + (artifacts / "html_report.png").string() + "'"}, page, dir.path());
    EXPECT_EQ(shot.exit_code, 0) << shot.stderr_text;
    EXPECT_GT(fs::file_size(artifacts / "html_report.png"), 10000u);
}

TEST(HtmlReport, ShowsEachDependencyConnectionAndWhoClosedIt) {
    ASSERT_EQ(std::system("command -v chromium >/dev/null"), 0) << "chromium is not installed (setup.sh installs it)";
    TempDir dir;
    auto scenario = localize_scenario("redis-sigterm-forgets-close.toml", dir.path());
    auto out = dir.path() / "out";
    CliRun run = run_cli({"run", scenario.string(), "--out", out.string()});
    ASSERT_EQ(run.exit_code, 1) << run.output;
    Browser dom = chromium({"--dump-dom", "--virtual-time-budget=5000"}, out / "report.html", dir.path());
    ASSERT_EQ(dom.exit_code, 0) << dom.stderr_text;
    EXPECT_NE(dom.stdout_text.find("data-rendered=\"true\""), std::string::npos) << "the page script did not finish";
    EXPECT_NE(dom.stdout_text.find("<div id=\"js-errors\"></div>"), std::string::npos) << dom.stdout_text.substr(0, 2000);
    EXPECT_NE(dom.stdout_text.find("<section id=\"dependencies\">"), std::string::npos) << "the section stayed hidden";
    EXPECT_NE(dom.stdout_text.find("<td class=\"bad\">still open when the target began to exit"), std::string::npos);
    EXPECT_NE(dom.stdout_text.find("<td>dependency_closed_before_exit</td>"), std::string::npos);
    EXPECT_NE(dom.stdout_text.find("<td>redis</td><td>dependency_spawned</td>"), std::string::npos) << "no event subject";
}

namespace {

// The text between the first `open` after `from` and the `close` after it ("" when absent).
std::string between(const std::string& text, const std::string& open, const std::string& close, size_t from = 0) {
    size_t begin = text.find(open, from);
    if (begin == std::string::npos) return "";
    begin += open.size();
    size_t end = text.find(close, begin);
    return end == std::string::npos ? "" : text.substr(begin, end - begin);
}

size_t occurrences(const std::string& text, const std::string& part) {
    size_t n = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
    return n;
}

}  // namespace

TEST(HtmlReport, FleetShowsEveryReplicaWhoStoppedItAndHowItExited) {
    ASSERT_EQ(std::system("command -v chromium >/dev/null"), 0) << "chromium is not installed (setup.sh installs it)";
    TempDir dir;
    auto scenario = localize_scenario("fleet-scale-down.toml", dir.path());
    fs::path page = dir.path() / "fleet.html";
    fs::path json = dir.path() / "fleet.json";
    CliRun run = run_cli({"run", scenario.string(), "--html", page.string(), "--json", json.string()}, json);
    EXPECT_EQ(run.exit_code, 0) << run.output;   // the bundled scenario's expected verdict is PASS
    ASSERT_TRUE(fs::exists(page)) << run.output;
    ASSERT_TRUE(run.report.contains("fleet")) << run.output;
    const size_t replicas = run.report["fleet"]["replicas"].size();
    EXPECT_EQ(replicas, 3u) << "three replicas, one scaled down and none replaced";

    Browser dom = chromium({"--dump-dom", "--virtual-time-budget=5000"}, page, dir.path());
    ASSERT_EQ(dom.exit_code, 0) << dom.stderr_text;
    const std::string& text = dom.stdout_text;
    EXPECT_NE(text.find("data-rendered=\"true\""), std::string::npos) << "the page script did not finish";
    EXPECT_NE(text.find("<div id=\"js-errors\"></div>"), std::string::npos) << between(text, "<div id=\"js-errors\"", "</div>");
    EXPECT_EQ(dom.stderr_text.find("Uncaught"), std::string::npos) << dom.stderr_text;

    // The section is shown, not left hidden as it is for a single target.
    EXPECT_NE(text.find("<section id=\"fleet\">"), std::string::npos) << "the section stayed hidden";
    EXPECT_NE(text.find("<h2>Replicas</h2>"), std::string::npos);
    EXPECT_NE(between(text, "<div class=\"legend-note\" id=\"fleet-note\">", "</div>").find("3 replicas behind the builtin load balancer"),
              std::string::npos);

    // One row per replica, in index order; exactly one stopped by the scale_down, and it exited 0.
    std::string rows = between(text, "<table id=\"fleet-replicas\">", "</table>");
    std::string body = between(rows, "<tbody>", "</tbody>");
    ASSERT_FALSE(body.empty()) << rows;
    EXPECT_EQ(occurrences(body, "<tr>"), replicas) << body;
    for (size_t i = 0; i < replicas; ++i)
        EXPECT_NE(body.find("<tr><td>replica " + std::to_string(i) + "</td>"), std::string::npos) << body;
    EXPECT_EQ(occurrences(body, "<td>scale_down</td>"), 1u) << body;
    EXPECT_NE(body.find("<td>scale_down</td><td>code 0</td>"), std::string::npos) << body;
    EXPECT_EQ(body.find("class=\"bad\""), std::string::npos) << "a judged exit is marked bad: " << body;
    // The others were stopped at the end of the run.
    EXPECT_EQ(occurrences(body, "<td>end of run</td>"), replicas - 1) << body;

    // The fault, and the fleet's assertions in the assertion table.
    EXPECT_NE(between(text, "<table id=\"fleet-faults\">", "</table>").find("<td>scale_down</td>"), std::string::npos);
    EXPECT_NE(text.find("<td>client_errors</td>"), std::string::npos);
    EXPECT_NE(text.find("<td>exit_within</td>"), std::string::npos);
    // The middle phase of a fleet run is the time its faults ran, and says so.
    EXPECT_NE(between(text, "<table id=\"counts\">", "</table>").find("<th class=\"num\">faults</th>"), std::string::npos);
    EXPECT_NE(between(text, "<table id=\"latency\">", "</table>").find("<td>faults</td>"), std::string::npos);
}

// A load far beyond what the machine can send: the page says so where the verdict is, and its load
// table sets what was asked for against what went out.
TEST(HtmlReport, ShowsTheLoadAskedForAgainstTheLoadDeliveredAndItsShortfall) {
    ASSERT_EQ(std::system("command -v chromium >/dev/null"), 0) << "chromium is not installed (setup.sh installs it)";
    TempDir dir;
    auto scenario = write_file(dir.path(), "beyond.toml", sample_service_scenario(kLoadBeyondReach, "exit_code = 0\n"));
    fs::path page = dir.path() / "beyond.html";
    CliRun run = run_cli({"run", scenario.string(), "--html", page.string()});
    ASSERT_EQ(run.exit_code, 0) << run.output;
    Browser dom = chromium({"--dump-dom", "--virtual-time-budget=5000"}, page, dir.path());
    ASSERT_EQ(dom.exit_code, 0) << dom.stderr_text;
    const std::string& text = dom.stdout_text;
    EXPECT_NE(text.find("data-rendered=\"true\""), std::string::npos) << "the page script did not finish";
    EXPECT_NE(text.find("<div id=\"js-errors\"></div>"), std::string::npos) << between(text, "<div id=\"js-errors\"", "</div>");
    std::string warnings = between(text, "<div id=\"warnings\">", "</div></div>");
    EXPECT_NE(warnings.find("<div class=\"warning\">warning: the load fell below 95% of the requested 1000000 req/s"),
              std::string::npos) << warnings;
    EXPECT_NE(warnings.find("requests waited for a free connection (max_connections = 8 were open)"), std::string::npos) << warnings;
    EXPECT_NE(text.find("<section id=\"load\">"), std::string::npos) << "the load section stayed hidden";
    std::string table = between(text, "<table id=\"load-delivered\">", "</table>");
    EXPECT_NE(table.find("<tr><td>rate</td><td class=\"num\">1000000 req/s</td>"), std::string::npos) << table;
    EXPECT_NE(table.find("<td>waited for a free connection (longest)</td>"), std::string::npos) << table;
}

// --repeat: the report is the worst run's, and the verdict over every run leads it.
TEST(HtmlReport, ShowsTheVerdictOverRepeatedRuns) {
    ASSERT_EQ(std::system("command -v chromium >/dev/null"), 0) << "chromium is not installed (setup.sh installs it)";
    TempDir dir;
    auto scenario = localize_scenario("sigterm-exit-nonzero.toml", dir.path());
    auto out = dir.path() / "out";
    CliRun run = run_cli({"run", scenario.string(), "--repeat", "2", "--out", out.string()});
    ASSERT_EQ(run.exit_code, 1) << run.output;
    Browser dom = chromium({"--dump-dom", "--virtual-time-budget=5000"}, out / "report.html", dir.path());
    ASSERT_EQ(dom.exit_code, 0) << dom.stderr_text;
    EXPECT_NE(dom.stdout_text.find("data-rendered=\"true\""), std::string::npos) << "the page script did not finish";
    EXPECT_NE(dom.stdout_text.find("<div id=\"js-errors\"></div>"), std::string::npos) << dom.stdout_text.substr(0, 2000);
    EXPECT_NE(dom.stdout_text.find("<section id=\"repeat\">"), std::string::npos) << "the section stayed hidden";
    EXPECT_NE(dom.stdout_text.find("<td>exit_code</td><td class=\"num\">0</td><td class=\"num bad\">2</td>"),
              std::string::npos) << dom.stdout_text;
    EXPECT_NE(dom.stdout_text.find("<div>run 2: exited with code 1"), std::string::npos);
}
