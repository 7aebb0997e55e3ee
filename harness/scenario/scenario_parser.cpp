#include "scenario/scenario_parser.h"

#include "common/duration.h"
#include "common/signals.h"

#include <toml++/toml.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace draincheck {
namespace fs = std::filesystem;

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cur = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
            prev = cur;
        }
    }
    return row[b.size()];
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    return s;
}

std::string type_name(const toml::node& n) {
    switch (n.type()) {
    case toml::node_type::string: return "string \"" + std::string(*n.value<std::string_view>()) + "\"";
    case toml::node_type::integer: return "integer " + std::to_string(*n.value<int64_t>());
    case toml::node_type::floating_point: {
        std::ostringstream s;
        s << "float " << *n.value<double>();
        return s.str();
    }
    case toml::node_type::boolean: return std::string("boolean ") + (*n.value<bool>() ? "true" : "false");
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date/time";
    }
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

// Reads one TOML table: typed getters that report errors at the value's position, and a final
// check that every key present was one the table knows (with a suggestion for misspellings).
class Table {
public:
    // `keys`: every key this table may hold. Unknown keys are reported first, so a misspelled
    // required key gets a "did you mean" rather than "missing".
    Table(const std::string& file, const toml::table& t, std::string prefix, std::initializer_list<const char*> keys)
        : file_(file), table_(t), prefix_(std::move(prefix)), known_(keys.begin(), keys.end()) {
        reject_unknown_keys();
    }

    [[noreturn]] void fail(const toml::node& at, const std::string& key, const std::string& message) const {
        const auto& src = at.source().begin;
        throw ScenarioError(file_, int(src.line), int(src.column), dotted(key) + ": " + message);
    }
    [[noreturn]] void fail_here(const std::string& message) const {
        const auto& src = table_.source().begin;
        throw ScenarioError(file_, int(src.line ? src.line : 1), int(src.column ? src.column : 1), message);
    }
    std::string dotted(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

    const toml::node* get(const std::string& key) const { return table_.get(key); }

    std::optional<std::string> string(const std::string& key) {
        const toml::node* n = get(key);
        if (!n) return std::nullopt;
        if (!n->is_string()) fail(*n, key, "expected a string, got " + type_name(*n));
        return std::string(*n->value<std::string_view>());
    }

    std::optional<bool> boolean(const std::string& key) {
        const toml::node* n = get(key);
        if (!n) return std::nullopt;
        if (!n->is_boolean()) fail(*n, key, "expected true or false, got " + type_name(*n));
        return *n->value<bool>();
    }

    std::optional<int64_t> integer(const std::string& key, int64_t min, int64_t max) {
        const toml::node* n = get(key);
        if (!n) return std::nullopt;
        if (!n->is_integer()) fail(*n, key, "expected an integer, got " + type_name(*n));
        int64_t v = *n->value<int64_t>();
        if (v < min || v > max)
            fail(*n, key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                              std::to_string(v));
        return v;
    }

    // `min_exclusive`: the value must be > min (else >= min).
    std::optional<double> number(const std::string& key, double min, bool min_exclusive, double max) {
        const toml::node* n = get(key);
        if (!n) return std::nullopt;
        if (!n->is_number()) fail(*n, key, "expected a number, got " + type_name(*n));
        double v = n->is_integer() ? double(*n->value<int64_t>()) : *n->value<double>();
        std::ostringstream range;
        if (min_exclusive) range << "> " << min;
        else range << "from " << min << " to " << max;
        if ((min_exclusive ? v <= min : v < min) || v > max) fail(*n, key, "expected a number " + range.str() + ", got " + type_name(*n));
        return v;
    }

    std::optional<Nanos> duration(const std::string& key, bool allow_zero) {
        const toml::node* n = get(key);
        if (!n) return std::nullopt;
        if (!n->is_string()) fail(*n, key, "expected a duration string like \"10s\" or \"250ms\", got " + type_name(*n));
        std::string text(*n->value<std::string_view>());
        auto d = parse_duration(text);
        if (!d) fail(*n, key, "expected a duration like \"250ms\", \"10s\", \"1m\" (units ns us ms s m h), got \"" + text + "\"");
        if (!allow_zero && d->count() == 0) fail(*n, key, "expected a duration > 0, got \"" + text + "\"");
        return d;
    }

    std::optional<int> signal(const std::string& key) {
        auto name = string(key);
        if (!name) return std::nullopt;
        auto s = signal_from_name(*name);
        if (!s) fail(*get(key), key, "unknown signal \"" + *name + "\"; expected one of " + join(supported_signal_names()));
        return s;
    }

    const toml::table* table(const std::string& key) {
        const toml::node* n = get(key);
        if (!n) return nullptr;
        if (!n->is_table()) fail(*n, key, "expected a table, got " + type_name(*n));
        return n->as_table();
    }

    const toml::array* array(const std::string& key) {
        const toml::node* n = get(key);
        if (!n) return nullptr;
        if (!n->is_array()) fail(*n, key, "expected an array, got " + type_name(*n));
        return n->as_array();
    }

    std::map<std::string, std::string> string_map(const std::string& key, bool allow_integers) {
        std::map<std::string, std::string> out;
        const toml::table* t = table(key);
        if (!t) return out;
        for (const auto& [k, v] : *t) {
            std::string name(k.str());
            if (v.is_string()) out[name] = std::string(*v.value<std::string_view>());
            else if (allow_integers && v.is_integer()) out[name] = std::to_string(*v.value<int64_t>());
            else fail(v, key + "." + name, std::string("expected a string") + (allow_integers ? " or an integer" : "") +
                                               ", got " + type_name(v));
        }
        return out;
    }

private:
    void reject_unknown_keys() const {
        for (const auto& [k, v] : table_) {
            std::string key(k.str());
            if (known_.count(key)) continue;
            std::string best;
            size_t best_distance = 3;
            for (const auto& candidate : known_) {
                size_t d = lower(candidate) == lower(key) ? 0 : edit_distance(key, candidate);
                if (d < best_distance) best_distance = d, best = candidate;
            }
            const auto& src = k.source().begin.line ? k.source().begin : v.source().begin;
            std::string message = "unknown key `" + dotted(key) + "`";
            if (!best.empty()) message += "; did you mean `" + best + "`?";
            else message += "; expected one of: " + join(std::vector<std::string>(known_.begin(), known_.end()));
            throw ScenarioError(file_, int(src.line), int(src.column), message);
        }
    }

public:
    void require(const std::string& key, const char* what) const {
        if (!table_.get(key)) fail_here(dotted(key) + ": missing required " + what);
    }

    const std::string& file() const { return file_; }

private:
    const std::string& file_;
    const toml::table& table_;
    std::string prefix_;
    std::set<std::string> known_;
};

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    in_addr v4;
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6;
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

bool is_ip_literal(const std::string& host) {
    in6_addr buf;
    return host == "localhost" || ::inet_pton(AF_INET, host.c_str(), &buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), &buf) == 1;
}

void read_request(Table& t, RequestTemplate& r) {
    if (auto v = t.string("method")) {
        if (v->empty() || !std::all_of(v->begin(), v->end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }))
            t.fail(*t.get("method"), "method", "expected an uppercase HTTP method like \"GET\", got \"" + *v + "\"");
        r.method = *v;
    }
    if (auto v = t.string("path")) {
        if (v->empty() || v->front() != '/') t.fail(*t.get("path"), "path", "expected a path starting with \"/\", got \"" + *v + "\"");
        if (v->find_first_of(" \r\n") != std::string::npos) t.fail(*t.get("path"), "path", "a path cannot contain spaces or line breaks");
        r.path = *v;
    }
    if (t.get("headers")) {
        r.headers.clear();
        for (auto& [k, v] : t.string_map("headers", false)) {
            if (k.find_first_of(" :\r\n") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
                t.fail(*t.get("headers"), "headers." + k, "header names and values cannot contain line breaks (or `:` in names)");
            r.headers.emplace_back(k, v);
        }
    }
    if (auto v = t.string("body")) r.body = *v;
}

void read_target(Table& t, const fs::path& scenario_dir, TargetSpec& target) {
    t.require("command", "array `command` (the target's argv, e.g. [\"node\", \"server.js\"])");
    const toml::array* cmd = t.array("command");
    if (cmd->empty()) t.fail(*t.get("command"), "command", "expected a non-empty array of strings");
    for (const auto& arg : *cmd) {
        if (!arg.is_string()) t.fail(arg, "command", "expected an array of strings, found " + type_name(arg));
        target.command.emplace_back(*arg.value<std::string_view>());
    }
    fs::path cwd = scenario_dir;
    if (auto v = t.string("cwd")) cwd = fs::path(*v).is_absolute() ? fs::path(*v) : scenario_dir / *v;
    target.cwd = cwd.lexically_normal().string();
    target.env = t.string_map("env", true);
    target.allow_remote = t.boolean("allow_remote").value_or(false);
    if (auto v = t.string("host")) {
        if (!is_ip_literal(*v))
            t.fail(*t.get("host"), "host", "expected an IP address (e.g. \"127.0.0.1\", \"::1\") or \"localhost\", got \"" + *v + "\"");
        if (!is_loopback(*v) && !target.allow_remote)
            t.fail(*t.get("host"), "host", *v + " is not a loopback address; draincheck only sends load to 127.0.0.0/8 "
                                            "and ::1 unless target.allow_remote = true");
        target.host = *v;
    }
    if (auto v = t.integer("port", 1, 65535)) target.port = uint16_t(*v);
    if (const toml::table* ready = t.table("ready")) {
        Table r(t.file(), *ready, t.dotted("ready"), {"http", "tcp", "timeout", "interval"});
        auto http = r.string("http");
        auto tcp = r.boolean("tcp");
        if (http && tcp) r.fail(*r.get("tcp"), "tcp", "give either `http = \"/path\"` or `tcp = true`, not both");
        if (!http && !tcp) r.fail_here("target.ready: expected `http = \"/healthz\"` or `tcp = true`");
        if (tcp && !*tcp) r.fail(*r.get("tcp"), "tcp", "expected `tcp = true` (or an `http` path)");
        if (http) {
            if (http->empty() || http->front() != '/')
                r.fail(*r.get("http"), "http", "expected a path starting with \"/\", got \"" + *http + "\"");
            target.ready.kind = ReadyProbe::Kind::http;
            target.ready.http_path = *http;
        }
        if (auto v = r.duration("timeout", false)) target.ready.timeout = *v;
        if (auto v = r.duration("interval", false)) target.ready.interval = *v;
    }
    if (auto v = t.signal("stop_signal")) target.stop_signal = *v;
    if (auto v = t.duration("kill_after", false)) target.kill_after = *v;
}

void read_load(Table& t, LoadSpec& load) {
    if (auto v = t.string("mode")) {
        if (*v == "rate") load.mode = LoadSpec::Mode::rate;
        else if (*v == "connections") load.mode = LoadSpec::Mode::connections;
        else t.fail(*t.get("mode"), "mode", "expected \"rate\" (open loop) or \"connections\" (closed loop), got \"" + *v + "\"");
    }
    if (auto v = t.number("rate", 0, true, 1e7)) load.rate = *v;
    if (auto v = t.integer("connections", 1, 10000)) load.connections = unsigned(*v);
    if (auto v = t.integer("max_connections", 1, 60000)) load.max_connections = unsigned(*v);
    t.require("duration", "duration (how long the load runs, e.g. \"10s\")");
    load.duration = *t.duration("duration", false);
    if (load.duration > std::chrono::hours(1)) t.fail(*t.get("duration"), "duration", "at most 1h");
    read_request(t, load.request);
    if (auto v = t.boolean("keep_alive")) load.keep_alive = *v;
    if (auto v = t.duration("timeout", false)) load.timeout = *v;
    if (auto v = t.integer("threads", 0, 64)) load.threads = unsigned(*v);
    if (auto v = t.integer("max_requests", 0, 100'000'000)) load.max_requests = uint64_t(*v);
    if (auto v = t.duration("after_exit", true)) load.after_exit = *v;
    if (auto v = t.duration("closed_idle_window", true)) load.closed_idle_window = *v;
    if (auto v = t.integer("seed", 0, INT64_MAX)) load.seed = uint64_t(*v);
    if (const toml::array* mix = t.array("mix")) {
        if (mix->size() > 200) t.fail(*t.get("mix"), "mix", "at most 200 entries");
        for (size_t i = 0; i < mix->size(); ++i) {
            const toml::node& entry = *mix->get(i);
            if (!entry.is_table()) t.fail(entry, "mix", "expected [[load.mix]] tables");
            Table m(t.file(), *entry.as_table(), "load.mix[" + std::to_string(i) + "]",
                    {"method", "path", "headers", "body", "weight"});
            RequestTemplate r = load.request;
            read_request(m, r);
            if (auto w = m.number("weight", 0, true, 1e9)) r.weight = *w;
            load.mix.push_back(std::move(r));
        }
    }
}

void read_faults(const std::string& file, const toml::array& faults, const LoadSpec& load, std::vector<FaultSpec>& out) {
    static const std::vector<std::string> kActions = {"signal"};
    for (size_t i = 0; i < faults.size(); ++i) {
        const toml::node& entry = *faults.get(i);
        std::string name = "faults[" + std::to_string(i) + "]";
        if (!entry.is_table()) {
            const auto& src = entry.source().begin;
            throw ScenarioError(file, int(src.line), int(src.column), name + ": expected a [[faults]] table");
        }
        Table f(file, *entry.as_table(), name, {"at", "action", "signal"});
        FaultSpec spec;
        spec.line = int(entry.source().begin.line);
        spec.column = int(entry.source().begin.column);
        f.require("at", "`at` (when the fault fires, from the start of load, e.g. \"3s\")");
        spec.at = *f.duration("at", true);
        if (spec.at >= load.duration)
            f.fail(*f.get("at"), "at", format_duration(spec.at) + " is not within load.duration (" + format_duration(load.duration) + ")");
        f.require("action", "`action` (one of: signal)");
        spec.action = *f.string("action");
        if (std::find(kActions.begin(), kActions.end(), spec.action) == kActions.end())
            f.fail(*f.get("action"), "action", "unknown action \"" + spec.action + "\"; known actions: " + join(kActions));
        if (spec.action == "signal") {
            f.require("signal", "`signal` (e.g. \"TERM\")");
            spec.signal = *f.signal("signal");
        }
        out.push_back(spec);
    }
    std::stable_sort(out.begin(), out.end(), [](const FaultSpec& a, const FaultSpec& b) { return a.at < b.at; });
}

void read_expect(Table& t, const Scenario& s, ExpectSpec& e) {
    if (auto v = t.integer("dropped_inflight", 0, INT64_MAX)) e.dropped_inflight = uint64_t(*v);
    if (auto v = t.integer("exit_code", 0, 255)) e.exit_code = int(*v);
    e.exit_within = t.duration("exit_within", false);
    e.max_error_rate = t.number("max_error_rate", 0, false, 1);
    if (auto v = t.string("refused_after_close")) {
        if (*v != "clean" && *v != "any")
            t.fail(*t.get("refused_after_close"), "refused_after_close", "expected \"clean\" or \"any\", got \"" + *v + "\"");
        e.refused_after_close_clean = *v == "clean";
    }
    e.ready_fails_during_drain = t.boolean("ready_fails_during_drain");

    bool has_stop = std::any_of(s.faults.begin(), s.faults.end(), [&](const FaultSpec& f) {
        return f.action == "signal" && (f.signal == 15 || f.signal == 2 || f.signal == 3 || f.signal == 9 ||
                                        f.signal == s.target.stop_signal);
    });
    for (const char* key : {"exit_within", "refused_after_close", "ready_fails_during_drain"}) {
        bool used = std::string(key) == "exit_within" ? e.exit_within.has_value()
                    : std::string(key) == "refused_after_close" ? e.refused_after_close_clean
                                                                 : e.ready_fails_during_drain.has_value();
        if (used && !has_stop)
            t.fail(*t.get(key), key, "needs a [[faults]] entry that sends a stop signal (TERM, INT, QUIT or KILL)");
    }
}

Scenario parse_table(const toml::table& root, const std::string& file) {
    Scenario s;
    s.source_path = file;
    fs::path path(file);
    fs::path dir = fs::absolute(path).parent_path();
    Table top(file, root, "", {"name", "description", "target", "load", "faults", "expect"});
    s.name = top.string("name").value_or(path.stem().string());
    s.description = top.string("description").value_or("");
    top.require("target", "table [target]");
    top.require("load", "table [load]");
    const toml::table* target = top.table("target");
    const toml::table* load = top.table("load");
    Table t(file, *target, "target",
            {"command", "cwd", "env", "host", "port", "allow_remote", "ready", "stop_signal", "kill_after"});
    read_target(t, dir, s.target);
    Table l(file, *load, "load",
            {"mode", "rate", "connections", "max_connections", "duration", "method", "path", "headers", "body",
             "keep_alive", "timeout", "threads", "max_requests", "after_exit", "closed_idle_window", "seed", "mix"});
    read_load(l, s.load);
    if (const toml::array* faults = top.array("faults")) read_faults(file, *faults, s.load, s.faults);
    if (const toml::table* expect = top.table("expect")) {
        Table e(file, *expect, "expect",
                {"dropped_inflight", "exit_code", "exit_within", "max_error_rate", "refused_after_close",
                 "ready_fails_during_drain"});
        read_expect(e, s, s.expect);
    }
    return s;
}

}  // namespace

Scenario parse_scenario_text(std::string_view text, const std::string& source_name) {
    toml::table root;
    try {
        root = toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        const auto& src = e.source().begin;
        throw ScenarioError(source_name, int(src.line), int(src.column), "invalid TOML: " + std::string(e.description()));
    }
    return parse_table(root, source_name);
}

Scenario parse_scenario_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in || fs::is_directory(path))
        throw ScenarioError(path, 0, 0, std::string("cannot read scenario file: ") +
                                             (fs::is_directory(path) ? "it is a directory" : std::strerror(errno)));
    std::stringstream text;
    text << in.rdbuf();
    return parse_scenario_text(text.str(), path);
}

}  // namespace draincheck
