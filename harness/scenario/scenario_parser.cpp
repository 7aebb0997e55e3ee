#include "scenario/scenario_parser.h"
#include "scenario/docker_args.h"

#include "scenario/bare_text_check.h"

#include "common/duration.h"
#include "common/signals.h"
#include "scenario/section_readers.h"
#include "scenario/table_reader.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace draincheck {
namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

constexpr Nanos kMaxLoadDuration = 1h;   // longer runs are typos; records are kept in memory

// RFC 9110 token characters: what a method or a header name may consist of.
bool is_token_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

bool has_control_or_space(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    in_addr v4;
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6;
    return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool is_ip_literal_or_localhost(const std::string& host) {
    in6_addr buffer;
    return host == "localhost" || ::inet_pton(AF_INET, host.c_str(), &buffer) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), &buffer) == 1;
}

void read_request(const TableReader& t, RequestTemplate& r) {
    if (auto method = t.string("method")) {
        bool uppercase = std::none_of(method->begin(), method->end(), [](char c) { return c >= 'a' && c <= 'z'; });
        if (!is_token(*method) || !uppercase)
            t.fail("method", "expected an uppercase HTTP method like \"GET\" or \"POST\", got \"" + *method + "\"");
        r.method = *method;
    }
    if (auto path = t.string("path")) {
        if (path->empty() || path->front() != '/')
            t.fail("path", "expected a path starting with \"/\", got \"" + *path + "\"");
        if (has_control_or_space(*path))
            t.fail("path", "expected a path without spaces or control characters (percent-encode them), got \"" + *path + "\"");
        r.path = *path;
    }
    if (const toml::table* headers = t.free_form_table("headers")) {
        r.headers.clear();   // a [[load.mix]] entry's headers replace those of [load]
        for (const auto& [k, value] : *headers) {
            std::string name(k.str());
            std::string key = t.dotted("headers") + "." + name;
            if (!is_token(name))
                t.fail_at(value, key + ": expected a header name (letters, digits and !#$%&'*+-.^_`|~), got \"" + name + "\"");
            if (!value.is_string()) t.fail_at(value, key + ": expected a string, got " + describe_value(value));
            std::string text(*value.value<std::string_view>());
            if (text.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
                t.fail_at(value, key + ": expected a header value without line breaks or NUL, got one with them");
            r.headers.emplace_back(name, text);
        }
    }
    if (auto body = t.string("body")) r.body = *body;
}

void read_ready(const TableReader& t, ReadyProbe& ready) {
    auto r = t.table("ready", {"http", "tcp", "timeout", "interval"});
    if (!r) return;   // the default: a TCP connect probe
    auto http = r->string("http");
    auto tcp = r->boolean("tcp");
    if (http.has_value() == tcp.has_value())
        r->fail_at(r->table(), t.dotted("ready") + ": expected exactly one of `http = \"/healthz\"` or `tcp = true`, got " +
                                   (http ? "both" : "neither"));
    if (tcp && !*tcp) r->fail("tcp", "expected true (or `http = \"/path\"` instead), got false");
    if (http) {
        if (http->empty() || http->front() != '/' || has_control_or_space(*http))
            r->fail("http", "expected a path starting with \"/\" (e.g. \"/healthz\"), got \"" + *http + "\"");
        ready.kind = ReadyProbe::Kind::http;
        ready.http_path = *http;
    }
    if (auto v = r->duration("timeout", false)) ready.timeout = *v;
    if (auto v = r->duration("interval", false)) ready.interval = *v;
}

void read_target(const TableReader& t, const fs::path& scenario_dir, TargetSpec& target) {
    read_container(t, target.container, {"cwd", "env_clear"});
    if (!target.container)
        t.require("command", "array of strings (the target's argv, e.g. [\"node\", \"server.js\"]), or image = \"app:1.4\"");
    if (auto command = t.argv("command", "[\"node\", \"server.js\"]")) target.command = std::move(*command);

    fs::path cwd = scenario_dir;
    if (auto v = t.non_empty_string("cwd")) cwd = scenario_dir / *v;   // an absolute *v replaces the directory
    target.cwd = absolute_directory(cwd);

    target.env_clear = t.boolean("env_clear").value_or(false);
    if (const toml::array* masked = t.array("mask_env")) {
        for (size_t i = 0; i < masked->size(); ++i) {
            const toml::node& name = *masked->get(i);
            std::string key = t.dotted("mask_env") + "[" + std::to_string(i) + "]";
            if (!name.is_string() || name.value<std::string>()->empty() || name.value<std::string>()->find('=') != std::string::npos)
                t.fail_at(name, key + ": expected an environment variable name, got " + describe_value(name));
            target.mask_env.push_back(*name.value<std::string>());
        }
    }

    if (auto env = t.env_table("env")) target.env = std::move(*env);

    target.allow_remote = t.boolean("allow_remote").value_or(false);
    if (auto host = t.string("host")) {
        if (!is_ip_literal_or_localhost(*host))
            t.fail("host", "expected an IP address (e.g. \"127.0.0.1\", \"::1\") or \"localhost\", got \"" + *host + "\"");
        if (!is_loopback(*host) && !target.allow_remote)
            t.fail("host", *host + " is not a loopback address; draincheck only sends load to 127.0.0.0/8 and ::1 "
                                   "unless target.allow_remote = true");
        target.host = *host;
    }
    if (auto port = t.integer("port", 1, 65535)) target.port = uint16_t(*port);
    read_ready(t, target.ready);
    if (auto v = t.signal("stop_signal")) {
        target.stop_signal = *v;
        target.stop_signal_given = true;
    }
    if (auto v = t.duration("kill_after", false)) target.kill_after = *v;
}

void read_load(const TableReader& t, LoadSpec& load) {
    if (auto mode = t.string("mode")) {
        if (*mode == "rate") load.mode = LoadSpec::Mode::rate;
        else if (*mode == "connections") load.mode = LoadSpec::Mode::connections;
        else t.fail("mode", "expected \"rate\" (open loop) or \"connections\" (closed loop), got \"" + *mode + "\"");
    }
    if (auto v = t.number("rate", 0, true, 1e7)) load.rate = *v;
    if (auto v = t.integer("connections", 1, 10'000)) load.connections = unsigned(*v);
    if (auto v = t.integer("max_connections", 1, 60'000)) load.max_connections = unsigned(*v);
    t.require("duration", "duration (how long load is sent, e.g. \"10s\")");
    load.duration = *t.duration("duration", false);
    if (load.duration > kMaxLoadDuration)
        t.fail("duration", "expected a duration of at most 1h, got \"" + *t.get("duration")->value<std::string>() + "\"");
    read_request(t, load.request);
    if (auto v = t.boolean("keep_alive")) load.keep_alive = *v;
    if (auto v = t.duration("timeout", false)) load.timeout = *v;
    if (auto v = t.integer("threads", 0, 64)) load.threads = unsigned(*v);
    if (auto v = t.integer("max_requests", 0, 100'000'000)) load.max_requests = uint64_t(*v);
    if (auto v = t.duration("after_exit", true)) load.after_exit = *v;
    if (auto v = t.duration("closed_idle_window", true)) load.closed_idle_window = *v;
    if (auto v = t.integer("seed", 0)) load.seed = uint64_t(*v);

    auto mix = t.array_of_tables("mix");
    constexpr size_t kMaxMix = 200;
    if (mix.size() > kMaxMix)
        t.fail_at(*mix[kMaxMix], fmt::format("{}: expected at most {} entries, got {}", t.dotted("mix"), kMaxMix, mix.size()));
    for (size_t i = 0; i < mix.size(); ++i) {
        TableReader m(t.file(), *mix[i], fmt::format("{}[{}]", t.dotted("mix"), i),
                      {"method", "path", "headers", "body", "weight"});
        RequestTemplate r = load.request;
        read_request(m, r);
        if (auto w = m.number("weight", 0, true, 1e9)) r.weight = *w;
        load.mix.push_back(std::move(r));
    }
}

bool is_common_stop_signal(int signo) { return signo == SIGTERM || signo == SIGINT || signo == SIGQUIT || signo == SIGKILL; }

// Drain assertions describe what happens after a stop signal, so one must be sent. In a fleet the
// replicas are stopped gracefully (with the target's stop signal) by scale_down and rolling_restart.
void require_stop_signal_for_drain_keys(const TableReader& t, const Scenario& s) {
    int own = s.target.stop_signal;
    bool has_stop = std::any_of(s.faults.begin(), s.faults.end(), [&](const FaultSpec& f) {
        if (s.fleet) return f.action == "scale_down" || f.action == "rolling_restart";
        if (s.platform) return f.action == "platform";
        return f.action == "stop" || (f.action == "signal" && (is_common_stop_signal(f.signal) || f.signal == own));
    });
    if (has_stop) return;
    std::string signals = s.platform                  ? "action = \"platform\""
                          : s.fleet                   ? "scale_down or rolling_restart"
                          : is_common_stop_signal(own) ? "\"stop\", or a signal TERM, INT, QUIT or KILL"
                                                       : "\"stop\", or a signal TERM, INT, QUIT, KILL or target.stop_signal " + signal_name(own);
    std::string what = has_instances(s) ? "stops replicas" : "sends a stop signal";
    const ExpectSpec& e = s.expect;
    for (auto [key, used] : {std::pair{"exit_within", e.exit_within.has_value()},
                             std::pair{"refused_after_close", e.refused_after_close_clean},
                             std::pair{"ready_fails_during_drain", e.ready_fails_during_drain.has_value()}}) {
        if (used)
            t.fail_at(*t.get(key), t.dotted(key) + " needs a [[faults]] entry that " + what + " (" + signals + ")");
    }
}

void read_expect(const TableReader& t, ExpectSpec& e) {
    if (auto v = t.integer("dropped_inflight", 0)) e.dropped_inflight = uint64_t(*v);
    if (auto v = t.integer("exit_code", 0, 255)) e.exit_code = int(*v);
    e.exit_within = t.duration("exit_within", false);
    e.max_error_rate = t.number("max_error_rate", 0, false, 1);
    if (auto v = t.string("refused_after_close")) {
        if (*v != "clean" && *v != "any") t.fail("refused_after_close", "expected \"clean\" or \"any\", got \"" + *v + "\"");
        e.refused_after_close_clean = *v == "clean";
    }
    e.ready_fails_during_drain = t.boolean("ready_fails_during_drain");
    e.dependency_closed_before_exit = t.boolean("dependency_closed_before_exit");
    if (auto down = t.table("dependency_down", {"max_latency", "ready_fails", "recovers_within"})) {
        ExpectSpec::DependencyDown d;
        d.max_latency = down->duration("max_latency", false);
        d.ready_fails = down->boolean("ready_fails");
        d.recovers_within = down->duration("recovers_within", false);
        e.dependency_down = d;
    }
    if (auto v = t.integer("client_errors", 0)) e.client_errors = uint64_t(*v);
    e.capacity_restored_within = t.duration("capacity_restored_within", false);
    e.max_p99_during_fault = t.duration("max_p99_during_fault", false);
    e.stateless = t.boolean("stateless");
}

bool has_action(const Scenario& s, std::initializer_list<std::string_view> actions) {
    return std::any_of(s.faults.begin(), s.faults.end(), [&](const FaultSpec& f) {
        return std::find(actions.begin(), actions.end(), f.action) != actions.end();
    });
}

// Dependency assertions need a dependency, and an outage to judge the behaviour during one.
void require_dependencies_for_dependency_keys(const TableReader& t, const Scenario& s) {
    if (s.expect.dependency_closed_before_exit && s.dependencies.empty())
        t.fail("dependency_closed_before_exit", "needs a [[dependencies]] entry whose connections it can check");
    if (!s.expect.dependency_down) return;
    if (!has_action(s, {"kill_dependency", "stop_dependency"}))
        t.fail("dependency_down", "needs a [[faults]] entry with action \"kill_dependency\" or \"stop_dependency\"");
    if (s.expect.dependency_down->recovers_within && !has_action(s, {"restart_dependency", "cont_dependency"}))
        t.fail_at(*t.get("dependency_down")->as_table()->get("recovers_within"),
                  t.dotted("dependency_down") + ".recovers_within needs a [[faults]] entry with action "
                  "\"restart_dependency\" or \"cont_dependency\" that brings the dependency back");
}

// Platform assertions: those of a fleet, judged on the instances the platform stopped.
void require_platform_for_platform_keys(const TableReader& t, const Scenario& s) {
    for (std::string_view key : {"refused_after_close", "ready_fails_during_drain", "dependency_closed_before_exit",
                                 "stateless", "max_error_rate", "dependency_down"})
        if (t.get(key))
            t.fail(key, "is not judged on a [platform]; use client_errors, dropped_inflight, exit_code, exit_within, "
                        "capacity_restored_within and max_p99_during_fault, which apply to every instance it stops");
    const auto grows = [](const FaultSpec& f) { return f.action == "platform"; };
    if ((s.expect.capacity_restored_within || s.expect.max_p99_during_fault) &&
        std::none_of(s.faults.begin(), s.faults.end(), grows))
        t.fail(s.expect.capacity_restored_within ? "capacity_restored_within" : "max_p99_during_fault",
               "needs a [[faults]] entry with action = \"platform\"");
}

// Fleet assertions need a fleet, and the faults whose effect they judge.
void require_fleet_for_fleet_keys(const TableReader& t, const Scenario& s) {
    if (s.platform) return require_platform_for_platform_keys(t, s);
    for (std::string_view key : {"client_errors", "capacity_restored_within", "max_p99_during_fault", "stateless"})
        if (t.get(key) && !s.fleet)
            t.fail(key, "needs a [fleet] section (the target's replicas behind a load balancer) or a [platform]");
    if (!s.fleet) return;
    // These judge one process and its own listener; in a fleet the balancer owns the public port.
    for (std::string_view key : {"refused_after_close", "ready_fails_during_drain", "dependency_closed_before_exit"})
        if (t.get(key))
            t.fail(key, "is not judged in a [fleet] (it watches a single process and its listener); use client_errors, "
                        "dropped_inflight, exit_code and exit_within, which apply to every replica a fault stops");
    if (s.expect.capacity_restored_within && !has_action(s, {"scale_up", "rolling_restart"}))
        t.fail("capacity_restored_within", "needs a [[faults]] entry with action \"scale_up\" or \"rolling_restart\"");
    if (s.expect.max_p99_during_fault && !has_action(s, {"scale_down", "scale_up", "rolling_restart", "kill_replica"}))
        t.fail("max_p99_during_fault", "needs a [[faults]] entry with a fleet action (\"scale_down\", \"scale_up\", "
                                       "\"rolling_restart\" or \"kill_replica\")");
    if (s.expect.stateless && s.fleet->replicas < 2)
        t.fail("stateless", fmt::format("needs fleet.replicas of at least 2 (state created through one replica is read "
                                        "back through the others), got {}", s.fleet->replicas));
}

// Relative paths in a scenario are relative to where the file really is, even through a symlink.
fs::path scenario_directory(const std::string& file) {
    fs::path path = fs::absolute(file.empty() ? "." : file);
    std::error_code ec;
    fs::path real = fs::weakly_canonical(path, ec);
    return (ec ? path : real).parent_path();
}

Scenario read_scenario(const toml::table& root, const std::string& file) {
    Scenario s;
    s.source_path = file;
    TableReader top(file, root, "", {"name", "description", "target", "load", "dependencies", "fleet", "platform",
                                        "faults", "expect"});
    s.name = top.non_empty_string("name").value_or(fs::path(file).stem().string());
    s.description = top.string("description").value_or("");
    top.require("target", "table [target]");
    top.require("load", "table [load]");

    auto target = top.table("target", {"command", "image", "init", "docker_args", "cwd", "env", "env_clear", "mask_env", "host", "port", "allow_remote", "ready",
                                       "stop_signal", "kill_after"});
    read_target(*target, scenario_directory(file), s.target);
    auto load = top.table("load", {"mode", "rate", "connections", "max_connections", "duration", "method", "path",
                                   "headers", "body", "keep_alive", "timeout", "threads", "max_requests",
                                   "after_exit", "closed_idle_window", "seed", "mix"});
    read_load(*load, s.load);
    read_dependencies(top, scenario_directory(file), s.target, s.dependencies);
    read_fleet(top, s.target, s.fleet);
    read_platform(top, s.target, s.dependencies, s.platform);
    read_faults(top, s.load, s.dependencies, s.fleet, s.platform, s.faults);
    if (auto expect = top.table("expect", {"dropped_inflight", "exit_code", "exit_within", "max_error_rate",
                                           "refused_after_close", "ready_fails_during_drain",
                                           "dependency_closed_before_exit", "dependency_down", "client_errors",
                                           "capacity_restored_within", "max_p99_during_fault", "stateless"})) {
        read_expect(*expect, s.expect);
        require_stop_signal_for_drain_keys(*expect, s);
        require_dependencies_for_dependency_keys(*expect, s);
        require_fleet_for_fleet_keys(*expect, s);
    }
    return s;
}

}  // namespace

Scenario parse_scenario_text(std::string_view text, const std::string& source_name) {
    if (auto at = find_bare_non_ascii(text))
        throw ScenarioError(source_name, at->line, at->column,
                            "invalid TOML: a non-ASCII character outside a string or a comment");
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(source_name));
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw ScenarioError(source_name, int(where.line), int(where.column), "invalid TOML: " + std::string(e.description()));
    }
    return read_scenario(root, source_name);
}

Scenario parse_scenario_file(const std::string& path) {
    // stdio rather than ifstream: errno is reliably set on failure, and reading a directory
    // fails with EISDIR instead of yielding an empty file.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!in) throw ScenarioError(path, 0, 0, std::string("cannot read scenario file: ") + std::strerror(errno));
    std::string text;
    char buffer[1 << 16];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, in.get())) > 0) text.append(buffer, n);
    if (std::ferror(in.get())) throw ScenarioError(path, 0, 0, std::string("cannot read scenario file: ") + std::strerror(errno));
    return parse_scenario_text(text, path);
}

