// draincheck: does your service drop requests when it is told to stop?
#include "cli/commands.h"
#include "cli/exit_codes.h"

#include "supervisor/fd_limit.h"
#include "supervisor/orphan_guard.h"

#include <CLI/CLI.hpp>


#ifndef DRAINCHECK_VERSION
#define DRAINCHECK_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
    using namespace draincheck;
    raise_fd_limit();
    start_orphan_guard();
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
    run->add_option("--repeat", run_opts.repeat,
                    "Run each scenario N times (fresh target, fresh ports) and say, per assertion, how many runs held")
        ->check(CLI::Range(1u, 10000u));
    run->add_flag("--until-fail", run_opts.until_fail, "With --repeat: stop at the first run that does not pass");

    QuickOptions quick;
    RunOptions quick_run;
    auto* q = app.add_subcommand("quick", "Test a service without a scenario file: draincheck quick [options] -- COMMAND...");
    q->add_option("command", quick.command, "The service's command (after --); with --image, replaces the image's CMD");
    q->add_option("--image", quick.image, "Test this container image (present locally; run with --network host, stopped as docker stop does)");
    q->add_flag("--init", quick.init, "With --image: run it with docker run --init");
    q->add_option("--port", quick.port, "Port the service listens on (default: a free one, substituted for {port} and PORT)");
    q->add_option("--ready-http", quick.ready_http, "Ready probe path, e.g. /healthz (default: TCP connect)");
    q->add_option("--path", quick.path, "Path of the ordinary requests")->capture_default_str();
    q->add_option("--slow-path", quick.slow_path, "Path of the slow requests, 20% of the load (default: --path)");
    q->add_option("--rate", quick.rate, "Requests per second")->capture_default_str();
    q->add_option("--duration", quick.duration, "How long the load runs")->capture_default_str();
    q->add_option("--signal-at", quick.signal_at, "When SIGTERM is sent, from the start of load")->capture_default_str();
    q->add_option("--kill-after", quick.kill_after, "Grace before SIGKILL, and the exit_within limit")->capture_default_str();
    q->add_flag("--print-scenario", quick.print_scenario, "Print the equivalent scenario TOML and exit");
    q->add_option("--out", quick_run.out_dir, "Directory for the reports");
    q->add_option("--json", quick_run.json_path, "Write the JSON report to this file");
    q->add_option("--html", quick_run.html_path, "Write the HTML report to this file");
    q->add_option("--junit", quick_run.junit_path, "Write JUnit XML to this file");
    q->add_flag("-q,--quiet", quick_run.quiet, "Print only the verdict line");
    q->add_flag("-v,--verbose", quick_run.verbose, "Stream the service's output");

    std::string init_path = "draincheck.toml";
    auto* init = app.add_subcommand("init", "Write a commented starter scenario");
    init->add_option("file", init_path, "Where to write it")->capture_default_str();

    std::string report_json, report_html;
    auto* report = app.add_subcommand("report", "Render the HTML report again from a JSON report");
    report->add_option("report", report_json, "A report.json written by draincheck")->required();
    report->add_option("--html", report_html, "The HTML file to write")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? exit_code::pass : exit_code::invalid;
    }
    if (*validate) return validate_command(validate_files);
    if (*q) return quick_command(quick, quick_run);
    if (*init) return init_command(init_path);
    if (*report) return report_command(report_json, report_html);
    return run_command(run_opts);
}
