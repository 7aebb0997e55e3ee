#include "fleet/builtin_balancer.h"

namespace draincheck {

struct BuiltinBalancer::Impl {};

BuiltinBalancer::BuiltinBalancer(boost::asio::io_context&, const RunClock&, BalancerOptions, HealthCallback) {}
BuiltinBalancer::~BuiltinBalancer() = default;
void BuiltinBalancer::start() { throw BalancerError("not implemented yet"); }
uint16_t BuiltinBalancer::port() const { return 0; }
void BuiltinBalancer::add_replica(int, uint16_t) {}
void BuiltinBalancer::remove_replica(int) {}
void BuiltinBalancer::stop() {}
std::vector<BackendAttempt> BuiltinBalancer::take_attempts() { return {}; }
std::string_view BuiltinBalancer::name() const { return "stub"; }

}  // namespace draincheck
