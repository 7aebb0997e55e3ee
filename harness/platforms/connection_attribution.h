#pragma once
// Which instance served which request, for a platform that balances the load itself (PM2's cluster
// master hands each accepted connection to a worker): from the client connections each instance held
// when its stop signal reached it (FleetResult::held_at_signal) and the local port of each client
// connection (the load generator's). Every request on a connection an instance held is named with that
// instance, and those still running at its signal become the backend attempts the fleet's checks judge
// (fleet_checks.cpp), as a balancer's own records would be.
#include "load/request_record.h"
#include "verifier/fleet_result.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace draincheck {

// `connection_ports`: (connection id, client local port). Sets records' replica and appends to
// `fleet.attempts` (sorted by start).
void attribute_held_connections(std::vector<RequestRecord>& records,
                                const std::vector<std::pair<uint32_t, uint16_t>>& connection_ports, FleetResult& fleet);

}  // namespace draincheck
