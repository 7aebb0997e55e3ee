#include "fleet/balancer.h"

#include "fleet/builtin_balancer.h"
#include "fleet/haproxy_balancer.h"

#include <algorithm>

namespace draincheck {

std::string_view backend_outcome_name(BackendOutcome o) {
    switch (o) {
        case BackendOutcome::ok: return "ok";
        case BackendOutcome::http_error: return "http_error";
        case BackendOutcome::refused: return "refused";
        case BackendOutcome::reset: return "reset";
        case BackendOutcome::timeout: return "timeout";
    }
    return "?";
}

void sort_by_start(std::vector<BackendAttempt>& attempts) {
    std::stable_sort(attempts.begin(), attempts.end(),
                     [](const BackendAttempt& a, const BackendAttempt& b) { return a.started_ns < b.started_ns; });
}

std::unique_ptr<Balancer> make_balancer(FleetSpec::Balancer kind, boost::asio::io_context& io, const RunClock& clock,
                                        BalancerOptions options, Balancer::HealthCallback on_health) {
    if (kind == FleetSpec::Balancer::haproxy)
        return std::make_unique<HaproxyBalancer>(io, clock, std::move(options), std::move(on_health));
    return std::make_unique<BuiltinBalancer>(io, clock, std::move(options), std::move(on_health));
}

BalancerOptions balancer_options(const std::string& host, uint16_t port, const FleetSpec::Health& health,
                                 Nanos client_timeout) {
    BalancerOptions o;
    o.host = host;
    o.port = port;
    o.health = health;
    o.backend_timeout = client_timeout + std::chrono::seconds(1);
    return o;
}

}  // namespace draincheck
