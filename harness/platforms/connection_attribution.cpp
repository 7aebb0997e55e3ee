#include "platforms/connection_attribution.h"

#include <algorithm>
#include <map>

namespace draincheck {
namespace {

BackendOutcome backend_outcome(const RequestRecord& r) {
    switch (r.outcome) {
    case Outcome::ok: return BackendOutcome::ok;
    case Outcome::http_error: return BackendOutcome::http_error;
    case Outcome::timeout: return BackendOutcome::timeout;
    case Outcome::refused:
    case Outcome::connect_error: return BackendOutcome::refused;
    default: return BackendOutcome::reset;   // dropped, truncated, closed_idle, send_error
    }
}

struct ConnectionSpan {
    uint16_t port = 0;
    int64_t first_start_ns = INT64_MAX;
    int64_t last_end_ns = INT64_MIN;   // INT64_MAX while a request on it never ended
    std::vector<size_t> records;
};

}  // namespace

void attribute_held_connections(std::vector<RequestRecord>& records,
                                const std::vector<std::pair<uint32_t, uint16_t>>& connection_ports, FleetResult& fleet) {
    if (fleet.held_at_signal.empty()) return;
    std::map<uint32_t, ConnectionSpan> connections;
    for (const auto& [id, port] : connection_ports) connections[id].port = port;
    for (size_t i = 0; i < records.size(); ++i) {
        const RequestRecord& r = records[i];
        auto it = connections.find(r.connection_id);
        if (r.connection_id == 0 || it == connections.end()) continue;
        ConnectionSpan& c = it->second;
        c.first_start_ns = std::min(c.first_start_ns, int64_t(r.started_us) * 1000);
        int64_t end = r.end_us == RequestRecord::kNever ? INT64_MAX : int64_t(r.ended_at_us()) * 1000;
        c.last_end_ns = std::max(c.last_end_ns, end);
        c.records.push_back(i);
    }
    // A client port is reused by later connections: the one held is the one open at the signal.
    std::map<uint16_t, std::vector<const ConnectionSpan*>> by_port;
    for (const auto& [id, c] : connections) by_port[c.port].push_back(&c);
    uint64_t request = 0;
    for (const HeldConnections& held : fleet.held_at_signal) {
        for (uint16_t port : held.client_ports) {
            auto candidates = by_port.find(port);
            if (candidates == by_port.end()) continue;
            for (const ConnectionSpan* c : candidates->second) {
                if (c->first_start_ns > held.at_ns || c->last_end_ns < held.at_ns) continue;
                for (size_t i : c->records) {
                    RequestRecord& r = records[i];
                    r.replica = uint8_t(std::min(held.replica, 254) + 1);
                    const int64_t started = int64_t(r.started_us) * 1000;
                    const int64_t ended = r.end_us == RequestRecord::kNever ? INT64_MAX : int64_t(r.ended_at_us()) * 1000;
                    if (started >= held.at_ns || ended < held.at_ns) continue;   // not in flight at the signal
                    BackendAttempt a;
                    a.started_ns = started;
                    a.ended_ns = ended == INT64_MAX ? held.at_ns : ended;
                    a.request = ++request;
                    a.replica = held.replica;
                    a.status = r.status;
                    a.outcome = backend_outcome(r);
                    a.reused = r.has(kReusedConnection);
                    fleet.attempts.push_back(a);
                }
            }
        }
    }
    sort_by_start(fleet.attempts);
}

}  // namespace draincheck
