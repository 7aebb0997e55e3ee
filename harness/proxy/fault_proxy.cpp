#include "proxy/fault_proxy.h"

#include "proxy/connection_log.h"
#include "proxy/relay_connection.h"
#include "proxy/socket_owner.h"
#include "proxy/toxics/toxic.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/core.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <system_error>
#include <thread>

namespace draincheck {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

[[noreturn]] void fail(const boost::system::error_code& ec, const std::string& what) {
    throw std::system_error(std::error_code(ec.value(), std::system_category()), what);
}

std::vector<tcp::endpoint> resolve(asio::io_context& io, const std::string& host, uint16_t port) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) return {tcp::endpoint(address, port)};
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec) fail(ec, fmt::format("fault proxy: cannot resolve {}", host));
    std::vector<tcp::endpoint> endpoints;
    for (const auto& r : results) endpoints.push_back(r.endpoint());
    return endpoints;
}

}  // namespace

struct FaultProxy::Impl {
    Impl(const RunClock& clock, Options options);

    // Runs f on the proxy thread and waits for it; inline when that thread is not running.
    template <typename F>
    void on_proxy_thread(F&& f);

    void accept();
    void on_accepted(tcp::socket socket);
    void find_owner(const std::shared_ptr<RelayConnection>& connection, const tcp::endpoint& local,
                    const tcp::endpoint& peer, int attempt);
    void close_everything();
    std::vector<std::shared_ptr<RelayConnection>> open_connections() const;

    RunClock clock;
    Options options;
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    asio::steady_timer accept_retry{io};
    std::vector<tcp::endpoint> upstream;
    uint16_t port = 0;

    std::mutex control;   // start, stop and the calls that run on the proxy thread
    enum class State { idle, running, stopped } state = State::idle;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;

    std::atomic<int> owner_group;
    std::atomic<uint64_t> next_toxic_id{1};
    ConnectionLog log;

    // Proxy thread only.
    std::mt19937_64 rng;
    std::map<uint64_t, std::shared_ptr<RelayConnection>> open;
    std::vector<std::pair<uint64_t, ToxicSpec>> toxic_specs;
};

FaultProxy::Impl::Impl(const RunClock& clock, Options options_in)
    : clock(clock), options(std::move(options_in)), owner_group(options.owner_group), rng(options.seed) {
    upstream = resolve(io, options.upstream_host, options.upstream_port);
    boost::system::error_code ec;
    const auto listen_address = asio::ip::make_address(options.listen_host, ec);
    if (ec) fail(ec, fmt::format("fault proxy: bad listen address {}", options.listen_host));
    const tcp::endpoint listen_at(listen_address, options.listen_port);
    const std::string where = fmt::format("fault proxy: listen on {}:{}", options.listen_host, options.listen_port);
    acceptor.open(listen_at.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(listen_at, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail(ec, where);
    port = acceptor.local_endpoint(ec).port();
}

template <typename F>
void FaultProxy::Impl::on_proxy_thread(F&& f) {
    if (io.get_executor().running_in_this_thread()) {
        f();
        return;
    }
    std::lock_guard lock(control);
    if (state != State::running) {
        f();   // no proxy thread to race with
        return;
    }
    std::promise<void> done;
    asio::post(io, [&] {
        f();
        done.set_value();
    });
    done.get_future().wait();
}

void FaultProxy::Impl::accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (!acceptor.is_open()) return;
        if (ec) {
            // Out of descriptors and the like: try again shortly rather than spin.
            accept_retry.expires_after(std::chrono::milliseconds(10));
            accept_retry.async_wait([this](const boost::system::error_code& ec) {
                if (!ec) accept();
            });
            return;
        }
        on_accepted(std::move(socket));
        accept();
    });
}

void FaultProxy::Impl::on_accepted(tcp::socket socket) {
    const auto opened_at = SteadyClock::now();
    boost::system::error_code local_ec, peer_ec;
    tcp::endpoint local = socket.local_endpoint(local_ec);
    tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    const uint64_t id = log.open(clock.to_ns(opened_at), peer_ec ? 0 : peer.port(), local_ec ? 0 : local.port());
    RelayConnection::Context context{clock, &log, [this](uint64_t id) { open.erase(id); }};
    auto connection = std::make_shared<RelayConnection>(std::move(context), id, std::move(socket), opened_at);
    for (const auto& [toxic_id, spec] : toxic_specs) {
        connection->attach(toxic_id, toxics::make_link(spec, {opened_at, opened_at, &rng}));
    }
    open.emplace(id, connection);
    connection->connect(upstream);
    // While the upstream connect is under way: the lookup reads /proc and takes a while.
    if (options.find_owners && !local_ec && !peer_ec) find_owner(connection, local, peer, 0);
}

