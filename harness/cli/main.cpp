// draincheck: does your service drop requests when it is told to stop?
#include "cli/commands.h"
#include "cli/exit_codes.h"

#include <CLI/CLI.hpp>

#ifndef DRAINCHECK_VERSION
#define DRAINCHECK_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
    using namespace draincheck;
    CLI::App app{"draincheck: launches a service, fires HTTP load at it, sends it SIGTERM and other faults,\n"
                 "and tells whether it dropped in-flight requests and exited in time."};
    app.set_version_flag("--version", std::string("draincheck ") + DRAINCHECK_VERSION);
    app.require_subcommand(1);

    std::vector<std::string> validate_files;
    auto* validate = app.add_subcommand("validate", "Check scenario files; print nothing on success");
    validate->add_option("scenario", validate_files, "Scenario TOML file(s)")->required();

    RunOptions run_opts;
    auto* run = app.add_subcommand("run", "Run scenario(s) and print the verdict");
    run->add_option("scenario", run_opts.scenarios, "Scenario TOML file(s)")->required();
    run->add_option("--out", run_opts.out_dir, "Directory for the reports (report.json)");
    run->add_option("--json", run_opts.json_path, "Write the JSON report to this file");
    run->add_option("--html", run_opts.html_path, "Write the HTML report to this file");
    run->add_option("--junit", run_opts.junit_path, "Write JUnit XML (one testsuite per scenario) to this file");
    run->add_flag("-q,--quiet", run_opts.quiet, "Print only the verdict line of each scenario");
    run->add_flag("-v,--verbose", run_opts.verbose, "Stream the target's output as it comes");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? exit_code::pass : exit_code::invalid;
    }
    if (*validate) return validate_command(validate_files);
    return run_command(run_opts);
}
