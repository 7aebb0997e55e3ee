#include "scenario/scenario_parser.h"
#include "scenario/section_readers.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace draincheck {
namespace {

const std::vector<std::string_view> kPm2Keys = {"instances", "exec_mode", "kill_timeout", "listen_timeout", "wait_ready"};
const std::vector<std::string_view> kSwarmKeys = {"replicas", "update_parallelism", "update_delay", "update_order",
                                                  "stop_grace_period", "lb", "health"};

// Swarm gives each task its port through a template ("PORT=4123{{.Task.Slot}}"): one digit of slot.
constexpr int64_t kMaxSwarmReplicas = 9;
constexpr int64_t kMaxPm2Instances = 32;

// PM2 takes its timeouts in milliseconds: an integer is milliseconds, as in an ecosystem file; a
// string is a duration ("5s").
std::optional<Nanos> pm2_milliseconds(const TableReader& t, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (n->is_integer()) {
        auto ms = t.integer(key, 1, 24LL * 3600 * 1000);
        return std::chrono::milliseconds(*ms);
    }
    if (n->is_string()) return t.duration(key, false);
    t.fail(key, "expected milliseconds (an integer, as PM2 takes it, e.g. 5000) or a duration (e.g. \"5s\"), got " +
                    describe_value(*n));
}

bool is_node(const std::string& program) {
    std::string name = std::filesystem::path(program).filename().string();
    return name == "node" || name == "nodejs";
}

void read_pm2(const TableReader& p, const TargetSpec& target, PlatformSpec& out) {
    if (auto v = p.integer("instances", 1, kMaxPm2Instances)) out.instances = unsigned(*v);
    if (auto mode = p.string("exec_mode")) {
        if (*mode == "cluster") out.exec_mode = PlatformSpec::ExecMode::cluster;
        else if (*mode == "fork") out.exec_mode = PlatformSpec::ExecMode::fork;
        else p.fail("exec_mode", "expected \"cluster\" (workers share one port) or \"fork\", got \"" + *mode + "\"");
    }
    out.kill_timeout = pm2_milliseconds(p, "kill_timeout");
    out.listen_timeout = pm2_milliseconds(p, "listen_timeout");
    out.wait_ready = p.boolean("wait_ready").value_or(false);
    if (out.exec_mode == PlatformSpec::ExecMode::fork && out.instances > 1)
        p.fail("instances", fmt::format("exec_mode = \"fork\" runs each instance as its own process on its own port; "
                                        "draincheck gives PM2 one port: use instances = 1, or exec_mode = \"cluster\" "
                                        "(got {})", out.instances));
    if (out.exec_mode == PlatformSpec::ExecMode::cluster && !target.command.empty() && !is_node(target.command.front()))
        p.fail("exec_mode", "cluster mode runs Node scripts only (PM2 forks them with Node's cluster module); the target "
                            "command runs \"" + target.command.front() + "\": use exec_mode = \"fork\"");
}

void read_swarm(const TableReader& p, const TargetSpec& target, PlatformSpec& out) {
    if (const toml::node* n = p.get("replicas"); n && n->is_integer() && *n->value<int64_t>() < 1)
        p.fail("replicas", fmt::format("must be at least 1, got {}", *n->value<int64_t>()));
    if (const toml::node* n = p.get("replicas"); n && n->is_integer() && *n->value<int64_t>() > kMaxSwarmReplicas)
        p.fail("replicas", fmt::format("at most {}: each task's port is a prefix and its one-digit slot (PORT=4123{{{{.Task.Slot}}}}), "
                                       "got {}", kMaxSwarmReplicas, *n->value<int64_t>()));
    if (auto v = p.integer("replicas", 1, kMaxSwarmReplicas)) out.replicas = unsigned(*v);
    if (auto v = p.integer("update_parallelism", 1, kMaxSwarmReplicas)) out.update_parallelism = unsigned(*v);
    if (auto v = p.duration("update_delay", true)) out.update_delay = *v;
    if (auto order = p.string("update_order")) {
        if (*order == "stop-first") out.update_order = PlatformSpec::UpdateOrder::stop_first;
        else if (*order == "start-first") out.update_order = PlatformSpec::UpdateOrder::start_first;
        else p.fail("update_order", "expected \"stop-first\" or \"start-first\" (Docker's words), got \"" + *order + "\"");
    }
    out.stop_grace_period = p.duration("stop_grace_period", true);
    if (auto lb = p.string("lb")) {
        if (*lb == "builtin") out.lb = FleetSpec::Balancer::builtin;
        else if (*lb == "haproxy") out.lb = FleetSpec::Balancer::haproxy;
        else p.fail("lb", "expected \"builtin\" (draincheck's own) or \"haproxy\", got \"" + *lb + "\"");
    }
    read_health(p, target, out.health);
}

}  // namespace

