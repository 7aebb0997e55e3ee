// The HTML report in a real headless Chromium: it renders without script errors, shows the verdict,
// the chart and the assertion rows, and a hostile log line stays text.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <algorithm>
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
    EXPECT_NE(text.find("<h2 id=\"fleet-title\">Replicas</h2>"), std::string::npos);
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

namespace {

// The `<figure>` of one stop's waterfall in the dumped DOM ("" when absent).
std::string stop_figure(const std::string& text, int replica) {
    return between(text, "<figure class=\"stop\" id=\"stop-" + std::to_string(replica) + "\"", "</figure>");
}

}  // namespace

// A rolling restart: one lane per replica on a shared axis, and for every replica that was signalled a
// waterfall of the requests in flight at it then, bar for bar what the JSON report's fleet.stops lists.
TEST(HtmlReport, FleetDrawsALanePerReplicaAndTheRequestsInFlightAtEachStop) {
    ASSERT_EQ(std::system("command -v chromium >/dev/null"), 0) << "chromium is not installed (setup.sh installs it)";
    TempDir dir;
    auto scenario = localize_scenario("fleet-rolling-restart.toml", dir.path());
    fs::path page = dir.path() / "fleet.html";
    fs::path json = dir.path() / "fleet.json";
    CliRun run = run_cli({"run", scenario.string(), "--html", page.string(), "--json", json.string()}, json);
    ASSERT_TRUE(fs::exists(page)) << run.output;
    ASSERT_TRUE(run.report.contains("fleet")) << run.output;
    const nlohmann::json& fleet = run.report["fleet"];
    const size_t replicas = fleet["replicas"].size();
    EXPECT_EQ(replicas, 6u) << "three replicas replaced one by one";
    // Every signalled replica has its stop, and the slow requests leave some in flight at the old ones.
    size_t signalled = 0, in_flight = 0;
    for (const auto& r : fleet["replicas"]) signalled += !r["signalled_s"].is_null();
    ASSERT_EQ(fleet["stops"].size(), signalled);
    for (const auto& s : fleet["stops"]) in_flight += s["in_flight"].size();
    EXPECT_GT(in_flight, 0u) << "no request was in flight at any stop";

    Browser dom = chromium({"--dump-dom", "--virtual-time-budget=5000"}, page, dir.path());
    ASSERT_EQ(dom.exit_code, 0) << dom.stderr_text;
    const std::string& text = dom.stdout_text;
    EXPECT_NE(text.find("data-rendered=\"true\""), std::string::npos) << "the page script did not finish";
    EXPECT_NE(text.find("<div id=\"js-errors\"></div>"), std::string::npos) << between(text, "<div id=\"js-errors\"", "</div>");
    EXPECT_EQ(dom.stderr_text.find("Uncaught"), std::string::npos) << dom.stderr_text;

    // One lane per replica, named and in index order.
    std::string lanes = between(text, "<div id=\"fleet-lanes\">", "</svg>");
    EXPECT_EQ(occurrences(lanes, "<g class=\"lane\""), replicas) << lanes.substr(0, 2000);
    size_t last = 0;
    for (size_t i = 0; i < replicas; ++i) {
        size_t at = lanes.find("<g class=\"lane\" data-replica=\"" + std::to_string(i) + "\">");
        ASSERT_NE(at, std::string::npos) << "no lane for replica " << i;
        EXPECT_GE(at, last);
        last = at;
        EXPECT_NE(between(lanes, "", "</g>", at).find(">replica " + std::to_string(i) + "</text>"), std::string::npos);
    }

    // A waterfall for each stop: as many bars as requests in flight, as many marked counted as the
    // verdict counted, and the caption's count.
    for (const auto& s : fleet["stops"]) {
        const int replica = s["replica"].get<int>();
        std::string figure = stop_figure(text, replica);
        ASSERT_FALSE(figure.empty()) << "no waterfall for replica " << replica;
        EXPECT_NE(figure.find("<h4>replica " + std::to_string(replica) + " · TERM at +"), std::string::npos) << figure.substr(0, 300);
        const size_t n = s["in_flight"].size();
        size_t counted = 0;
        for (const auto& a : s["in_flight"]) counted += a["counted"].get<bool>();
        EXPECT_EQ(occurrences(figure, "class=\"bar "), std::min<size_t>(n, 200)) << "replica " << replica;
        EXPECT_EQ(occurrences(figure, " counted\"><title>"), counted) << "replica " << replica;
        std::string caption = between(figure, "<figcaption", "</figcaption>");
        if (n == 0) EXPECT_NE(caption.find("No request was in flight at its TERM."), std::string::npos) << caption;
        else EXPECT_NE(caption.find(std::to_string(n) + " request" + (n == 1 ? "" : "s") + " in flight at its TERM: "),
                       std::string::npos) << caption;
    }
    EXPECT_EQ(occurrences(text, "<figure class=\"stop\""), fleet["stops"].size());

    // The same report as a platform's, with more requests in flight at one stop than are drawn: its
    // instances are called so, and the bars stop at 200 with the rest counted in a note.
    nlohmann::json report = run.report;
    report["fleet"]["platform"] = "pm2";
    report["fleet"]["balancer"] = "";
    nlohmann::json& stop = report["fleet"]["stops"][0];
    const double signal = stop["signalled_s"].get<double>();
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 250; ++i) {
        bool reset = i % 10 == 0;   // 25 reset, counted: always drawn
        many.push_back({{"request", i + 1}, {"started_s", signal - 0.5 + i * 0.001}, {"ended_s", signal + 0.001 * (i % 50)},
                        {"status", reset ? 0 : 200}, {"outcome", reset ? "reset" : "ok"}, {"retry", false},
                        {"end", reset ? "unanswered" : "answered"}, {"counted", reset}});
    }
    stop["in_flight"] = many;
    fs::path platform_json = dir.path() / "platform.json", platform_page = dir.path() / "platform.html";
    std::ofstream(platform_json) << report.dump();
    CliRun rerun = run_cli({"report", platform_json.string(), "--html", platform_page.string()});
    ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
    Browser pdom = chromium({"--dump-dom", "--virtual-time-budget=5000"}, platform_page, dir.path());
    ASSERT_EQ(pdom.exit_code, 0) << pdom.stderr_text;
    const std::string& ptext = pdom.stdout_text;
    EXPECT_NE(ptext.find("<div id=\"js-errors\"></div>"), std::string::npos) << between(ptext, "<div id=\"js-errors\"", "</div>");
    EXPECT_NE(ptext.find("<h2 id=\"fleet-title\">Instances</h2>"), std::string::npos);
    EXPECT_NE(ptext.find(">instance 0</text>"), std::string::npos);
    EXPECT_EQ(ptext.find(">replica 0</text>"), std::string::npos);
    std::string figure = stop_figure(ptext, stop["replica"].get<int>());
    EXPECT_EQ(occurrences(figure, "class=\"bar "), 200u);
    EXPECT_EQ(occurrences(figure, "class=\"bar reset counted\""), 25u) << "a failed request was left out";
    EXPECT_NE(figure.find("and 50 more not drawn (all answered well;"), std::string::npos) << figure.substr(figure.size() - 800);
    EXPECT_NE(figure.find("250 requests in flight at its TERM: 225 answered well, 25 failed (25 reset); 25 counted by dropped_inflight"),
              std::string::npos) << between(figure, "<figcaption", "</figcaption>");
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
