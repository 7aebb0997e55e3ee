#include "platforms/swarm/swarm_service.h"

#include "common/signals.h"
#include "supervisor/orphan_guard.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>

namespace draincheck {
namespace {

bool port_free(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::string seconds_text(Nanos d) {
    return fmt::format("{}ms", std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

unsigned free_port_prefix() {
    std::mt19937 random(unsigned(::getpid()) ^ unsigned(std::chrono::steady_clock::now().time_since_epoch().count()));
    // Ports 20001-60009: above the usual services, below the kernel's ephemeral range's busiest part.
    std::uniform_int_distribution<unsigned> pick(2000, 6000);
    for (int attempt = 0; attempt < 200; ++attempt) {
        unsigned prefix = pick(random);
        bool all = true;
        for (unsigned slot = 1; slot <= 9 && all; ++slot) all = port_free(task_port(prefix, slot));
        if (all) return prefix;
    }
    throw PlanError("cannot find nine free loopback ports in a row for the swarm's tasks");
}

std::vector<std::string> swarm_create_argv(const RunPlan& plan, const std::string& name, unsigned port_prefix) {
    const Scenario& s = plan.scenario;
    const PlatformSpec& p = *s.platform;
    const std::string port = std::to_string(port_prefix) + "{{.Task.Slot}}";
    const std::map<std::string, std::string> values = {{"port", port}, {"replica", "{{.Task.Slot}}"}};
    const std::string label = std::string(kContainerLabel) + "=" + std::to_string(::getpid());
    std::vector<std::string> argv = {"docker", "service", "create", "--detach", "--name", name, "--network", "host",
                                     "--replicas", std::to_string(p.replicas), "--label", label, "--container-label", label,
                                     "--update-parallelism", std::to_string(p.update_parallelism), "--update-delay",
                                     seconds_text(p.update_delay), "--update-order",
                                     p.update_order == PlatformSpec::UpdateOrder::start_first ? "start-first" : "stop-first",
                                     "--update-failure-action", "pause", "--restart-condition", "on-failure"};
    if (p.stop_grace_period) argv.insert(argv.end(), {"--stop-grace-period", seconds_text(*p.stop_grace_period)});
    if (s.target.stop_signal_given) argv.insert(argv.end(), {"--stop-signal", "SIG" + signal_name(s.target.stop_signal)});
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : s.target.env) env[k] = substitute_placeholders(v, values);
    env.emplace("PORT", port);
    env[kRunMarker] = std::to_string(::getpid());   // the orphan guard knows the tasks' processes by it
    for (const auto& [k, v] : env) argv.insert(argv.end(), {"--env", k + "=" + v});
    if (s.target.container) {
        argv.insert(argv.end(), s.target.container->docker_args.begin(), s.target.container->docker_args.end());
        argv.push_back(s.target.container->image);
    }
    for (const auto& arg : s.target.command) argv.push_back(substitute_placeholders(arg, values));
    return argv;
}

std::vector<std::string> swarm_update_argv(const std::string& name) {
    return {"docker", "service", "update", "--detach", "--force", name};
}

std::vector<std::string> swarm_scale_argv(const std::string& name, unsigned count) {
    return {"docker", "service", "scale", "--detach", name + "=" + std::to_string(count)};
}

std::optional<TaskEvent> parse_task_event(const std::string& line) {
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (!e.is_object() || !e.contains("Actor")) return std::nullopt;
    const auto attributes = e["Actor"].value("Attributes", nlohmann::json::object());
    TaskEvent t;
    t.action = e.value("Action", e.value("status", ""));
    t.container = e["Actor"].value("ID", "");
    t.task_id = attributes.value("com.docker.swarm.task.id", "");
    const std::string task_name = attributes.value("com.docker.swarm.task.name", "");
    auto dot = task_name.find('.');
    if (t.task_id.empty() || dot == std::string::npos) return std::nullopt;
    t.slot = unsigned(std::atoi(task_name.c_str() + dot + 1));
    t.time_ns = e.value("timeNano", int64_t(0));
    if (attributes.contains("signal")) t.signal = std::atoi(attributes.value("signal", "0").c_str());
    if (attributes.contains("exitCode")) t.exit_code = std::atoi(attributes.value("exitCode", "0").c_str());
    return t;
}

}  // namespace draincheck
