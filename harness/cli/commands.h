#pragma once
// The subcommands of `draincheck`; each returns the process exit code (cli/exit_codes.h).
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
};

int validate_command(const std::vector<std::string>& scenarios);
int run_command(const RunOptions& options);

}  // namespace draincheck
