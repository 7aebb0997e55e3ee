#pragma once
// Turns a validated scenario into what one run needs concretely: the port, the argv and environment
// with placeholders substituted, absolute paths. Checks the environment (port free) but starts nothing.
#include "scenario/scenario.h"
#include "supervisor/supervisor.h"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace draincheck {

// One dependency, concretely: its port, the proxy's port in front of it, its argv.
struct DependencyPlan {
    std::string name;
    uint16_t port = 0;                       // where the dependency itself listens
    uint16_t proxy_port = 0;                 // where the target reaches it, through the fault proxy
    LaunchSpec launch;
    std::vector<std::string> ready_argv;     // for ready.kind = command, placeholders substituted
};

// A container target, concretely: its unique name and the whole `docker run` command.
struct ContainerPlan {
    std::string image;
    std::string name;                        // unique: Docker's event filters also match old containers of a name
    std::vector<std::string> run_argv;       // docker run -d --name ... --network host ... IMAGE [command]
    std::string stop_signal_source;          // "the scenario", "the image's STOPSIGNAL", "Docker's default"
};

// The label every container draincheck starts carries, with draincheck's pid: the orphan guard
// removes the containers of a run that was killed by it.
inline constexpr const char* kContainerLabel = "draincheck.run";

struct RunPlan {
    Scenario scenario;
    std::vector<DependencyPlan> dependencies;   // in scenario order
    std::string host;        // numeric address the target listens on
    uint16_t port = 0;
    LaunchSpec launch;
    std::optional<ContainerPlan> container;   // [target] image: launch.argv is the command given, if any
    std::vector<std::string> shown_argv;   // launch.argv (or the docker run) with mask_env secrets replaced by ***
    // Set in the target's environment besides its own `env`: the dependencies' addresses.
    std::map<std::string, std::string> target_env;
    // [platform]: the platform's command-line tool (the pm2 script, or docker).
    std::string platform_cli;
    // With [fleet], `port` is where the load balancer listens and `launch` is unused: each replica is
    // launched with target_launch().
};

// An environment problem found while planning (exit code 3).
struct PlanError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Replaces every "{port}" in `text`.
std::string substitute_placeholders(const std::string& text, uint16_t port);
// Replaces every "{name}" in `text` by its value.
std::string substitute_placeholders(const std::string& text, const std::map<std::string, std::string>& values);

// The target's launch on `port`; `replica` >= 0 also substitutes "{replica}" (a fleet's replicas).
LaunchSpec target_launch(const RunPlan& plan, int replica, uint16_t port);
// The `docker run` of `container`'s image for one launch: a unique name, draincheck's label, the host's
// network, `launch`'s environment and argv (its command, replacing the image's CMD).
ContainerPlan container_run(const ContainerSpec& container, const LaunchSpec& launch, std::string stop_signal_source);
// For an image target: the `docker run` of a fleet's replica launched with `launch` (a name of its own).
std::optional<ContainerPlan> replica_container(const RunPlan& plan, const LaunchSpec& launch);
// The pm2 draincheck drives: $DRAINCHECK_PM2, else the one its set-up installed with the project
// (harness/platforms/pm2, pinned by its lockfile), else `pm2` in PATH. Throws PlanError naming the fix.
std::string find_pm2();
// A loopback port nothing listens on right now (the kernel's choice).
uint16_t free_loopback_port();

// Throws PlanError (e.g. "port 8080 on 127.0.0.1 is already in use").
RunPlan make_run_plan(const Scenario& scenario);

}  // namespace draincheck
