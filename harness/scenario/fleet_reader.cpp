#include "scenario/scenario_parser.h"
#include "scenario/section_readers.h"

#include <fmt/format.h>

#include <algorithm>

namespace draincheck {
namespace {

bool is_token_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool has_control_or_space(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

// A request path as [load] accepts one: starts with "/", no spaces or control characters.
std::optional<std::string> request_path(const TableReader& t, std::string_view key, std::string_view example) {
    auto path = t.string(key);
    if (path && (path->empty() || path->front() != '/' || has_control_or_space(*path)))
        t.fail(key, fmt::format("expected a path starting with \"/\", without spaces or control characters "
                                "(e.g. \"{}\"), got \"{}\"", example, *path));
    return path;
}

void read_state_probe(const TableReader& t, FleetSpec::StateProbe& probe) {
    auto p = t.table("state_probe", {"create_method", "create_path", "read_path"});
    if (!p) return;
    if (auto method = p->string("create_method")) {
        bool token = !method->empty() && std::all_of(method->begin(), method->end(), is_token_char);
        bool uppercase = std::none_of(method->begin(), method->end(), [](char c) { return c >= 'a' && c <= 'z'; });
        if (!token || !uppercase)
            p->fail("create_method", "expected an uppercase HTTP method like \"POST\" or \"PUT\", got \"" + *method + "\"");
        probe.create_method = *method;
    }
    if (auto v = request_path(*p, "create_path", "/session")) probe.create_path = *v;
    if (auto v = request_path(*p, "read_path", "/session/{id}")) {
        if (v->find("{id}") == std::string::npos)
            p->fail("read_path", "expected a path containing \"{id}\" (the created state's id, e.g. \"/session/{id}\"), "
                                 "got \"" + *v + "\"");
        probe.read_path = *v;
    }
}

}  // namespace

void read_health(const TableReader& t, const TargetSpec& target, FleetSpec::Health& health) {
    // The default: the target's own HTTP ready probe, else a TCP connect.
    if (target.ready.kind == ReadyProbe::Kind::http) health.path = target.ready.http_path;
    auto h = t.table("health", {"path", "interval", "timeout", "fall", "rise"});
    if (!h) return;
    if (auto v = request_path(*h, "path", "/healthz")) health.path = *v;
    if (auto v = h->duration("interval", false)) health.interval = *v;
    if (auto v = h->duration("timeout", false)) health.timeout = *v;
    if (auto v = h->integer("fall", 1, 1000)) health.fall = unsigned(*v);
    if (auto v = h->integer("rise", 1, 1000)) health.rise = unsigned(*v);
}

bool mentions_port(const TargetSpec& target) {
    auto has_port = [](const std::string& s) { return s.find("{port}") != std::string::npos; };
    return std::any_of(target.command.begin(), target.command.end(), has_port) ||
           std::any_of(target.env.begin(), target.env.end(), [&](const auto& e) { return has_port(e.second); });
}


void read_fleet(const TableReader& top, const TargetSpec& target, std::optional<FleetSpec>& out) {
    out.reset();
    auto f = top.table("fleet", {"replicas", "lb", "balance", "port", "deregistration_delay", "retry_idempotent",
                                 "health", "state_probe"});
    if (!f) return;
    FleetSpec fleet;
    fleet.line = int(f->table().source().begin.line);
    fleet.column = int(f->table().source().begin.column);

    if (const toml::node* n = f->get("replicas"); n && n->is_integer() && *n->value<int64_t>() < 1)
        f->fail("replicas", fmt::format("must be at least 1 (the replicas behind the load balancer), got {}",
                                        *n->value<int64_t>()));
    if (auto v = f->integer("replicas", 1, kMaxReplicas)) fleet.replicas = unsigned(*v);
    if (auto lb = f->string("lb")) {
        if (*lb == "builtin") fleet.lb = FleetSpec::Balancer::builtin;
        else if (*lb == "haproxy") fleet.lb = FleetSpec::Balancer::haproxy;
        else f->fail("lb", "expected \"builtin\" (draincheck's own) or \"haproxy\", got \"" + *lb + "\"");
    }
    if (auto balance = f->string("balance")) {
        if (*balance == "round_robin") fleet.balance = FleetSpec::Balance::round_robin;
        else if (*balance == "least_conn") fleet.balance = FleetSpec::Balance::least_conn;
        else f->fail("balance", "expected \"round_robin\" or \"least_conn\", got \"" + *balance + "\"");
    }
    if (auto port = f->integer("port", 1, 65535)) fleet.port = uint16_t(*port);
    if (auto v = f->duration("deregistration_delay", true)) fleet.deregistration_delay = *v;
    if (auto v = f->boolean("retry_idempotent")) fleet.retry_idempotent = *v;
    read_health(*f, target, fleet.health);
    read_state_probe(*f, fleet.state_probe);

    // Every replica runs the [target] command on a port of its own; the balancer owns the public one.
    const toml::table& target_table = *top.get("target")->as_table();
    if (const toml::node* port = target_table.get("port"))
        top.fail_at(*port, "target.port: with [fleet], the load balancer owns the public port and each replica gets "
                           "its own free port through \"{port}\"; use fleet.port instead");
    // An image gets PORT in its environment, and reads it or not: only its own run can tell.
    if (!target.container && !mentions_port(target))
        top.fail_at(*target_table.get("command"),
                    "target.command: with [fleet], every replica listens on its own port: put \"{port}\" in the "
                    "command (e.g. [\"node\", \"server.js\", \"--port\", \"{port}\"]) or in target.env "
                    "(e.g. PORT = \"{port}\")");
    out = std::move(fleet);
}

}  // namespace draincheck
