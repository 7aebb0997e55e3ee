#pragma once
// Turns a validated scenario into what one run needs concretely: the port, the argv and environment
// with placeholders substituted, absolute paths. Checks the environment (port free) but starts nothing.
#include "scenario/scenario.h"
#include "supervisor/supervisor.h"

#include <stdexcept>
#include <string>

namespace draincheck {

struct RunPlan {
    Scenario scenario;
    std::string host;        // numeric address the target listens on
    uint16_t port = 0;
    LaunchSpec launch;
    std::vector<std::string> shown_argv;   // launch.argv with mask_env secrets replaced by ***
};

// An environment problem found while planning (exit code 3).
struct PlanError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Replaces every "{port}" in `text`.
std::string substitute_placeholders(const std::string& text, uint16_t port);

// Throws PlanError (e.g. "port 8080 on 127.0.0.1 is already in use").
RunPlan make_run_plan(const Scenario& scenario);

}  // namespace draincheck
