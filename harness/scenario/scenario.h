#pragma once
// The scenario as the user wrote it, after validation: plain data, no behaviour.
// Every field here maps to one documented TOML key (README, "Scenario reference").
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

using Nanos = std::chrono::nanoseconds;

struct ReadyProbe {
    enum class Kind { http, tcp };
    Kind kind = Kind::tcp;
    std::string http_path;                 // for Kind::http, e.g. "/healthz"
    Nanos timeout = std::chrono::seconds(10);   // give up waiting for readiness after this
    Nanos interval = std::chrono::milliseconds(50);
};

// `[target] image = "..."`: the target is that container image, run by Docker on the host's network
// (harness/runtimes/container).
struct ContainerSpec {
    std::string image;
    bool init = false;                       // docker run --init: an init process as PID 1
    std::vector<std::string> docker_args;    // more `docker run` options (checked: no other network, no -p)
};

struct TargetSpec {
    std::optional<ContainerSpec> container;  // set: run this image; `command`, if any, replaces its CMD
    std::vector<std::string> command;       // argv; "{port}" substituted at plan time
    std::string cwd;                         // empty = the scenario file's directory
    std::map<std::string, std::string> env;  // added to the inherited environment; "{port}" substituted
    bool env_clear = false;                  // start from an empty environment instead of draincheck's
    std::vector<std::string> mask_env;       // variables whose values never appear in output or reports
    std::string host = "127.0.0.1";          // where the target listens and load is sent
    std::optional<uint16_t> port;            // nullopt = pick a free ephemeral loopback port
    bool allow_remote = false;               // permit a non-loopback host
    ReadyProbe ready;
    int stop_signal = 15;                    // SIGTERM; used when the harness itself stops the target
    bool stop_signal_given = false;          // false: the default (an image's STOPSIGNAL, else TERM)
    Nanos kill_after = std::chrono::seconds(10);  // grace after a stop signal before SIGKILL to the group
};

struct RequestTemplate {
    std::string method = "GET";
    std::string path = "/";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    double weight = 1.0;                     // relative share in [[load.mix]]
};

struct LoadSpec {
    enum class Mode { rate, connections };
    Mode mode = Mode::rate;
    double rate = 200;                       // requests per second (Mode::rate)
    unsigned connections = 16;               // concurrent keep-alive connections (Mode::connections)
    unsigned max_connections = 1024;         // rate mode: cap on open connections; requests beyond it queue
    Nanos duration = std::chrono::seconds(10);
    RequestTemplate request;                 // method, path, headers, body from [load]
    std::vector<RequestTemplate> mix;        // [[load.mix]]; if empty, `request` is the only template
    bool keep_alive = true;
    Nanos timeout = std::chrono::seconds(10);    // per request, from the moment it was started
    unsigned threads = 0;                    // io threads; 0 = automatic
    uint64_t max_requests = 0;               // hard cap on requests; 0 = automatic bound
    Nanos after_exit = std::chrono::milliseconds(250);  // keep firing this long after the target exited
    Nanos closed_idle_window = std::chrono::milliseconds(1);  // see README, outcome `closed_idle`
    uint64_t seed = 1;                       // for the weighted mix choice

    // The request a record's template_index refers to.
    const RequestTemplate& template_at(size_t index) const {
        return mix.empty() ? request : mix[index < mix.size() ? index : mix.size() - 1];
    }
};

// A dependency the target uses (a database, a cache, a queue): started before the target, stopped
// after it, and reached only through draincheck's fault proxy.
struct DependencySpec {
    std::string name;                        // how faults refer to it
    std::optional<ContainerSpec> container;  // set: run this image (host network); `command` replaces its CMD
    std::vector<std::string> command;       // argv; "{port}" = the port the dependency listens on
    std::string cwd;                         // empty = the scenario file's directory
    struct Ready {
        enum class Kind { tcp, command };
        Kind kind = Kind::tcp;
        std::vector<std::string> command;    // Kind::command: ready once it exits 0; "{port}" substituted
        Nanos timeout = std::chrono::seconds(10);
        Nanos interval = std::chrono::milliseconds(50);
    } ready;
    // Added to the target's environment: "{port}" = the proxy port the target must use,
    // "{proxy_port}" the same, "{direct_port}" = the dependency itself (bypasses every fault).
    std::map<std::string, std::string> env;
    int stop_signal = 15;                    // how draincheck stops it at the end of the run
    Nanos kill_after = std::chrono::seconds(5);
    int line = 0;
    int column = 0;
};

