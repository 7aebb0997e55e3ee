#pragma once
// The proxy's record of every connection, written by the proxy thread and read by anyone.
#include "proxy/proxy_connection.h"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace draincheck {

class ConnectionLog {
public:
    // Appends a record and gives it the next id (1, 2, ...).
    uint64_t open(int64_t opened_ns, uint16_t target_port, uint16_t proxy_port);
    void set_owner(uint64_t id, int pid, std::string name);
    void add_bytes(uint64_t id, uint64_t up, uint64_t down);
    // Records the first close of a connection; later ones are ignored. Returns whether this was
    // the first.
    bool close(uint64_t id, int64_t closed_ns, ProxyConnection::Closer by, std::string detail,
               bool owner_exiting = false);

    void mark_dependency_closed_by_itself(uint64_t id);

    std::vector<ProxyConnection> snapshot() const;

private:
    ProxyConnection& at(uint64_t id) { return records_[id - 1]; }

    mutable std::mutex mutex_;
    std::vector<ProxyConnection> records_;   // records_[id - 1]
};

}  // namespace draincheck
