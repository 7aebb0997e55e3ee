#include "fleet/haproxy_balancer.h"

namespace draincheck {

struct HaproxyBalancer::Impl {};

HaproxyBalancer::HaproxyBalancer(boost::asio::io_context&, const RunClock&, BalancerOptions, HealthCallback) {}
HaproxyBalancer::~HaproxyBalancer() = default;
void HaproxyBalancer::start() { throw BalancerError("not implemented yet"); }
uint16_t HaproxyBalancer::port() const { return 0; }
void HaproxyBalancer::add_replica(int, uint16_t) {}
void HaproxyBalancer::remove_replica(int) {}
void HaproxyBalancer::stop() {}
std::vector<BackendAttempt> HaproxyBalancer::take_attempts() { return {}; }
std::string_view HaproxyBalancer::name() const { return "stub"; }

}  // namespace draincheck
