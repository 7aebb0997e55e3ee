#include "fleet/builtin_balancer.h"

#include "fleet/builtin_core.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <fmt/core.h>

#include <mutex>
#include <optional>
#include <thread>

namespace draincheck {

namespace asio = boost::asio;

struct BuiltinBalancer::Impl {
    Impl(asio::io_context& io, const RunClock& clock, BalancerOptions options, HealthCallback on_health)
        : core(io, clock, std::move(options), std::move(on_health)) {}

    BuiltinCore core;
    std::mutex control;   // start and stop
    enum class State { idle, running, stopped } state = State::idle;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
};

BuiltinBalancer::BuiltinBalancer(asio::io_context& io, const RunClock& clock, BalancerOptions options,
                                 HealthCallback on_health)
    : impl_(std::make_unique<Impl>(io, clock, std::move(options), std::move(on_health))) {}

BuiltinBalancer::~BuiltinBalancer() { stop(); }

void BuiltinBalancer::start() {
    std::lock_guard lock(impl_->control);
    if (impl_->state != Impl::State::idle) return;
    impl_->core.listen();
    impl_->work.emplace(impl_->core.io.get_executor());
    impl_->core.start_accepting();
    impl_->thread = std::thread([core = &impl_->core] {
        for (;;) {
            try {
                core->io.run();
                return;
            } catch (const std::exception& e) {
                fmt::print(stderr, "builtin balancer: {}\n", e.what());
            }
        }
    });
    impl_->state = Impl::State::running;
}

// Written before the thread starts (start() holds no lock against port(), but the caller asks after
// start() returned).
uint16_t BuiltinBalancer::port() const { return impl_->core.port; }

// Both run on the balancer's thread, like everything that touches the replicas. Before start()
// they wait in the queue and run first thing.
void BuiltinBalancer::add_replica(int replica, uint16_t port) {
    asio::post(impl_->core.io, [core = &impl_->core, replica, port] { core->add_replica(replica, port); });
}

void BuiltinBalancer::remove_replica(int replica) {
    asio::post(impl_->core.io, [core = &impl_->core, replica] { core->remove_replica(replica); });
}

void BuiltinBalancer::stop() {
    std::lock_guard lock(impl_->control);
    switch (impl_->state) {
        case Impl::State::stopped: return;
        case Impl::State::idle: impl_->core.close_everything(); break;
        case Impl::State::running:
            asio::post(impl_->core.io, [core = &impl_->core] { core->close_everything(); });
            // With every socket and timer closed, run() returns once their handlers have run.
            impl_->work.reset();
            impl_->thread.join();
            break;
    }
    impl_->state = Impl::State::stopped;
}

std::vector<BackendAttempt> BuiltinBalancer::take_attempts() { return impl_->core.take_attempts(); }

std::string_view BuiltinBalancer::name() const { return "builtin"; }

}  // namespace draincheck
