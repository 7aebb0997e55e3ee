#include "proxy/connection_log.h"

namespace draincheck {

uint64_t ConnectionLog::open(int64_t opened_ns, uint16_t target_port, uint16_t proxy_port) {
    std::lock_guard lock(mutex_);
    ProxyConnection& c = records_.emplace_back();
    c.id = records_.size();
    c.opened_ns = opened_ns;
    c.target_port = target_port;
    c.proxy_port = proxy_port;
    return c.id;
}

void ConnectionLog::set_owner(uint64_t id, int pid, std::string name) {
    std::lock_guard lock(mutex_);
    at(id).owner_pid = pid;
    at(id).owner_name = std::move(name);
}

void ConnectionLog::add_bytes(uint64_t id, uint64_t up, uint64_t down) {
    std::lock_guard lock(mutex_);
    at(id).bytes_up += up;
    at(id).bytes_down += down;
}

bool ConnectionLog::close(uint64_t id, int64_t closed_ns, ProxyConnection::Closer by, std::string detail,
                          bool owner_exiting) {
    std::lock_guard lock(mutex_);
    ProxyConnection& c = at(id);
    if (c.closed_ns) return false;
    c.closed_ns = closed_ns;
    c.closed_by = by;
    c.close_detail = std::move(detail);
    c.owner_exiting_at_close = owner_exiting;
    return true;
}

void ConnectionLog::mark_dependency_closed_by_itself(uint64_t id) {
    std::lock_guard lock(mutex_);
    at(id).dependency_closed_by_itself = true;
}

std::vector<ProxyConnection> ConnectionLog::snapshot() const {
    std::lock_guard lock(mutex_);
    return records_;
}

}  // namespace draincheck
