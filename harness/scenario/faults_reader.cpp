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
        {"stop", {}},
        {"kill_dependency", {"dependency"}},
        {"stop_dependency", {"dependency"}},
        {"cont_dependency", {"dependency"}},
        {"restart_dependency", {"dependency"}},
        {"toxic", kToxicKeys},
        {"scale_down", {"count", "pick", "seed"}},
        {"scale_up", {"count"}},
        {"rolling_restart", {"max_surge", "max_unavailable"}},
        {"kill_replica", {"count", "pick", "seed"}},
        {"platform", {"operation", "count"}},
    };
    return actions;
}

const std::vector<std::string_view> kFleetKeys = {"count", "pick", "seed", "max_surge", "max_unavailable", "operation"};

bool is_dependency_action(std::string_view action) {
    return action == "kill_dependency" || action == "stop_dependency" || action == "cont_dependency" ||
           action == "restart_dependency";
}

bool is_fleet_action(std::string_view action) {
    return action == "scale_down" || action == "scale_up" || action == "rolling_restart" || action == "kill_replica";
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

void read_fleet_fault(const TableReader& f, FaultSpec& fault) {
    if (auto v = f.integer("count", 1, kMaxReplicas)) fault.count = unsigned(*v);
    std::string pick = "oldest";
    if (auto v = f.string("pick")) {
        pick = *v;
        if (pick == "oldest") fault.pick = FaultSpec::Pick::oldest;
        else if (pick == "newest") fault.pick = FaultSpec::Pick::newest;
        else if (pick == "random") fault.pick = FaultSpec::Pick::random;
        else f.fail("pick", "expected \"oldest\", \"newest\" or \"random\", got \"" + pick + "\"");
    }
    if (auto v = f.integer("seed", 0)) {
        if (fault.pick != FaultSpec::Pick::random)
            f.fail("seed", fmt::format("not used by pick \"{}\" (only by pick = \"random\")", pick));
        fault.seed = uint64_t(*v);
    }
    if (auto v = f.integer("max_surge", 0, kMaxReplicas)) fault.max_surge = unsigned(*v);
    if (auto v = f.integer("max_unavailable", 0, kMaxReplicas)) fault.max_unavailable = unsigned(*v);
    if (fault.action == "rolling_restart" && fault.max_surge == 0 && fault.max_unavailable == 0)
        f.fail("max_surge", "rolling_restart can never make progress: max_surge and max_unavailable are both 0 "
                            "(set one of them to at least 1)");
}

// The operations each platform runs with its own command.
std::vector<std::string_view> platform_operations(PlatformSpec::Kind kind) {
    if (kind == PlatformSpec::Kind::pm2) return {"reload", "restart", "scale"};   // pm2 reload|restart|scale
    return {"update", "scale"};   // docker service update --force | docker service scale
}

void read_platform_fault(const TableReader& f, const PlatformSpec& platform, FaultSpec& fault) {
    auto known = platform_operations(platform.kind);
    f.require("operation", fmt::format("string (for kind = \"{}\": {})", platform_name(platform.kind), fmt::join(known, ", ")));
    fault.operation = *f.string("operation");
    if (std::find(known.begin(), known.end(), fault.operation) == known.end())
        f.fail("operation", fmt::format("\"{}\" is not an operation of kind = \"{}\"; expected one of: {}", fault.operation,
                                        platform_name(platform.kind), fmt::join(known, ", ")));
    if (fault.operation == "scale") {
        f.require("count", "integer (the instance count after scaling, as the platform's scale command takes it)");
        fault.count = unsigned(*f.integer("count", 1, 32));
    } else if (f.get("count")) {
        f.fail("count", fmt::format("not used by operation \"{}\" (only by \"scale\")", fault.operation));
    }
}

std::string running_then(unsigned running) {
    if (running == 0) return "no replica is running then";
    return fmt::format("only {} replica{} running then", running, running == 1 ? " is" : "s are");
}

struct ReadFault {
    FaultSpec spec;
    const toml::table* table;
    size_t index;   // in file order, as messages number the entries
};

// Walks the fleet actions in time order, counting the replicas that run: a scale_down or kill_replica
// cannot take more than there are, a rolling_restart needs some, and a scale_up stays within the limit.
void check_replica_counts(const TableReader& top, const std::vector<std::string_view>& keys,
                          const std::vector<ReadFault>& faults, const FleetSpec& fleet) {
    int64_t running = fleet.replicas;
    for (const ReadFault& r : faults) {
        const FaultSpec& fault = r.spec;
        if (!is_fleet_action(fault.action)) continue;
        TableReader f(top.file(), *r.table, fmt::format("faults[{}]", r.index), keys);
        std::string at = format_duration(fault.at);
        if (fault.action == "scale_up") {
            running += fault.count;
            if (running > kMaxReplicas)
                f.fail("count", fmt::format("scale_up of {} at {}: {} replicas would be running then, more than the {} "
                                            "a fleet may have", fault.count, at, running, kMaxReplicas));
        } else if (fault.action == "rolling_restart") {
            if (running == 0) f.fail("action", fmt::format("rolling_restart at {}: {}", at, running_then(0)));
        } else {
            if (fault.count > running)
                f.fail("count", fmt::format("{} of {} at {}: {}", fault.action, fault.count, at, running_then(unsigned(running))));
            running -= fault.count;
        }
    }
}

}  // namespace

