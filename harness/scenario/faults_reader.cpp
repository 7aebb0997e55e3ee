#include "scenario/scenario_parser.h"
#include "scenario/section_readers.h"

#include "common/duration.h"

#include <fmt/format.h>

#include <algorithm>

namespace draincheck {
namespace {

// Each action and the keys it takes besides `at` and `action`.
struct ActionKeys {
    std::string_view action;
    std::vector<std::string_view> keys;
};

const std::vector<std::string_view> kToxicKeys = {"dependency", "toxic", "direction", "latency", "jitter", "rate",
                                                  "timeout", "delay", "bytes", "until"};

const std::vector<ActionKeys>& action_keys() {
    static const std::vector<ActionKeys> actions = {
        {"signal", {"signal"}},
        {"kill_dependency", {"dependency"}},
        {"stop_dependency", {"dependency"}},
        {"cont_dependency", {"dependency"}},
        {"restart_dependency", {"dependency"}},
        {"toxic", kToxicKeys},
    };
    return actions;
}

struct ToxicKind {
    std::string_view name;
    ToxicSpec::Kind kind;
    std::vector<std::string_view> required;
    std::vector<std::string_view> optional;
};

const std::vector<ToxicKind>& toxic_kinds() {
    static const std::vector<ToxicKind> kinds = {
        {"latency", ToxicSpec::Kind::latency, {"latency"}, {"jitter"}},
        {"bandwidth", ToxicSpec::Kind::bandwidth, {"rate"}, {}},
        {"blackhole", ToxicSpec::Kind::blackhole, {}, {}},
        {"reset_peer", ToxicSpec::Kind::reset_peer, {}, {"timeout"}},
        {"slow_close", ToxicSpec::Kind::slow_close, {"delay"}, {}},
        {"limit_data", ToxicSpec::Kind::limit_data, {"bytes"}, {}},
    };
    return kinds;
}

std::string names_of(const std::vector<DependencySpec>& dependencies) {
    std::vector<std::string_view> names;
    for (const auto& d : dependencies) names.push_back(d.name);
    return names.empty() ? "none are declared; add a [[dependencies]] entry" : "known: " + fmt::format("{}", fmt::join(names, ", "));
}

void read_dependency_name(const TableReader& f, const std::vector<DependencySpec>& dependencies, FaultSpec& fault) {
    f.require("dependency", "string (the name of a [[dependencies]] entry)");
    fault.dependency = *f.string("dependency");
    bool known = std::any_of(dependencies.begin(), dependencies.end(),
                             [&](const DependencySpec& d) { return d.name == fault.dependency; });
    if (!known) f.fail("dependency", fmt::format("unknown dependency \"{}\"; {}", fault.dependency, names_of(dependencies)));
}

ToxicSpec read_toxic(const TableReader& f) {
    std::vector<std::string_view> kind_names;
    for (const auto& k : toxic_kinds()) kind_names.push_back(k.name);
    f.require("toxic", fmt::format("string (one of: {})", fmt::join(kind_names, ", ")));
    std::string name = *f.string("toxic");
    auto kind = std::find_if(toxic_kinds().begin(), toxic_kinds().end(), [&](const ToxicKind& k) { return k.name == name; });
    if (kind == toxic_kinds().end())
        f.fail("toxic", fmt::format("unknown toxic \"{}\"; known toxics: {}", name, fmt::join(kind_names, ", ")));
    for (std::string_view key : {"latency", "jitter", "rate", "timeout", "delay", "bytes"}) {
        bool used = std::count(kind->required.begin(), kind->required.end(), key) +
                    std::count(kind->optional.begin(), kind->optional.end(), key);
        if (f.get(key) && !used) f.fail(key, fmt::format("not used by toxic \"{}\"", name));
    }
    for (std::string_view key : kind->required)
        f.require(key, fmt::format("value for toxic \"{}\"", name));

    ToxicSpec t;
    t.kind = kind->kind;
    if (auto d = f.string("direction")) {
        if (*d == "downstream") t.direction = ToxicSpec::Direction::downstream;
        else if (*d == "upstream") t.direction = ToxicSpec::Direction::upstream;
        else if (*d == "both") t.direction = ToxicSpec::Direction::both;
        else f.fail("direction", "expected \"downstream\" (dependency to target), \"upstream\" or \"both\", got \"" + *d + "\"");
    }
    if (auto v = f.duration("latency", true)) t.latency = *v;
    if (auto v = f.duration("jitter", true)) t.jitter = *v;
    if (t.jitter > t.latency)
        f.fail("jitter", "expected a jitter no larger than the latency (" + format_duration(t.latency) + "), got " +
                             format_duration(t.jitter));
    if (auto v = f.integer("rate", 1, 10'000'000)) t.rate = uint64_t(*v) * 1000;   // KB/s, as Toxiproxy counts
    if (auto v = f.duration("timeout", true)) t.timeout = *v;
    if (auto v = f.duration("delay", false)) t.delay = *v;
    if (auto v = f.integer("bytes", 0)) t.bytes = uint64_t(*v);
    return t;
}

}  // namespace

std::vector<std::string_view> fault_action_names() {
    std::vector<std::string_view> names;
    for (const auto& a : action_keys()) names.push_back(a.action);
    return names;
}

void read_faults(const TableReader& top, const LoadSpec& load, const std::vector<DependencySpec>& dependencies,
                 std::vector<FaultSpec>& faults) {
    std::vector<std::string_view> all_keys = {"at", "action", "signal"};
    all_keys.insert(all_keys.end(), kToxicKeys.begin(), kToxicKeys.end());
    const auto actions = fault_action_names();
    for (const toml::table* table : top.array_of_tables("faults")) {
        TableReader f(top.file(), *table, fmt::format("faults[{}]", faults.size()), all_keys);
        FaultSpec fault;
        fault.line = int(table->source().begin.line);
        fault.column = int(table->source().begin.column);
        f.require("at", "duration (when the fault fires, from the start of load, e.g. \"3s\")");
        fault.at = *f.duration("at", true);
        if (fault.at >= load.duration)
            f.fail("at", format_duration(fault.at) + " is not within load.duration (" + format_duration(load.duration) + ")");
        f.require("action", fmt::format("string (one of: {})", fmt::join(actions, ", ")));
        fault.action = *f.string("action");
        auto action = std::find_if(action_keys().begin(), action_keys().end(),
                                   [&](const ActionKeys& a) { return a.action == fault.action; });
        if (action == action_keys().end())
            f.fail("action", fmt::format("unknown action \"{}\"; known actions: {}", fault.action, fmt::join(actions, ", ")));
        for (std::string_view key : all_keys) {
            bool used = key == "at" || key == "action" || std::count(action->keys.begin(), action->keys.end(), key);
            if (f.get(key) && !used) f.fail(key, fmt::format("not used by action \"{}\"", fault.action));
        }
        if (fault.action == "signal") {
            f.require("signal", "signal name (e.g. \"TERM\")");
            fault.signal = *f.signal("signal");
        } else {
            read_dependency_name(f, dependencies, fault);
        }
        if (fault.action == "toxic") {
            fault.toxic = read_toxic(f);
            fault.until = f.duration("until", false);
            if (fault.until && *fault.until <= fault.at)
                f.fail("until", "expected a time after `at` (" + format_duration(fault.at) + "), got " + format_duration(*fault.until));
        }
        faults.push_back(std::move(fault));
    }
    std::stable_sort(faults.begin(), faults.end(), [](const FaultSpec& a, const FaultSpec& b) { return a.at < b.at; });
}

}  // namespace draincheck
