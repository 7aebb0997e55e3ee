#include "platforms/pm2/pm2_app.h"

#include <chrono>
#include <filesystem>

namespace draincheck {
namespace {

bool is_node(const std::string& program) {
    std::string name = std::filesystem::path(program).filename().string();
    return name == "node" || name == "nodejs";
}

std::string absolute_in(const std::string& path, const std::string& cwd) {
    std::filesystem::path p(path);
    if (p.is_absolute() || cwd.empty()) return p.lexically_normal().string();
    return (std::filesystem::path(cwd) / p).lexically_normal().string();
}

int64_t milliseconds(Nanos d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

Pm2App pm2_app(const std::vector<std::string>& argv, const std::string& cwd) {
    Pm2App app;
    if (argv.empty()) return app;
    size_t script = 0;
    if (is_node(argv[0])) {
        script = 1;
        while (script < argv.size() && argv[script].rfind("-", 0) == 0) app.node_args.push_back(argv[script++]);
        if (script >= argv.size()) return app;   // node with no script: nothing PM2 can run
    } else if (argv.size() > 1 && argv[0].find('/') == std::string::npos) {
        app.interpreter = argv[0];   // an interpreter found in PATH: python3 app.py
        script = 1;
    } else {
        app.interpreter = "none";    // a program of its own: PM2 runs it as is
    }
    app.script = absolute_in(argv[script], cwd);
    app.args.assign(argv.begin() + long(script) + 1, argv.end());
    return app;
}

nlohmann::json pm2_ecosystem(const LaunchSpec& launch, const PlatformSpec& platform) {
    Pm2App app = pm2_app(launch.argv, launch.cwd);
    nlohmann::json a = {
        {"name", kPm2AppName},
        {"script", app.script},
        {"args", app.args},
        {"instances", platform.instances},
        {"exec_mode", platform.exec_mode == PlatformSpec::ExecMode::cluster ? "cluster" : "fork"},
        {"wait_ready", platform.wait_ready},
        {"autorestart", true},
        {"env", launch.env},
    };
    if (!launch.cwd.empty()) a["cwd"] = launch.cwd;
    if (!app.node_args.empty()) a["node_args"] = app.node_args;
    if (!app.interpreter.empty()) a["interpreter"] = app.interpreter;
    if (platform.kill_timeout) a["kill_timeout"] = milliseconds(*platform.kill_timeout);
    if (platform.listen_timeout) a["listen_timeout"] = milliseconds(*platform.listen_timeout);
    return nlohmann::json{{"apps", nlohmann::json::array({a})}};
}

std::map<std::string, std::string> pm2_environment(const std::string& home) {
    return {{"PM2_HOME", home}, {"PM2_DISABLE_VERSION_CHECK", "1"}};
}

}  // namespace draincheck
