#pragma once
// A load balancer in front of the fleet's replicas: draincheck's own (builtin_balancer.h) or a real
// haproxy (haproxy_balancer.h). The fleet tells it which replicas exist and which are being taken
// out; the balancer health-checks them itself, as a production balancer does, and reports every
// change of a replica's health. It tags each response with the replica that served it, so the load
// generator's records say where every request went.
#include "common/run_clock.h"
#include "scenario/scenario.h"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace draincheck {

// Response headers the balancer adds for the load generator.
inline constexpr const char* kReplicaHeader = "X-Draincheck-Replica";   // decimal replica index
inline constexpr const char* kRetriedHeader = "X-Draincheck-Retried";   // attempts before this one, if any

// What a backend did with one forwarded request.
enum class BackendOutcome : uint8_t {
    ok,           // a complete response, status < 500
    http_error,   // a complete response, status >= 500
    refused,      // connect() refused (the replica's listener is closed)
    reset,        // the connection ended (EOF/RST) before a complete response
    timeout,      // no complete response within the backend timeout
};
std::string_view backend_outcome_name(BackendOutcome o);

// One attempt the balancer made to forward a client request to a replica.
struct BackendAttempt {
    int64_t started_ns = 0;     // run clock
    int64_t ended_ns = 0;
    uint64_t request = 0;       // the balancer's number for the client request; its attempts share it
    int replica = -1;
    uint16_t status = 0;        // the backend's HTTP status, 0 if none
    BackendOutcome outcome = BackendOutcome::ok;
    bool retry = false;         // a second or later attempt for the same client request
    bool reused = false;        // sent on a pooled keep-alive connection
};

// Attempts are logged in chunks of this many (a SpillLog): one chunk in memory, the rest on disk.
inline constexpr size_t kAttemptLogChunk = 4096;

// Orders attempts by start time, keeping the recorded order among equal starts.
void sort_by_start(std::vector<BackendAttempt>& attempts);

// A replica's health as the balancer's checks see it (after `fall` failures / `rise` successes).
struct HealthChange {
    int64_t at_ns = 0;
    int replica = -1;
    bool healthy = false;
    std::string detail;         // "200", "503", "connection refused", "timeout", ...
};

struct BalancerOptions {
    std::string host = "127.0.0.1";   // where it listens (loopback)
    uint16_t port = 0;                // 0 = ephemeral; port() tells which
    FleetSpec::Balance balance = FleetSpec::Balance::round_robin;
    FleetSpec::Health health;         // health.path empty = TCP connect check
    bool retry_idempotent = true;
    Nanos backend_timeout = std::chrono::seconds(30);   // no complete answer within this: 504
    std::string work_dir;             // for files a balancer needs (haproxy config, admin socket)
};

// Options for a balancer on host:port in front of instances checked with `health`, for clients that
// give up after `client_timeout`: the client's own timeout decides, the balancer gives up a little later.
BalancerOptions balancer_options(const std::string& host, uint16_t port, const FleetSpec::Health& health,
                                 Nanos client_timeout);

// The balancer could not be started (exit code 3, like any environment problem).
struct BalancerError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Balancer {
public:
    using HealthCallback = std::function<void(const HealthChange&)>;
    virtual ~Balancer() = default;

    // Starts listening and health checking. Throws BalancerError.
    virtual void start() = 0;
    virtual uint16_t port() const = 0;
    // A replica joins: it is health-checked and gets traffic once it has passed `rise` checks.
    virtual void add_replica(int replica, uint16_t port) = 0;
    // Takes a replica out of rotation: no new request goes to it; requests in flight on it finish.
    // Its health checks stop.
    virtual void remove_replica(int replica) = 0;
    // Stops listening, closes every connection and stops any process. Idempotent.
    virtual void stop() = 0;
    // After stop(): every backend attempt, sorted by start time.
    virtual std::vector<BackendAttempt> take_attempts() = 0;
    virtual std::string_view name() const = 0;   // "builtin", "haproxy"
};

// `on_health` is called on `io`'s thread. `clock` and `io` must outlive the balancer.
std::unique_ptr<Balancer> make_balancer(FleetSpec::Balancer kind, boost::asio::io_context& io, const RunClock& clock,
                                        BalancerOptions options, Balancer::HealthCallback on_health);

}  // namespace draincheck
