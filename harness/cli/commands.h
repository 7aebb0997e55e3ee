#pragma once
// The subcommands of `draincheck`; each returns the process exit code (cli/exit_codes.h).
#include <string>
#include <vector>

namespace draincheck {

struct RunOptions {
    std::vector<std::string> scenarios;
    std::string out_dir;      // write report.json (per scenario) here; empty = no files
    std::string json_path;    // explicit JSON report path (single scenario)
    bool quiet = false;
};

int validate_command(const std::vector<std::string>& scenarios);
int run_command(const RunOptions& options);

}  // namespace draincheck
