#pragma once
// The subcommands of `draincheck`; each returns the process exit code (cli/exit_codes.h).
#include "scenario/scenario.h"

#include <optional>
#include <string>
#include <vector>

namespace draincheck {

struct RunOptions {
    std::vector<std::string> scenarios;
    std::string out_dir;      // write report.json (per scenario) here; empty = no files
    std::string json_path;    // explicit JSON report path (single scenario)
    std::string html_path;    // explicit HTML report path (single scenario)
    std::string junit_path;   // JUnit XML for all scenarios
    bool quiet = false;
    bool verbose = false;     // stream the target's output live
    unsigned repeat = 1;      // run each scenario this many times (fresh target, fresh ports)
    bool until_fail = false;  // with repeat: stop at the first run that does not pass
};

int validate_command(const std::vector<std::string>& scenarios);
int run_command(const RunOptions& options);
// Runs scenarios made in memory (draincheck quick) with the same reports and exit codes as `run`.
int run_scenarios(const RunOptions& options, const std::vector<Scenario>& prepared);
// Expands glob patterns draincheck is given quoted (the shell expands unquoted ones); nullopt, with
// the message printed, when a pattern matches no file.
std::optional<std::vector<std::string>> expand_scenario_args(const std::vector<std::string>& args);

struct QuickOptions {
    std::vector<std::string> command;   // after `--`; with `image`, replaces its CMD (optional)
    std::string image;                   // --image: the target is this container image
    bool init = false;                   // --init: docker run --init
    std::optional<uint16_t> port;
    std::string ready_http;              // empty = TCP readiness
    std::string path = "/";
    std::string slow_path;               // empty = same as path
    std::string duration = "20s";
    std::string signal_at = "5s";
    std::string kill_after = "10s";
    double rate = 50;
    bool print_scenario = false;
};
int quick_command(const QuickOptions& quick, const RunOptions& run);
int init_command(const std::string& path);
int report_command(const std::string& json_path, const std::string& html_path);

}  // namespace draincheck
