#include "scenario/section_readers.h"

#include <fmt/format.h>

#include <algorithm>

namespace draincheck {
namespace fs = std::filesystem;

std::string absolute_directory(const fs::path& dir) {
    fs::path normal = fs::absolute(dir).lexically_normal();
    if (normal.has_relative_path() && normal.filename().empty()) normal = normal.parent_path();
    return normal.string();
}

namespace {

bool is_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

void read_dependency_ready(const TableReader& t, DependencySpec::Ready& ready) {
    auto r = t.table("ready", {"tcp", "command", "timeout", "interval"});
    if (!r) return;   // the default: a TCP connect to the dependency's port
    auto tcp = r->boolean("tcp");
    auto command = r->argv("command", "[\"redis-cli\", \"-p\", \"{port}\", \"ping\"]");
    if (tcp.has_value() == command.has_value())
        r->fail_at(r->table(), t.dotted("ready") + ": expected exactly one of `tcp = true` or `command = [...]`, got " +
                                   (tcp ? "both" : "neither"));
    if (tcp && !*tcp) r->fail("tcp", "expected true (or `command = [...]` instead), got false");
    if (command) {
        ready.kind = DependencySpec::Ready::Kind::command;
        ready.command = std::move(*command);
    }
    if (auto v = r->duration("timeout", false)) ready.timeout = *v;
    if (auto v = r->duration("interval", false)) ready.interval = *v;
}

}  // namespace

void read_dependencies(const TableReader& top, const fs::path& scenario_dir, const TargetSpec& target,
                       std::vector<DependencySpec>& out) {
    auto tables = top.array_of_tables("dependencies");
    constexpr size_t kMaxDependencies = 16;
    if (tables.size() > kMaxDependencies)
        top.fail_at(*tables[kMaxDependencies], fmt::format("dependencies: expected at most {} entries, got {}",
                                                           kMaxDependencies, tables.size()));
    std::map<std::string, std::string> env_owner;   // variable -> where it was set
    for (const auto& [name, value] : target.env) env_owner[name] = "target.env";
    for (size_t i = 0; i < tables.size(); ++i) {
        TableReader t(top.file(), *tables[i], fmt::format("dependencies[{}]", i),
                      {"name", "command", "image", "init", "docker_args", "cwd", "ready", "env", "stop_signal", "kill_after"});
        DependencySpec d;
        d.line = int(tables[i]->source().begin.line);
        d.column = int(tables[i]->source().begin.column);
        t.require("name", "string (how faults name it, e.g. \"redis\")");
        d.name = *t.string("name");
        if (!is_name(d.name))
            t.fail("name", "expected a name of letters, digits, '_' and '-' (e.g. \"redis\"), got \"" + d.name + "\"");
        for (const DependencySpec& earlier : out)
            if (earlier.name == d.name)
                t.fail("name", fmt::format("\"{}\" is already the name of the dependency declared at line {}; "
                                           "names must be unique", d.name, earlier.line));
        read_container(t, d.container, {"cwd"});
        if (!d.container)
            t.require("command", "array of strings (the dependency's argv, e.g. [\"redis-server\", \"--port\", \"{port}\"]), "
                                 "or image = \"redis:7\"");
        if (auto command = t.argv("command", "[\"redis-server\", \"--port\", \"{port}\"]")) d.command = std::move(*command);
        fs::path cwd = scenario_dir;
        if (auto v = t.non_empty_string("cwd")) cwd = scenario_dir / *v;
        d.cwd = absolute_directory(cwd);
        read_dependency_ready(t, d.ready);
        if (auto env = t.env_table("env")) {
            for (const auto& [name, value] : *env) {
                auto [owner, fresh] = env_owner.emplace(name, t.dotted("env"));
                if (!fresh)
                    t.fail_at(*t.get("env")->as_table()->get(name),
                              fmt::format("{}.{}: already set by {}; a variable reaches the target from one place only",
                                          t.dotted("env"), name, owner->second));
            }
            d.env = std::move(*env);
        }
        if (auto v = t.signal("stop_signal")) d.stop_signal = *v;
        if (auto v = t.duration("kill_after", false)) d.kill_after = *v;
        out.push_back(std::move(d));
    }
}

}  // namespace draincheck
