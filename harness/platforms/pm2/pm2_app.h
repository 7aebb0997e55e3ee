#pragma once
// What PM2 is told to run: the [target] command as a PM2 app, written as an ecosystem file (the JSON
// form of `ecosystem.config.js`), and the environment every pm2 command of a run shares.
#include "scenario/scenario.h"
#include "supervisor/supervisor.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace draincheck {

// The app's name in PM2 (every pm2 command of a run names it).
inline constexpr const char* kPm2AppName = "target";

struct Pm2App {
    std::string script;                      // absolute
    std::vector<std::string> args;
    std::vector<std::string> node_args;      // node's own options before the script
    std::string interpreter;                 // "" = node (PM2's default); "none" = run the script itself
};

// ["node", "--opt", "app.js", "a"] → script app.js, node_args [--opt], args [a]; ["python3", "app.py"] →
// interpreter python3, script app.py; ["./server"] → interpreter none, script ./server. Relative
// scripts are taken from `cwd`.
Pm2App pm2_app(const std::vector<std::string>& argv, const std::string& cwd);

// The ecosystem file for `launch` (argv, cwd, env) with the scenario's PM2 settings.
nlohmann::json pm2_ecosystem(const LaunchSpec& launch, const PlatformSpec& platform);

// The environment of every pm2 command of a run: its own PM2_HOME (short: PM2's unix sockets live
// there and must stay under 108 bytes), and no version check (it would reach outside the machine).
std::map<std::string, std::string> pm2_environment(const std::string& home);

}  // namespace draincheck
