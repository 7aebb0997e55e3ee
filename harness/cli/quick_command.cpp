// draincheck quick [options] -- COMMAND... (or --image IMG [--init] [-- ARGS...]): a SIGTERM-under-load test
// of any service or image without writing TOML first. The scenario is made as TOML text, so --print-scenario shows exactly what would run.
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "scenario/scenario_parser.h"

#include <fmt/format.h>

#include <filesystem>

namespace draincheck {
namespace {

// A TOML basic string.
std::string toml_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", int(c));
            else out += c;
        }
    }
    return out + "\"";
}

std::string scenario_toml(const QuickOptions& q) {
    std::string argv;
    for (const auto& a : q.command) argv += (argv.empty() ? "" : ", ") + toml_string(a);
    std::string slow = q.slow_path.empty() ? q.path : q.slow_path;
    std::string t;
    t += "# Made by `draincheck quick`: keep it, adjust it, run it with `draincheck run FILE`.\n";
    t += "name = \"quick\"\n\n[target]\n";
    if (!q.image.empty()) {
        t += "image = " + toml_string(q.image) + "\n";
        if (q.init) t += "init = true\n";
    }
    if (!argv.empty()) t += "command = [" + argv + "]\n";
    if (q.image.empty()) t += "cwd = " + toml_string(std::filesystem::current_path().string()) + "\n";
    if (q.port) t += fmt::format("port = {}\n", *q.port);
    t += q.ready_http.empty() ? "ready = { tcp = true }\n" : "ready = { http = " + toml_string(q.ready_http) + " }\n";
    t += "kill_after = " + toml_string(q.kill_after) + "\n\n";
    t += fmt::format("[load]\nrate = {}\nduration = {}\n\n", q.rate, toml_string(q.duration));
    t += "[[load.mix]]\npath = " + toml_string(q.path) + "\nweight = 0.8\n\n";
    t += "# Slow requests, so that some are in flight when the signal arrives.\n";
    t += "[[load.mix]]\npath = " + toml_string(slow) + "\nweight = 0.2\n\n";
    // An image is stopped as `docker stop` stops it: its STOPSIGNAL, else TERM.
    t += "[[faults]]\nat = " + toml_string(q.signal_at) +
         (q.image.empty() ? "\naction = \"signal\"\nsignal = \"TERM\"\n\n" : "\naction = \"stop\"\n\n");
    t += "[expect]\ndropped_inflight = 0\nexit_code = 0\nexit_within = " + toml_string(q.kill_after) + "\n";
    t += "refused_after_close = \"clean\"\n";
    if (!q.ready_http.empty()) t += "ready_fails_during_drain = true\n";
    return t;
}

}  // namespace

int quick_command(const QuickOptions& quick, const RunOptions& run) {
    if (quick.command.empty() && quick.image.empty()) {
        fmt::print(stderr, "draincheck quick: give the service's command after `--`, e.g. draincheck quick -- node app.js, "
                           "or an image with --image\n");
        return exit_code::invalid;
    }
    if (quick.init && quick.image.empty()) {
        fmt::print(stderr, "draincheck quick: --init applies to an image: give --image too\n");
        return exit_code::invalid;
    }
    std::string toml = scenario_toml(quick);
    Scenario scenario;
    try {
        scenario = parse_scenario_text(toml, "quick");
    } catch (const ScenarioError& e) {
        fmt::print(stderr, "draincheck quick: {}\n", e.message());
        return exit_code::invalid;
    }
    if (quick.print_scenario) {
        fmt::print("{}", toml);
        return exit_code::pass;
    }
    return run_scenarios(run, {scenario});
}

}  // namespace draincheck
