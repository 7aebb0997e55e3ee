#pragma once
// Which process owns the other end of a loopback TCP connection, from /proc. The proxy uses it to
// tell which of the target's processes opened a connection, and whether that process was already
// exiting when the connection closed (then the kernel closed it, not the program).
#include "proxy/proxy_connection.h"

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

struct SocketOwner {
    int pid = 0;
    std::string name;   // /proc/<pid>/comm
};

// The inode of the TCP socket whose local endpoint is `local` and remote endpoint is `remote`,
// from /proc/net/tcp and /proc/net/tcp6 (IPv4 endpoints also match their v4-mapped form there).
std::optional<uint64_t> tcp_socket_inode(const boost::asio::ip::tcp::endpoint& local,
                                         const boost::asio::ip::tcp::endpoint& remote);

// The process, among those whose process group is `pgid`, that has socket `inode` open.
std::optional<SocketOwner> socket_inode_owner(uint64_t inode, int pgid);

// The owner of the peer of an accepted connection: the socket whose local endpoint is `peer` and
// whose remote endpoint is `accepted_local`, looked for in process group `pgid` only.
std::optional<SocketOwner> find_peer_owner(const boost::asio::ip::tcp::endpoint& accepted_local,
                                           const boost::asio::ip::tcp::endpoint& peer, int pgid);

// The connections to the loopback `proxy_ports` that processes of group `pgid` have open now, with
// the processes holding each. Asked the moment a process of the group begins to exit.
std::vector<HeldConnection> connections_held_by_group(int pgid, const std::vector<uint16_t>& proxy_ports);

// The remote ports of the TCP connections process `pid` holds whose local port is `local_port`: the
// clients of the connections a server process has accepted.
std::vector<uint16_t> accepted_peer_ports(int pid, uint16_t local_port);

// True if the process is gone, a zombie, dead, or has started exiting (PF_EXITING).
bool process_exiting(int pid);

// One address:port field of /proc/net/tcp{,6}: hex, each 32-bit word in host byte order.
std::optional<boost::asio::ip::tcp::endpoint> parse_proc_net_endpoint(std::string_view field);

// Process group (field 5) of /proc/<pid>/stat; nullopt if the process is gone.
std::optional<int> process_group(int pid);

}  // namespace draincheck
