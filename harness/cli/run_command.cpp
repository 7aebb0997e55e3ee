#include "cli/commands.h"
#include "cli/console.h"
#include "cli/exit_codes.h"
#include "plan/run_plan.h"
#include "reports/atomic_file.h"
#include "reports/html_report.h"
#include "reports/json_report.h"
#include "reports/junit_report.h"
#include "run/scenario_runner.h"
#include "scenario/scenario_parser.h"
#include "verifier/repeat_summary.h"
#include "verifier/run_stats.h"
#include "verifier/verifier.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <glob.h>
#include <unistd.h>

#ifndef DRAINCHECK_VERSION
#define DRAINCHECK_VERSION "0.0.0"
#endif

namespace draincheck {
namespace fs = std::filesystem;

namespace {

// Fails early, before anything runs, when reports could not be written.
std::optional<std::string> check_writable_dir(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return "cannot create " + dir + ": " + ec.message();
    if (!fs::is_directory(dir)) return dir + " is not a directory";
    fs::path probe = fs::path(dir) / ".draincheck-write-test";
    {
        std::ofstream f(probe);
        if (!f) return dir + " is not writable";
    }
    fs::remove(probe, ec);
    return std::nullopt;
}

struct ScenarioOutcome {
    int code;
    std::string line;               // for the multi-scenario table
    ScenarioOutcomeForJunit junit;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// One run of a scenario, judged; its JSON report is made but not written yet.
struct JudgedRun {
    ScenarioOutcome outcome;
    nlohmann::json report;          // null when the harness could not run it
};

JudgedRun run_and_judge(const Scenario& scenario, Console& console) {
    const std::string& path = scenario.source_path;
    auto started = std::chrono::steady_clock::now();
    auto not_run = [&](int code, const std::string& name, const std::string& why) {
        return JudgedRun{ScenarioOutcome{code, why, {name, path, seconds_since(started), std::nullopt, why, why, std::nullopt}}, nullptr};
    };
    RunPlan plan;
    try {
        plan = make_run_plan(scenario);
    } catch (const PlanError& e) {
        console.harness_error(scenario.name, e.what(), {});
        return not_run(exit_code::environment, scenario.name, e.what());
    }
    console.begin(plan);
    RunResult result;
    int aborted_by = 0;
    try {
        result = run_scenario(plan, console, &aborted_by);
    } catch (const HarnessError& e) {
        console.harness_error(scenario.name, e.what(), e.log_tail);
        return not_run(exit_code::environment, scenario.name, e.what());
    }
    Verdict verdict = verify(result);
    RunStats stats = compute_stats(result.records, phase_bounds(result), result.load_started_ns);
    std::string summary = summary_text(result, verdict, stats);
    console.summary(scenario.name, verdict, summary);
    ScenarioOutcome outcome{verdict.passed ? exit_code::pass : exit_code::fail, verdict.summary,
                            {scenario.name, path, seconds_since(started), verdict, "", summary, std::nullopt}};
    if (result.aborted)
        outcome.code = aborted_by == SIGTERM ? exit_code::interrupted_term : exit_code::interrupted_int;
    return {std::move(outcome), make_json_report(result, verdict, stats, DRAINCHECK_VERSION)};
}

struct ReportPaths {
    std::string json, html;
    bool empty() const { return json.empty() && html.empty(); }
};

// --json/--html name files; --out DIR writes both (DIR/<scenario>/ for several scenarios).
ReportPaths report_paths(const RunOptions& opt, const Scenario& scenario, bool many) {
    fs::path dir = opt.out_dir.empty() ? fs::path() : many ? fs::path(opt.out_dir) / scenario.name : fs::path(opt.out_dir);
    return {!opt.json_path.empty() ? opt.json_path : dir.empty() ? "" : (dir / "report.json").string(),
            !opt.html_path.empty() ? opt.html_path : dir.empty() ? "" : (dir / "report.html").string()};
}

// Writes the report where asked; a report that cannot be written makes the exit code an environment error.
void write_reports(const ReportPaths& paths, const nlohmann::json& report, const RunOptions& opt, int& code) {
    if (paths.empty() || report.is_null()) return;
    try {
        auto write = [&](const std::string& path, const std::string& text) {
            if (path.empty()) return;
            if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
            write_text_file(path, text);
            if (!opt.quiet) fmt::print("report: {}\n", path);
        };
        write(paths.json, json_report_text(report));
        if (!paths.html.empty()) write(paths.html, make_html_report(report));
    } catch (const std::exception& e) {
        fmt::print(stderr, "draincheck: cannot write the report: {}\n", e.what());
        code = exit_code::worst(code, exit_code::environment);
    }
}

ScenarioOutcome run_parsed(const Scenario& scenario, const RunOptions& opt, bool many, Console& console) {
    JudgedRun run = run_and_judge(scenario, console);
    write_reports(report_paths(opt, scenario, many), run.report, opt, run.outcome.code);
    return run.outcome;
}

bool interrupted(int code) { return code == exit_code::interrupted_int || code == exit_code::interrupted_term; }

// --repeat N: the scenario N times, each with a fresh target and fresh ports. With --out, each run's
// reports go to run-K/ beside the summary's; the summary's report is the worst run's, with the
// repeat section added. The exit code is the worst run's.
ScenarioOutcome run_repeated(const Scenario& scenario, const RunOptions& opt, bool many, Console& console) {
    auto started = std::chrono::steady_clock::now();
    ReportPaths summary_paths = report_paths(opt, scenario, many);
    fs::path runs_dir = opt.out_dir.empty() ? fs::path() : fs::path(summary_paths.json).parent_path();
    std::vector<RepeatRun> runs;
    nlohmann::json worst_report;
    ScenarioOutcome worst;
    for (unsigned k = 1; k <= opt.repeat; ++k) {
        if (!opt.quiet) fmt::print("\n── run {} of {} ──\n", k, opt.repeat);
        JudgedRun run = run_and_judge(scenario, console);
        RepeatRun r{k, run.outcome.code, run.outcome.junit.verdict, {}};
        if (!runs_dir.empty()) {
            fs::path dir = runs_dir / fmt::format("run-{}", k);
            write_reports({(dir / "report.json").string(), (dir / "report.html").string()}, run.report, opt, run.outcome.code);
            if (!run.report.is_null()) r.report = (dir / "report.json").string();
            r.exit_code = run.outcome.code;
        }
        bool worse_run = runs.empty() || (r.exit_code != worst.code && exit_code::worst(worst.code, r.exit_code) == r.exit_code);
        if (worse_run) {
            worst = run.outcome;
            worst_report = std::move(run.report);
        }
        runs.push_back(std::move(r));
        if (interrupted(run.outcome.code)) break;
        if (opt.until_fail && run.outcome.code != exit_code::pass) break;
    }
    RepeatSummary summary = summarize_repeats(runs, opt.repeat, opt.until_fail, &exit_code::worst);
    console.repeat_summary(scenario.name, summary);
    ScenarioOutcome outcome = worst;
    outcome.code = summary.worst_exit_code;
    outcome.line = repeat_line(summary);
    outcome.junit.seconds = seconds_since(started);
    outcome.junit.repeat = summary;
    if (!worst_report.is_null()) worst_report["repeat"] = repeat_json(summary);
    write_reports(summary_paths, worst_report, opt, outcome.code);
    return outcome;
}

// Writes the JUnit file when one was asked for; the exit code `code` becomes, worse if it cannot be written.
int write_junit(const RunOptions& opt, const std::vector<ScenarioOutcomeForJunit>& suites, int code) {
    if (opt.junit_path.empty()) return code;
    try {
        write_text_file(opt.junit_path, make_junit_xml(suites));
    } catch (const std::exception& e) {
        fmt::print(stderr, "draincheck: cannot write the JUnit report: {}\n", e.what());
        return exit_code::worst(code, exit_code::environment);
    }
    return code;
}

// Every file is read and validated before any scenario runs, so that a broken file later in the list
// neither waits for the runs before it nor lets them run. Each broken file is reported (and is an
// error in the JUnit file); nullopt when any is.
std::optional<std::vector<Scenario>> parse_all(const RunOptions& opt) {
    std::vector<Scenario> scenarios;
    std::vector<ScenarioOutcomeForJunit> invalid;
    for (const std::string& path : opt.scenarios) {
        try {
            scenarios.push_back(parse_scenario_file(path));
        } catch (const ScenarioError& e) {
            fmt::print(stderr, "{}\n", e.what());
            invalid.push_back({fs::path(path).stem().string(), path, 0, std::nullopt, e.what(), e.what(), std::nullopt});
        }
    }
    if (invalid.empty()) return scenarios;
    if (opt.scenarios.size() > 1)
        fmt::print(stderr, "draincheck: {} of {} scenario files are invalid; none was run\n", invalid.size(),
                   opt.scenarios.size());
    write_junit(opt, invalid, exit_code::invalid);
    return std::nullopt;
}

int run_all(const RunOptions& opt, const std::vector<Scenario>& scenarios) {
    size_t count = scenarios.size();
    if ((!opt.json_path.empty() || !opt.html_path.empty()) && count > 1) {
        fmt::print(stderr, "draincheck: --json and --html take one scenario; use --out DIR for several\n");
        return exit_code::invalid;
    }
    if (!opt.out_dir.empty()) {
        if (auto problem = check_writable_dir(opt.out_dir)) {
            fmt::print(stderr, "draincheck: --out: {}\n", *problem);
            return exit_code::invalid;
        }
    }
    // A write to a closed connection must be an error code for the load generator, not a signal.
    std::signal(SIGPIPE, SIG_IGN);

    Console console(stdout, ::isatty(STDOUT_FILENO),
                    opt.quiet ? Console::Verbosity::quiet : opt.verbose ? Console::Verbosity::verbose : Console::Verbosity::normal);
    bool many = count > 1;
    int code = exit_code::pass;
    std::vector<std::pair<std::string, ScenarioOutcome>> table;
    for (size_t i = 0; i < count; ++i) {
        const std::string& path = scenarios[i].source_path;
        ScenarioOutcome o = opt.repeat > 1 ? run_repeated(scenarios[i], opt, many, console)
                                           : run_parsed(scenarios[i], opt, many, console);
        code = exit_code::worst(code, o.code);
        table.emplace_back(path, o);
        if (interrupted(o.code)) break;
        if (many && !opt.quiet) fmt::print("\n");
    }
    if (many) {
        fmt::print("\n{:<44} {:>4}  {}\n", "scenario", "exit", "result");
        for (const auto& [path, o] : table) fmt::print("{:<44} {:>4}  {}\n", path, o.code, o.line);
    }
    std::vector<ScenarioOutcomeForJunit> suites;
    for (const auto& [path, o] : table) suites.push_back(o.junit);
    return write_junit(opt, suites, code);
}


}  // namespace

std::optional<std::vector<std::string>> expand_scenario_args(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const auto& arg : args) {
        if (arg.find_first_of("*?[") == std::string::npos || fs::exists(arg)) {
            out.push_back(arg);
            continue;
        }
        glob_t matches{};
        int rc = ::glob(arg.c_str(), 0, nullptr, &matches);
        if (rc != 0 || matches.gl_pathc == 0) {
            globfree(&matches);
            fmt::print(stderr, "draincheck: no scenario file matches '{}'\n", arg);
            return std::nullopt;
        }
        for (size_t i = 0; i < matches.gl_pathc; ++i) out.emplace_back(matches.gl_pathv[i]);
        globfree(&matches);
    }
    return out;
}

int run_command(const RunOptions& opt) {
    std::vector<Scenario> none;
    return run_scenarios(opt, none);
}

int run_scenarios(const RunOptions& given, const std::vector<Scenario>& prepared) {
    if (!prepared.empty()) return run_all(given, prepared);
    RunOptions opt = given;
    auto expanded = expand_scenario_args(opt.scenarios);
    if (!expanded) return exit_code::invalid;
    opt.scenarios = *expanded;
    auto scenarios = parse_all(opt);
    if (!scenarios) return exit_code::invalid;
    return run_all(opt, *scenarios);
}

}  // namespace draincheck
