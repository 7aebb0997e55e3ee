#include "fleet/backend_pool.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace draincheck {

namespace asio = boost::asio;

namespace {

constexpr size_t kMaxIdlePerReplica = 256;   // beyond this a finished connection is closed, not kept

}  // namespace

// A replica that closed an idle keep-alive connection has left a FIN (or RST) on it: a peek sees
// EOF or an error instead of "nothing yet". Catching that here leaves only the true race (the
// close arriving while our request is on the wire) to the retry logic.
bool BackendConnection::still_open() {
    char byte;
    const ssize_t n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void BackendConnection::close() {
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream.close();
}

Replica::Replica(asio::io_context& io, int index, uint16_t port)
    : index(index), endpoint(asio::ip::address_v4::loopback(), port), check_timer(io) {}

std::optional<bool> Replica::count_check(bool success, unsigned rise, unsigned fall) {
    if (success) {
        failures = 0;
        ++successes;
        if (!healthy && successes >= std::max(rise, 1u)) return healthy = true;
    } else {
        successes = 0;
        ++failures;
        if (healthy && failures >= std::max(fall, 1u)) return healthy = false;
    }
    return std::nullopt;
}

bool Replica::mark_refused() {
    successes = 0;
    const bool was_healthy = healthy;
    healthy = false;
    return was_healthy;
}

BackendConnectionPtr Replica::take_idle() {
    while (!idle.empty()) {
        BackendConnectionPtr connection = std::move(idle.back());
        idle.pop_back();
        if (connection->still_open()) return connection;
        connection->close();
    }
    return nullptr;
}

void Replica::put_idle(BackendConnectionPtr connection) {
    if (removed || idle.size() >= kMaxIdlePerReplica) {
        connection->close();
        return;
    }
    idle.push_back(std::move(connection));
}

void Replica::close_idle() {
    for (auto& connection : idle) connection->close();
    idle.clear();
}

void Replica::stop_checks() {
    check_timer.cancel();
    if (check) check->close();
}

ReplicaPtr BackendPool::add(asio::io_context& io, int index, uint16_t port) {
    auto at = std::lower_bound(replicas_.begin(), replicas_.end(), index,
                               [](const ReplicaPtr& r, int i) { return r->index < i; });
    auto replica = std::make_shared<Replica>(io, index, port);
    if (at != replicas_.end() && (*at)->index == index) {
        if (!(*at)->removed) return nullptr;
        *at = replica;
    } else {
        replicas_.insert(at, replica);
    }
    return replica;
}

ReplicaPtr BackendPool::find(int index) const {
    for (const auto& r : replicas_) {
        if (r->index == index) return r;
    }
    return nullptr;
}

// Both policies walk the replicas from where the last pick left off, so that round_robin takes
// turns and least_conn breaks ties by taking turns too (an idle fleet still gets spread evenly).
ReplicaPtr BackendPool::pick(std::span<const int> tried) {
    const size_t n = replicas_.size();
    size_t best = n;
    for (size_t step = 0; step < n; ++step) {
        const size_t at = (cursor_ + step) % n;
        const Replica& r = *replicas_[at];
        if (!r.eligible() || std::find(tried.begin(), tried.end(), r.index) != tried.end()) continue;
        if (best == n || replicas_[best]->in_flight > r.in_flight) best = at;
        if (balance_ == FleetSpec::Balance::round_robin) break;
    }
    if (best == n) return nullptr;
    cursor_ = best + 1;
    return replicas_[best];
}

}  // namespace draincheck
