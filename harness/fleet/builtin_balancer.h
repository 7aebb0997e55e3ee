#pragma once
// A Balancer: draincheck's own HTTP/1.1 reverse proxy (Asio/Beast) on its own thread: keep-alive connection pools to the replicas, active health checks, passive failure detection, retries of idempotent requests on another replica.
#include "fleet/balancer.h"

#include <memory>

namespace draincheck {

class BuiltinBalancer : public Balancer {
public:
    BuiltinBalancer(boost::asio::io_context& io, const RunClock& clock, BalancerOptions options, HealthCallback on_health);
    ~BuiltinBalancer() override;

    void start() override;
    uint16_t port() const override;
    void add_replica(int replica, uint16_t port) override;
    void remove_replica(int replica) override;
    void stop() override;
    std::vector<BackendAttempt> take_attempts() override;
    std::string_view name() const override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace draincheck
