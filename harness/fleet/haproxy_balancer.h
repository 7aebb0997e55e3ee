#pragma once
// A Balancer: the real haproxy (Debian package haproxy), run as a supervised process from a generated loopback-only config and driven through its runtime API (admin socket).
#include "fleet/balancer.h"

#include <memory>

namespace draincheck {

class HaproxyBalancer : public Balancer {
public:
    HaproxyBalancer(boost::asio::io_context& io, const RunClock& clock, BalancerOptions options, HealthCallback on_health);
    ~HaproxyBalancer() override;

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