// The target may connect before its process group is known here (it is set just after the spawn):
// then look again shortly, while the connection is still open.
void FaultProxy::Impl::find_owner(const std::shared_ptr<RelayConnection>& connection, const tcp::endpoint& local,
                                  const tcp::endpoint& peer, int attempt) {
    constexpr int kAttempts = 500;
    constexpr auto kRetry = std::chrono::milliseconds(2);
    if (const int group = owner_group.load(); group != 0) {
        if (auto owner = find_peer_owner(local, peer, group)) {
            connection->set_owner_pid(owner->pid);
            log.set_owner(connection->id(), owner->pid, std::move(owner->name));
        } else {
            connection->set_owner_pid(group);   // unknown: judge by the target's main process
        }
        return;
    }
    if (attempt >= kAttempts) return;
    auto timer = std::make_shared<asio::steady_timer>(io, kRetry);
    timer->async_wait([this, timer, weak = std::weak_ptr(connection), local, peer, attempt](const boost::system::error_code& ec) {
        auto connection = weak.lock();
        if (!ec && connection) find_owner(connection, local, peer, attempt + 1);
    });
}

std::vector<std::shared_ptr<RelayConnection>> FaultProxy::Impl::open_connections() const {
    std::vector<std::shared_ptr<RelayConnection>> list;
    list.reserve(open.size());
    for (const auto& [id, connection] : open) list.push_back(connection);
    return list;
}

void FaultProxy::Impl::close_everything() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    accept_retry.cancel();
    // end() makes each connection forget itself from `open`, hence the copy.
    for (const auto& connection : open_connections()) {
        connection->end(ProxyConnection::Closer::end_of_run, "end of run", false);
    }
}

// --- FaultProxy -------------------------------------------------------------------------------

FaultProxy::FaultProxy(const RunClock& clock, Options options)
    : impl_(std::make_unique<Impl>(clock, std::move(options))) {}

FaultProxy::~FaultProxy() { stop(); }

uint16_t FaultProxy::port() const { return impl_->port; }

void FaultProxy::start() {
    std::lock_guard lock(impl_->control);
    if (impl_->state != Impl::State::idle) return;
    impl_->work.emplace(impl_->io.get_executor());
    impl_->accept();
    impl_->thread = std::thread([impl = impl_.get()] {
        for (;;) {
            try {
                impl->io.run();
                return;
            } catch (const std::exception& e) {
                fmt::print(stderr, "fault proxy: {}\n", e.what());
            }
        }
    });
    impl_->state = Impl::State::running;
}

void FaultProxy::stop() {
    std::lock_guard lock(impl_->control);
    switch (impl_->state) {
        case Impl::State::stopped: return;
        case Impl::State::idle: impl_->close_everything(); break;
        case Impl::State::running:
            asio::post(impl_->io, [impl = impl_.get()] { impl->close_everything(); });
            // With every socket and timer closed, run() returns once their handlers have run.
            impl_->work.reset();
            impl_->thread.join();
            break;
    }
    impl_->state = Impl::State::stopped;
}

void FaultProxy::set_owner_group(int pgid) { impl_->owner_group.store(pgid); }

uint64_t FaultProxy::add_toxic(const ToxicSpec& toxic) {
    const uint64_t id = impl_->next_toxic_id.fetch_add(1);
    impl_->on_proxy_thread([&] {
        impl_->toxic_specs.emplace_back(id, toxic);
        const auto now = SteadyClock::now();
        for (const auto& [connection_id, connection] : impl_->open) {
            connection->attach(id, toxics::make_link(toxic, {connection->opened_at(), now, &impl_->rng}));
        }
    });
    return id;
}

void FaultProxy::remove_toxic(uint64_t id) {
    impl_->on_proxy_thread([&] {
        std::erase_if(impl_->toxic_specs, [id](const auto& entry) { return entry.first == id; });
        for (const auto& [connection_id, connection] : impl_->open) connection->detach(id);
    });
}

void FaultProxy::reset_all(const std::string& detail) {
    impl_->on_proxy_thread([&] {
        for (const auto& connection : impl_->open_connections()) {
            connection->end(ProxyConnection::Closer::dependency, detail, true);
        }
    });
}

void FaultProxy::harness_acts_on_dependency() {
    impl_->on_proxy_thread([&] {
        for (const auto& [id, connection] : impl_->open) connection->harness_acts_on_dependency();
    });
}

std::vector<ProxyConnection> FaultProxy::connections() const { return impl_->log.snapshot(); }

}  // namespace draincheck
