#pragma once
// Is anything listening on a TCP port right now? Asked of the kernel through NETLINK_SOCK_DIAG
// (what `ss -ltn` uses): no connection is made, so the answer does not disturb the target.
#include <cstdint>
#include <optional>
#include <string>

namespace draincheck {

// nullopt when the kernel could not be asked (e.g. no netlink in this sandbox).
std::optional<bool> is_listening(const std::string& host, uint16_t port);

}  // namespace draincheck
