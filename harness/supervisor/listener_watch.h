#pragma once
// Is anything listening on a TCP port right now, and how many connections wait in its accept queue?
// Asked of the kernel through NETLINK_SOCK_DIAG (what `ss -ltn` uses): no connection is made, so the
// answer does not disturb the target.
#include <cstdint>
#include <optional>
#include <string>

namespace draincheck {

struct ListenerState {
    bool listening = false;
    // Connections the kernel completed that the application has not accepted yet (a listening
    // socket's receive queue, as `ss -ltn` shows in Recv-Q). 0 when nothing listens.
    uint32_t accept_queue = 0;
};

// nullopt when the kernel could not be asked (e.g. no netlink in this sandbox).
std::optional<ListenerState> listener_state(const std::string& host, uint16_t port);

}  // namespace draincheck
