#pragma once
// The statelessness probe: state created through one replica must be readable through every other.
// A service that keeps sessions in process memory fails it — behind a load balancer, a user's next
// request lands on another replica, and after a scale-down or a restart the memory is gone.
#include "common/run_clock.h"
#include "scenario/scenario.h"
#include "verifier/fleet_result.h"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace draincheck {

struct ReplicaAddress {
    int index = 0;
    uint16_t port = 0;
};

// Creates state on the first replica (create_method create_path; the id is the trimmed response body,
// and a Set-Cookie it returns is sent back), then reads read_path with "{id}" on each of the others,
// straight to their ports. `done` gets one StateCheck per read (or one saying why nothing was read).
void async_check_state(boost::asio::io_context& io, const RunClock& clock, const std::string& host,
                       std::vector<ReplicaAddress> replicas, const FleetSpec::StateProbe& probe, std::string when,
                       std::function<void(std::vector<StateCheck>)> done);

}  // namespace draincheck