// Replicas of the target behind a load balancer ([fleet]). Each replica is the [target] command with
// its own "{port}" and "{replica}" (its index, from 0; replicas started later get the next index).
struct FleetSpec {
    enum class Balancer { builtin, haproxy };
    enum class Balance { round_robin, least_conn };
    unsigned replicas = 3;
    Balancer lb = Balancer::builtin;
    Balance balance = Balance::round_robin;
    std::optional<uint16_t> port;            // where the load balancer listens; nullopt = ephemeral
    struct Health {
        std::string path;                    // HTTP GET expecting 2xx; empty = [target] ready's path, or TCP
        Nanos interval = std::chrono::milliseconds(100);
        Nanos timeout = std::chrono::milliseconds(500);
        unsigned fall = 2;                   // consecutive failures that take a replica out
        unsigned rise = 1;                   // consecutive successes that put it (back) in
    } health;
    // Between taking a replica out of the load balancer and sending it the stop signal. 0 reproduces
    // the Kubernetes race: endpoint removal and SIGTERM at once, traffic still arriving.
    Nanos deregistration_delay = std::chrono::seconds(1);
    bool retry_idempotent = true;            // retry GET/HEAD/PUT/DELETE/OPTIONS on another replica
                                             // when a backend refuses or drops before answering
    // The statelessness probe: create state through one replica, read it through every other one.
    struct StateProbe {
        std::string create_method = "POST";
        std::string create_path = "/session";
        std::string read_path = "/session/{id}";   // "{id}" = the create response's body, trimmed
    } state_probe;
    int line = 0;
    int column = 0;
};

// A real platform deploys the target's instances and stops them ([platform]); draincheck drives it
// with the platform's own commands (harness/platforms/) and judges what the clients saw. Each
// setting is the platform's own word for it.
struct PlatformSpec {
    enum class Kind { pm2, swarm };
    Kind kind = Kind::pm2;
    // PM2: `instances` workers of the [target] command, in cluster mode sharing one port.
    enum class ExecMode { cluster, fork };
    unsigned instances = 2;
    ExecMode exec_mode = ExecMode::cluster;
    std::optional<Nanos> kill_timeout;       // PM2's default: 1600 ms from the kill signal to SIGKILL
    std::optional<Nanos> listen_timeout;     // PM2's default: 3000 ms for a new worker to listen
    bool wait_ready = false;                 // a new worker is up once it sends process.send("ready")
    // Docker Swarm: a service of `replicas` tasks of the [target] image, one loopback port each.
    unsigned replicas = 2;
    unsigned update_parallelism = 1;
    Nanos update_delay{0};
    enum class UpdateOrder { stop_first, start_first };
    UpdateOrder update_order = UpdateOrder::stop_first;
    std::optional<Nanos> stop_grace_period;  // Docker's default: 10 s
    // Swarm's load goes through draincheck's balancer, which follows the tasks (no routing mesh here).
    FleetSpec::Balancer lb = FleetSpec::Balancer::builtin;
    FleetSpec::Health health;
    int line = 0;
    int column = 0;
};

std::string_view platform_name(PlatformSpec::Kind kind);   // "pm2", "swarm"

