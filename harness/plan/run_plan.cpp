#include "plan/run_plan.h"

#include "common/command_output.h"
#include "common/secret_mask.h"
#include "common/signals.h"
#include "plan/container_image.h"
#include "supervisor/orphan_guard.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace draincheck {
namespace {

struct Socket {
    int fd;
    ~Socket() { if (fd >= 0) ::close(fd); }
};

// Binds host:port (port 0 = let the kernel choose) the way a server would, with SO_REUSEADDR,
// and returns the bound port; throws PlanError when the address is taken.
uint16_t bind_probe(const std::string& host, uint16_t port) {
    bool v6 = host.find(':') != std::string::npos;
    Socket s{::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0)};
    if (s.fd < 0) throw PlanError(std::string("cannot create a socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage addr{};
    socklen_t len;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        ::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&addr);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        ::inet_pton(AF_INET, host.c_str(), &a->sin_addr);
        len = sizeof *a;
    }
    if (::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(s.fd, 1) != 0) {
        if (errno == EADDRINUSE)
            throw PlanError("port " + std::to_string(port) + " on " + host +
                            " is already in use: stop what listens there or omit target.port to pick a free one");
        throw PlanError("cannot bind " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
    }
    ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
              : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

std::string substitute_placeholders(const std::string& text, const std::map<std::string, std::string>& values) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        bool replaced = false;
        if (text[i] == '{') {
            for (const auto& [name, value] : values) {
                if (text.compare(i + 1, name.size(), name) == 0 && text.size() > i + 1 + name.size() &&
                    text[i + 1 + name.size()] == '}') {
                    out += value;
                    i += name.size() + 2;
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out += text[i++];
    }
    return out;
}

std::string substitute_placeholders(const std::string& text, uint16_t port) {
    return substitute_placeholders(text, {{"port", std::to_string(port)}});
}

namespace {

// A relative program path ("./server", "bin/app") is relative to the process's cwd.
std::vector<std::string> make_argv(const std::vector<std::string>& command, const std::string& cwd,
                                   const std::map<std::string, std::string>& values) {
    std::vector<std::string> argv;
    for (const auto& arg : command) argv.push_back(substitute_placeholders(arg, values));
    if (argv.empty()) return argv;   // an image's own CMD
    std::string& program = argv.front();
    if (program.find('/') != std::string::npos && !std::filesystem::path(program).is_absolute() && !cwd.empty())
        program = (std::filesystem::path(cwd) / program).lexically_normal().string();
    return argv;
}

// A free loopback port for a dependency or its proxy, distinct from every port already planned.
uint16_t free_port(std::vector<uint16_t>& taken) {
    for (int attempt = 0; attempt < 64; ++attempt) {
        uint16_t port = bind_probe("127.0.0.1", 0);
        if (std::find(taken.begin(), taken.end(), port) == taken.end()) {
            taken.push_back(port);
            return port;
        }
    }
    throw PlanError("cannot find a free loopback port for a dependency");
}

}  // namespace

LaunchSpec target_launch(const RunPlan& plan, int replica, uint16_t port) {
    const TargetSpec& t = plan.scenario.target;
    std::map<std::string, std::string> values = {{"port", std::to_string(port)}};
    if (replica >= 0) values["replica"] = std::to_string(replica);
    LaunchSpec launch;
    launch.cwd = t.cwd;
    launch.argv = make_argv(t.command, t.cwd, values);
    for (const auto& [name, value] : t.env) launch.env[name] = substitute_placeholders(value, values);
    launch.env.insert(plan.target_env.begin(), plan.target_env.end());
    launch.env.emplace("PORT", std::to_string(port));
    launch.env_clear = t.env_clear;
    for (const auto& name : t.mask_env) {
        auto given = launch.env.find(name);
        const char* inherited = t.env_clear ? nullptr : std::getenv(name.c_str());
        if (given != launch.env.end()) launch.secrets.push_back(given->second);
        else if (inherited) launch.secrets.emplace_back(inherited);
    }
    return launch;
}

uint16_t free_loopback_port() { return bind_probe("127.0.0.1", 0); }

std::string find_pm2() {
    if (const char* given = std::getenv("DRAINCHECK_PM2"); given && *given) {
        if (::access(given, X_OK) == 0) return given;
        throw PlanError(std::string("DRAINCHECK_PM2 is ") + given + ", which is not an executable file");
    }
    const std::string bundled = std::string(DRAINCHECK_SOURCE_DIR) + "/harness/platforms/pm2/node_modules/.bin/pm2";
    if (::access(bundled.c_str(), X_OK) == 0) return bundled;
    if (program_in_path("pm2")) return "pm2";
    throw PlanError("[platform] kind = \"pm2\" needs PM2: run `npm ci --prefix harness/platforms/pm2` (./setup.sh does), "
                    "or set DRAINCHECK_PM2 to a pm2 executable");
}

namespace {

std::string unique_container_name() {
    static int sequence = 0;
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return fmt::format("draincheck-{}-{}-{:x}", ::getpid(), ++sequence,
                       std::chrono::duration_cast<std::chrono::microseconds>(now).count() & 0xffffff);
}

// `docker run` of the target's image for one launch (the target, or a fleet's replica): detached,
// named uniquely, labelled with draincheck's pid, on the host's network.
ContainerPlan docker_run_plan(const ContainerSpec& c, const LaunchSpec& launch, std::string stop_signal_source) {
    ContainerPlan plan;
    plan.image = c.image;
    plan.name = unique_container_name();
    plan.stop_signal_source = std::move(stop_signal_source);
    plan.run_argv = {"docker", "run", "--detach", "--name", plan.name,
                     "--label", std::string(kContainerLabel) + "=" + std::to_string(::getpid()), "--network", "host"};
    if (c.init) plan.run_argv.push_back("--init");
    for (const auto& [name, value] : launch.env) plan.run_argv.insert(plan.run_argv.end(), {"--env", name + "=" + value});
    // The orphan guard finds a run's processes by this marker, also those inside its containers.
    plan.run_argv.insert(plan.run_argv.end(), {"--env", std::string(kRunMarker) + "=" + std::to_string(::getpid())});
    plan.run_argv.insert(plan.run_argv.end(), c.docker_args.begin(), c.docker_args.end());
    plan.run_argv.push_back(c.image);
    plan.run_argv.insert(plan.run_argv.end(), launch.argv.begin(), launch.argv.end());
    return plan;
}

// The target's image, run as Docker would for the platform, its stop signal decided as `docker stop`
// decides it: the scenario's, else the image's STOPSIGNAL, else TERM.
ContainerPlan plan_container(const ContainerSpec& c, const LaunchSpec& launch, TargetSpec& target) {
    ImageFacts image = inspect_image(c.image);
    std::string source = "the scenario";
    if (!target.stop_signal_given) {
        source = "Docker's default";
        if (!image.stop_signal.empty()) {
            auto signo = signal_from_name(image.stop_signal);
            if (!signo && std::isdigit(static_cast<unsigned char>(image.stop_signal[0])))
                signo = std::atoi(image.stop_signal.c_str());
            if (!signo) throw PlanError("image " + c.image + " declares STOPSIGNAL " + image.stop_signal + ", which draincheck does not know");
            target.stop_signal = *signo;
            source = "the image's STOPSIGNAL";
        }
    }
    return docker_run_plan(c, launch, source);
}

}  // namespace

ContainerPlan container_run(const ContainerSpec& container, const LaunchSpec& launch, std::string stop_signal_source) {
    return docker_run_plan(container, launch, std::move(stop_signal_source));
}

std::optional<ContainerPlan> replica_container(const RunPlan& plan, const LaunchSpec& launch) {
    if (!plan.container || !plan.scenario.target.container) return std::nullopt;
    return docker_run_plan(*plan.scenario.target.container, launch, plan.container->stop_signal_source);
}

RunPlan make_run_plan(const Scenario& scenario) {
    RunPlan plan;
    plan.scenario = scenario;
    const TargetSpec& t = scenario.target;
    plan.host = t.host == "localhost" ? "127.0.0.1" : t.host;
    // With [fleet] the load goes to the balancer's port; the replicas get theirs as they start.
    plan.port = bind_probe(plan.host, scenario.fleet ? scenario.fleet->port.value_or(0) : t.port.value_or(0));

    std::vector<uint16_t> taken = {plan.port};
    std::map<std::string, std::string> dependency_env;
    for (const DependencySpec& d : scenario.dependencies) {
        DependencyPlan dp;
        dp.name = d.name;
        dp.port = free_port(taken);
        dp.proxy_port = free_port(taken);
        std::map<std::string, std::string> own = {{"port", std::to_string(dp.port)}};
        dp.launch.cwd = d.cwd;
        dp.launch.argv = make_argv(d.command, d.cwd, own);
        if (d.container) inspect_image(d.container->image);   // present locally, Docker running: or a clear error now
        if (d.ready.kind == DependencySpec::Ready::Kind::command) dp.ready_argv = make_argv(d.ready.command, d.cwd, own);
        std::map<std::string, std::string> for_target = {{"port", std::to_string(dp.proxy_port)},
                                                         {"proxy_port", std::to_string(dp.proxy_port)},
                                                         {"direct_port", std::to_string(dp.port)}};
        for (const auto& [name, value] : d.env) dependency_env[name] = substitute_placeholders(value, for_target);
        plan.dependencies.push_back(std::move(dp));
    }

    plan.target_env = dependency_env;
    plan.launch = target_launch(plan, -1, plan.port);
    if (scenario.platform && scenario.platform->kind == PlatformSpec::Kind::pm2) plan.platform_cli = find_pm2();
    if (scenario.platform && scenario.platform->kind == PlatformSpec::Kind::swarm) {
        if (!program_in_path("docker")) throw PlanError("[platform] kind = \"swarm\" needs the docker CLI in PATH");
        plan.platform_cli = "docker";
    }
    if (t.container) plan.container = plan_container(*t.container, plan.launch, plan.scenario.target);
    for (const auto& arg : plan.container ? plan.container->run_argv : plan.launch.argv)
        plan.shown_argv.push_back(mask_secrets(arg, plan.launch.secrets));
    return plan;
}

}  // namespace draincheck