std::string_view platform_name(PlatformSpec::Kind kind) { return kind == PlatformSpec::Kind::pm2 ? "pm2" : "swarm"; }

void read_platform(const TableReader& top, const TargetSpec& target, const std::vector<DependencySpec>& dependencies,
                   std::optional<PlatformSpec>& out) {
    out.reset();
    std::vector<std::string_view> keys = {"kind"};
    keys.insert(keys.end(), kPm2Keys.begin(), kPm2Keys.end());
    keys.insert(keys.end(), kSwarmKeys.begin(), kSwarmKeys.end());
    auto p = top.table("platform", keys);
    if (!p) return;
    if (top.get("fleet"))
        top.fail_at(*top.get("fleet"), "[fleet] and [platform] are exclusive: [fleet] is draincheck's own emulation of a "
                                       "platform, [platform] drives a real one; keep one");
    PlatformSpec spec;
    spec.line = int(p->table().source().begin.line);
    spec.column = int(p->table().source().begin.column);
    p->require("kind", "string (\"pm2\" or \"swarm\")");
    std::string kind = *p->string("kind");
    if (kind == "pm2") spec.kind = PlatformSpec::Kind::pm2;
    else if (kind == "swarm") spec.kind = PlatformSpec::Kind::swarm;
    else p->fail("kind", "expected \"pm2\" or \"swarm\", got \"" + kind + "\"");
    const auto& own = spec.kind == PlatformSpec::Kind::pm2 ? kPm2Keys : kSwarmKeys;
    const auto& other = spec.kind == PlatformSpec::Kind::pm2 ? kSwarmKeys : kPm2Keys;
    for (std::string_view key : other)
        if (p->get(key) && std::find(own.begin(), own.end(), key) == own.end())
            p->fail(key, fmt::format("applies to kind = \"{}\", not \"{}\"",
                                     spec.kind == PlatformSpec::Kind::pm2 ? "swarm" : "pm2", kind));

    const toml::table& target_table = *top.get("target")->as_table();
    if (!dependencies.empty())
        top.fail_at(*top.get("dependencies"), "[[dependencies]] are not run with [platform] yet: the platform starts the "
                                              "instances, so draincheck cannot put its fault proxy in their environment");
    // The kind's own keys first: a misspelled one is named before what [target] lacks.
    if (spec.kind == PlatformSpec::Kind::pm2) read_pm2(*p, target, spec);
    else read_swarm(*p, target, spec);
    if (spec.kind == PlatformSpec::Kind::pm2) {
        if (target.container)
            top.fail_at(*target_table.get("image"), "target.image: PM2 runs a command (e.g. [\"node\", \"app.js\"]), not "
                                                    "an image; use [platform] kind = \"swarm\" for images");
        if (!target.port && !mentions_port(target))
            top.fail_at(*target_table.get("command"),
                        "target.command: PM2's instances listen on the port draincheck picks: put \"{port}\" in the "
                        "command (e.g. [\"node\", \"app.js\", \"--port\", \"{port}\"]) or in target.env "
                        "(e.g. PORT = \"{port}\"), or set target.port");
    } else {
        if (!target.container)
            top.fail_at(*target_table.get("command"), "target.command: a swarm runs images: set target.image (e.g. "
                                                      "\"app:1.4\"); use [platform] kind = \"pm2\" for a command");
        if (const toml::node* port = target_table.get("port"))
            top.fail_at(*port, "target.port: in a swarm each task gets its own free port (PORT, and \"{port}\" in "
                               "target.env or target.command); draincheck's balancer owns the public one");
    }
    out = std::move(spec);
}

}  // namespace draincheck
