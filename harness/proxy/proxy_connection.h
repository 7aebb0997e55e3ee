#pragma once
// What the fault proxy saw of one connection between the target and a dependency: when it opened
// and closed, how much went each way, and which side closed it first.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace draincheck {

struct ProxyConnection {
    enum class Closer { target, dependency, proxy, end_of_run };
    uint64_t id = 0;                         // 1, 2, ... in accept order, per proxy
    int64_t opened_ns = 0;                   // RunClock time of accept
    // The connection as the target sees it: from its local port to the proxy's port (loopback).
    uint16_t target_port = 0;
    uint16_t proxy_port = 0;
    std::optional<int64_t> closed_ns;        // first close seen (either side); nullopt = still open
    std::optional<Closer> closed_by;
    std::string close_detail;                // e.g. "EOF", "connection reset", "upstream refused", "toxic reset_peer"
    uint64_t bytes_up = 0;                   // target -> dependency, as read from the target
    uint64_t bytes_down = 0;                 // dependency -> target, as read from the dependency
    // The process that owned the target-side socket, found when the connection was accepted.
    std::optional<int> owner_pid;
    std::string owner_name;                  // its /proc/<pid>/comm
    // When the target side closed: was its owner already exiting (or gone)? Then the kernel closed
    // the socket as part of the exit, not the program.
    bool owner_exiting_at_close = false;
    // The target closed first, and the dependency then closed its side before the proxy passed the
    // target's close on: it had been told goodbye (e.g. Redis after QUIT).
    bool dependency_closed_by_itself = false;
};

const char* closer_name(ProxyConnection::Closer c);

// A connection to a dependency's proxy that processes of the target's group still had open at one
// moment (the instant one of them began to exit), and which processes those were.
struct HeldConnection {
    uint16_t proxy_port = 0;
    uint16_t target_port = 0;
    std::vector<int> holders;
    bool held(const ProxyConnection& c) const { return c.proxy_port == proxy_port && c.target_port == target_port; }
};

}  // namespace draincheck