std::vector<std::string_view> fault_action_names() {
    std::vector<std::string_view> names;
    for (const auto& a : action_keys()) names.push_back(a.action);
    return names;
}

void read_faults(const TableReader& top, const LoadSpec& load, const std::vector<DependencySpec>& dependencies,
                 const std::optional<FleetSpec>& fleet, const std::optional<PlatformSpec>& platform,
                 std::vector<FaultSpec>& faults) {
    std::vector<std::string_view> all_keys = {"at", "action", "signal"};
    all_keys.insert(all_keys.end(), kToxicKeys.begin(), kToxicKeys.end());
    all_keys.insert(all_keys.end(), kFleetKeys.begin(), kFleetKeys.end());
    const auto actions = fault_action_names();
    std::vector<ReadFault> read;
    for (const toml::table* table : top.array_of_tables("faults")) {
        TableReader f(top.file(), *table, fmt::format("faults[{}]", read.size()), all_keys);
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
        if (platform && fault.action != "platform" && fault.action != "toxic" && !is_dependency_action(fault.action))
            f.fail("action", fmt::format("\"{}\" is not run on a [platform]: the platform starts and stops the instances; "
                                         "use action = \"platform\" with its own operation", fault.action));
        if (fault.action == "platform") {
            if (!platform)
                f.fail("action", "\"platform\" needs a [platform] section (kind = \"pm2\" or \"swarm\")");
            read_platform_fault(f, *platform, fault);
        } else if (fault.action == "signal") {
            // Which replica would it go to? The fleet actions say it: a graceful stop or a crash.
            if (fleet)
                f.fail("action", "\"signal\" has no single process to go to in a [fleet] (which replica?); use "
                                 "\"scale_down\" (the target's stop_signal, after the replica left the load balancer) "
                                 "or \"kill_replica\" (SIGKILL, a crash)");
            f.require("signal", "signal name (e.g. \"TERM\")");
            fault.signal = *f.signal("signal");
        } else if (fault.action == "stop") {
            if (fleet)
                f.fail("action", "\"stop\" has no single target to stop in a [fleet]; use \"scale_down\" or \"rolling_restart\"");
        } else if (is_fleet_action(fault.action)) {
            if (!fleet)
                f.fail("action", fmt::format("\"{}\" needs a [fleet] section (the target's replicas behind a load "
                                             "balancer)", fault.action));
            read_fleet_fault(f, fault);
        } else {
            read_dependency_name(f, dependencies, fault);
        }
        if (fault.action == "toxic") {
            fault.toxic = read_toxic(f);
            fault.until = f.duration("until", false);
            if (fault.until && *fault.until <= fault.at)
                f.fail("until", "expected a time after `at` (" + format_duration(fault.at) + "), got " + format_duration(*fault.until));
        }
        read.push_back({std::move(fault), table, read.size()});
    }
    std::stable_sort(read.begin(), read.end(), [](const ReadFault& a, const ReadFault& b) { return a.spec.at < b.spec.at; });
    if (fleet) check_replica_counts(top, all_keys, read, *fleet);
    for (ReadFault& r : read) faults.push_back(std::move(r.spec));
}

}  // namespace draincheck
