#pragma once
// The text haproxy (2.6) works from, and the text it writes back: the generated configuration,
// the parameters of a server added at runtime, the request log line and the `show stat` table.
// Pure functions, so each can be checked without a running haproxy.
#include "fleet/balancer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

inline constexpr const char* kHaproxyFrontend = "draincheck";
inline constexpr const char* kHaproxyBackend = "replicas";
// Every request log line starts with this word; haproxy's other output (server state changes,
// warnings) does not.
inline constexpr std::string_view kHaproxyRequestTag = "dc-request";

// Where haproxy listens and where its admin socket is.
struct HaproxyConfigParams {
    std::string host = "127.0.0.1";
    uint16_t port = 0;
    std::string admin_socket;   // absolute path of the unix socket (runtime API, level admin)
};

// The whole configuration file: loopback listener, runtime API socket, keep-alive, timeouts,
// balance algorithm, health checks (HTTP GET on health.path, else TCP), retries, the replica
// (and retry) response headers and one raw log line per request on stdout. The backend starts
// empty: replicas are added at runtime (haproxy_server_params).
std::string haproxy_config(const BalancerOptions& options, const HaproxyConfigParams& params);

// The arguments of `add server <backend>/<name> 127.0.0.1:<port> ...` for a replica: health checks
// with the options' interval, fall, rise. Servers added at runtime take nothing from the backend's
// default-server line, so everything is spelled out.
std::string haproxy_server_params(const FleetSpec::Health& health);

// The server name of a replica, and back (nullopt for anything that is not a replica's name, such
// as "<NOSRV>").
std::string haproxy_server_name(int replica);
std::optional<int> haproxy_replica_of(std::string_view server_name);

// One request log line (see the log-format in haproxy_config).
struct HaproxyRequestLog {
    uint64_t request = 0;        // %rt, haproxy's request counter
    std::string server;          // %s, "<NOSRV>" when no server was chosen
    int retries = 0;             // %rc without the '+' haproxy prefixes when it redispatched
    bool redispatched = false;
    int status = -1;             // %ST, -1 when none
    int t_request = -1;          // %TR ms: receiving the request headers
    int t_queue = -1;            // %Tw ms: waiting in queues
    int t_connect = -1;          // %Tc ms: connecting to the server
    int t_response = -1;         // %Tr ms: waiting for the response headers
    int t_active = -1;           // %Ta ms: first request byte to last response byte
    std::string termination;     // %tsc, e.g. "----", "SC--", "sH--"
    int64_t logged_unix_us = 0;  // when the line was emitted (wall clock, microseconds)
};
std::optional<HaproxyRequestLog> parse_haproxy_request_log(std::string_view line);

// What the server did, from the log's status and termination state. `status` of the attempt is
// the server's own (0 when haproxy produced the response because the server gave none).
struct HaproxyAttemptResult {
    BackendOutcome outcome = BackendOutcome::ok;
    uint16_t status = 0;
};
HaproxyAttemptResult haproxy_attempt_result(const HaproxyRequestLog& log);

// One server row of `show stat` (CSV, columns found by the header line).
struct HaproxyServerStat {
    std::string backend;
    std::string server;
    std::string status;          // "UP", "UP 1/2", "DOWN", "DOWN 1/3", "MAINT", "no check", ...
    std::string check_status;    // "L7OK", "L7STS", "L4CON", "L4TOUT", ... ("* " prefix removed)
    std::string check_code;      // HTTP status of the last check, if any
    std::string check_desc;      // "Layer7 check passed", ...
    bool check_running = false;  // a check is in progress: check_code is 0 until it completes
    bool up() const;             // in rotation as far as health goes: UP (also going down), NOLB, DRAIN
    bool maintenance() const;
    std::string detail() const;  // short: "200", "503", "connection refused", "timeout", ...
};
std::vector<HaproxyServerStat> parse_haproxy_show_stat(std::string_view csv);

}  // namespace draincheck