// A Toxiproxy-style disturbance on the proxy between the target and a dependency.
struct ToxicSpec {
    enum class Kind { latency, bandwidth, blackhole, reset_peer, slow_close, limit_data };
    // downstream = dependency -> target (answers), upstream = target -> dependency (commands).
    enum class Direction { downstream, upstream, both };
    Kind kind = Kind::latency;
    Direction direction = Direction::downstream;
    Nanos latency{0};                        // latency: added to every chunk
    Nanos jitter{0};                         // latency: +- uniformly at random
    uint64_t rate = 0;                       // bandwidth: bytes per second
    Nanos timeout{0};                        // reset_peer: connection age at which it is reset
    Nanos delay{0};                          // slow_close: how long a close is held back
    uint64_t bytes = 0;                      // limit_data: bytes a connection may carry, then closed
};

struct FaultSpec {
    Nanos at{0};                             // from the moment load started
    std::string action;                      // registry name, e.g. "signal"
    int signal = 15;                         // for action = "signal"
    std::string dependency;                  // for the *_dependency actions and "toxic"
    std::optional<ToxicSpec> toxic;          // for action = "toxic"
    std::optional<Nanos> until;              // "toxic": removed at this time (from load start)
    // Fleet actions: scale_down, scale_up, rolling_restart, kill_replica.
    unsigned count = 1;                      // scale_down, scale_up, kill_replica: how many replicas
    enum class Pick { oldest, newest, random };
    Pick pick = Pick::oldest;                // scale_down, kill_replica: which ones
    uint64_t seed = 1;                       // pick = "random"
    unsigned max_surge = 1;                  // rolling_restart: extra replicas while replacing
    unsigned max_unavailable = 0;            // rolling_restart: replicas that may be missing
    // action = "platform": the platform's own command ("reload", "restart", "scale", "update");
    // `count` is the absolute instance count for "scale", as `pm2 scale` and `docker service scale` take it.
    std::string operation;
    // Where the fault was declared, for error messages raised after parsing.
    int line = 0;
    int column = 0;
};

struct ExpectSpec {
    std::optional<uint64_t> dropped_inflight;    // max dropped (+truncated) requests
    std::optional<int> exit_code;                // expected exit status (signal exits never match)
    std::optional<Nanos> exit_within;            // from the stop signal to exit
    std::optional<double> max_error_rate;        // fraction in [0,1] of non-ok requests before the fault
    bool refused_after_close_clean = false;      // refused_after_close = "clean"
    std::optional<bool> ready_fails_during_drain;
    // Every connection the target opened to a dependency was closed before the target exited.
    std::optional<bool> dependency_closed_before_exit;
    // While a dependency is down (killed or frozen) and after it returns.
    struct DependencyDown {
        std::optional<Nanos> max_latency;    // every request answered within this, error or not
        std::optional<bool> ready_fails;     // the target's ready probe fails during the outage
        std::optional<Nanos> recovers_within;  // from the dependency's return to requests succeeding
    };
    std::optional<DependencyDown> dependency_down;
    // Fleet ([fleet]): exit_code and exit_within above apply to every replica a fault stopped.
    std::optional<uint64_t> client_errors;       // requests the client saw fail, whole run
    std::optional<Nanos> capacity_restored_within;   // after scale_up / rolling_restart: all healthy
    std::optional<Nanos> max_p99_during_fault;   // p99 latency from the first fleet fault to the end of the last
    std::optional<bool> stateless;               // state created via one replica reads back via every other
};

struct Scenario {
    std::string name;                        // top-level `name`, default: file stem
    std::string description;                 // top-level `description`
    std::string source_path;                 // the file it was read from
    TargetSpec target;
    LoadSpec load;
    std::vector<DependencySpec> dependencies;   // [[dependencies]], in declaration order
    std::optional<FleetSpec> fleet;          // [fleet]: replicas behind a load balancer
    std::optional<PlatformSpec> platform;    // [platform]: a real platform runs the instances (not with [fleet])
    std::vector<FaultSpec> faults;           // sorted by `at`
    ExpectSpec expect;
};

// Whether the scenario runs several instances ([fleet] or [platform]) rather than one target.
inline bool has_instances(const Scenario& s) { return s.fleet.has_value() || s.platform.has_value(); }

}  // namespace draincheck