// `image = "..."`, `init`, `docker_args`: a container (harness/runtimes/container).
void read_container(const TableReader& t, std::optional<ContainerSpec>& out, std::initializer_list<const char*> process_only) {
    auto image = t.non_empty_string("image");
    if (!image) {
        for (const char* key : {"init", "docker_args"})
            if (t.get(key)) t.fail(key, std::string(key) + " applies to a container: set " + t.dotted("image") + " too");
        return;
    }
    if (has_control_or_space(*image)) t.fail("image", "expected an image name (e.g. \"app:1.4\"), got \"" + *image + "\"");
    for (const char* key : process_only)
        if (t.get(key)) t.fail(key, std::string(key) + " applies to a command, not to an image (the image has its own)");
    ContainerSpec c;
    c.image = *image;
    c.init = t.boolean("init").value_or(false);
    if (const toml::array* args = t.array("docker_args")) {
        for (size_t i = 0; i < args->size(); ++i) {
            const toml::node& arg = *args->get(i);
            std::string where = t.dotted("docker_args") + "[" + std::to_string(i) + "]";
            if (!arg.is_string()) t.fail_at(arg, where + ": expected a string, got " + describe_value(arg));
            c.docker_args.emplace_back(*arg.value<std::string_view>());
        }
        if (auto problem = docker_args_problem(c.docker_args)) t.fail("docker_args", *problem);
    }
    out = std::move(c);
}

}  // namespace draincheck
