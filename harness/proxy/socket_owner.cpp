#include "proxy/socket_owner.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace draincheck {
namespace {

namespace ip = boost::asio::ip;

constexpr unsigned long pf_exiting = 0x4;   // include/linux/sched.h

std::optional<uint32_t> parse_hex_word(std::string_view hex) {
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (ec != std::errc{} || end != hex.data() + hex.size()) return std::nullopt;
    return value;
}

// The fields of /proc/<pid>/stat after the command name, which may itself hold spaces and ')'.
// [0] is field 3 (state).
std::optional<std::vector<std::string>> stat_fields(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    const auto paren = line.rfind(')');
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream rest(line.substr(paren + 1));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(std::move(f));
    return fields;
}

std::string process_name(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(in, name);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ' || name.back() == '\t')) name.pop_back();
    return name;
}

bool is_loopback(const ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6()).is_loopback();
    return a.is_loopback();
}

bool same_endpoint(const ip::tcp::endpoint& a, const ip::tcp::endpoint& b) {
    if (a.port() != b.port()) return false;
    auto v6 = [](const ip::address& addr) {
        return addr.is_v4() ? ip::make_address_v6(ip::v4_mapped, addr.to_v4()) : addr.to_v6();
    };
    return v6(a.address()) == v6(b.address());
}

// Calls `row(local, remote, inode)` for each socket of /proc/net/tcp or tcp6 that a file refers to
// (inode 0 is a socket none does any more: TIME_WAIT, orphaned); stops when it returns true.
template <typename Row>
void for_each_tcp_socket(const char* path, Row row) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);   // header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local_field, remote_field, state, queues, timer, retransmits, uid, timeout, inode;
        if (!(fields >> slot >> local_field >> remote_field >> state >> queues >> timer >> retransmits >> uid
                     >> timeout >> inode)) {
            continue;
        }
        const auto l = parse_proc_net_endpoint(local_field);
        const auto r = parse_proc_net_endpoint(remote_field);
        uint64_t number = 0;
        auto [end, ec] = std::from_chars(inode.data(), inode.data() + inode.size(), number);
        if (!l || !r || ec != std::errc{} || number == 0) continue;
        if (row(*l, *r, number)) return;
    }
}

std::optional<uint64_t> find_inode_in(const char* path, const ip::tcp::endpoint& local,
                                      const ip::tcp::endpoint& remote) {
    std::optional<uint64_t> found;
    for_each_tcp_socket(path, [&](const ip::tcp::endpoint& l, const ip::tcp::endpoint& r, uint64_t inode) {
        if (same_endpoint(l, local) && same_endpoint(r, remote)) found = inode;
        return found.has_value();
    });
    return found;
}

// The inodes of the sockets process `pid` has open.
std::vector<uint64_t> socket_inodes_of(int pid) {
    std::vector<uint64_t> inodes;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return inodes;
    std::array<char, 64> target{};
    constexpr std::string_view prefix = "socket:[";
    while (dirent* entry = readdir(d)) {
        if (entry->d_name[0] == '.') continue;
        const ssize_t n = readlinkat(dirfd(d), entry->d_name, target.data(), target.size());
        if (n <= ssize_t(prefix.size()) || std::string_view(target.data(), prefix.size()) != prefix) continue;
        uint64_t inode = 0;
        auto [end, ec] = std::from_chars(target.data() + prefix.size(), target.data() + n, inode);
        if (ec == std::errc{}) inodes.push_back(inode);
    }
    closedir(d);
    return inodes;
}

// The pids of every process whose process group is `pgid`.
std::vector<int> group_members(int pgid) {
    std::vector<int> pids;
    DIR* proc = opendir("/proc");
    if (proc == nullptr) return pids;
    while (dirent* entry = readdir(proc)) {
        int pid = 0;
        const char* name = entry->d_name;
        auto [end, ec] = std::from_chars(name, name + std::strlen(name), pid);
        if (ec != std::errc{} || *end != '\0' || pid <= 0) continue;
        if (process_group(pid) == pgid) pids.push_back(pid);
    }
    closedir(proc);
    return pids;
}

bool has_socket_open(int pid, const std::string& link_text) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return false;
    bool found = false;
    std::array<char, 64> target{};
    while (dirent* entry = readdir(d)) {
        if (entry->d_name[0] == '.') continue;
        const std::string fd_path = dir + "/" + entry->d_name;
        const ssize_t n = readlink(fd_path.c_str(), target.data(), target.size());
        if (n > 0 && static_cast<size_t>(n) == link_text.size() && std::memcmp(target.data(), link_text.data(), n) == 0) {
            found = true;
            break;
        }
    }
    closedir(d);
    return found;
}

}  // namespace

std::optional<ip::tcp::endpoint> parse_proc_net_endpoint(std::string_view field) {
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view hex_address = field.substr(0, colon);
    const auto port = parse_hex_word(field.substr(colon + 1));
    if (!port || *port > 0xffff) return std::nullopt;
    // The kernel prints each 32-bit word of the (network order) address as a host-order integer;
    // copying the integer back to memory restores the network-order bytes.
    if (hex_address.size() == 8) {
        const auto word = parse_hex_word(hex_address);
        if (!word) return std::nullopt;
        ip::address_v4::bytes_type bytes;
        std::memcpy(bytes.data(), &*word, 4);
        return ip::tcp::endpoint(ip::address_v4(bytes), static_cast<uint16_t>(*port));
    }
    if (hex_address.size() == 32) {
        ip::address_v6::bytes_type bytes;
        for (size_t i = 0; i < 4; ++i) {
            const auto word = parse_hex_word(hex_address.substr(i * 8, 8));
            if (!word) return std::nullopt;
            std::memcpy(bytes.data() + i * 4, &*word, 4);
        }
        return ip::tcp::endpoint(ip::address_v6(bytes), static_cast<uint16_t>(*port));
    }
    return std::nullopt;
}

std::optional<uint64_t> tcp_socket_inode(const ip::tcp::endpoint& local, const ip::tcp::endpoint& remote) {
    if (auto inode = find_inode_in("/proc/net/tcp", local, remote)) return inode;
    return find_inode_in("/proc/net/tcp6", local, remote);
}

std::vector<uint16_t> accepted_peer_ports(int pid, uint16_t local_port) {
    std::vector<uint64_t> inodes = socket_inodes_of(pid);
    std::sort(inodes.begin(), inodes.end());
    std::vector<uint16_t> ports;
    for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"})
        for_each_tcp_socket(path, [&](const ip::tcp::endpoint& l, const ip::tcp::endpoint& r, uint64_t inode) {
            if (l.port() == local_port && std::binary_search(inodes.begin(), inodes.end(), inode)) ports.push_back(r.port());
            return false;
        });
    return ports;
}

std::optional<int> process_group(int pid) {
    const auto fields = stat_fields(pid);
    if (!fields || fields->size() < 3) return std::nullopt;
    int pgid = 0;
    const std::string& f = (*fields)[2];
    auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), pgid);
    if (ec != std::errc{}) return std::nullopt;
    return pgid;
}

std::optional<SocketOwner> socket_inode_owner(uint64_t inode, int pgid) {
    const std::string link_text = "socket:[" + std::to_string(inode) + "]";
    for (int pid : group_members(pgid))
        if (has_socket_open(pid, link_text)) return SocketOwner{pid, process_name(pid)};
    return std::nullopt;
}

std::vector<HeldConnection> connections_held_by_group(int pgid, const std::vector<uint16_t>& proxy_ports) {
    // The loopback connections to a proxy port, by the inode of their near end.
    std::map<uint64_t, HeldConnection> to_proxies;
    for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        for_each_tcp_socket(path, [&](const ip::tcp::endpoint& l, const ip::tcp::endpoint& r, uint64_t inode) {
            bool proxy = std::find(proxy_ports.begin(), proxy_ports.end(), r.port()) != proxy_ports.end();
            if (proxy && is_loopback(r.address())) to_proxies[inode] = HeldConnection{r.port(), l.port(), {}};
            return false;
        });
    }
    std::vector<HeldConnection> held;
    if (to_proxies.empty()) return held;
    for (int pid : group_members(pgid))
        for (uint64_t inode : socket_inodes_of(pid))
            if (auto it = to_proxies.find(inode); it != to_proxies.end()) it->second.holders.push_back(pid);
    for (auto& [inode, c] : to_proxies)
        if (!c.holders.empty()) held.push_back(std::move(c));
    return held;
}

std::optional<SocketOwner> find_peer_owner(const ip::tcp::endpoint& accepted_local, const ip::tcp::endpoint& peer,
                                           int pgid) {
    const auto inode = tcp_socket_inode(peer, accepted_local);
    if (!inode) return std::nullopt;
    return socket_inode_owner(*inode, pgid);
}

bool process_exiting(int pid) {
    const auto fields = stat_fields(pid);
    // [0] = field 3 (state), [6] = field 9 (flags).
    if (!fields || fields->size() < 7) return true;
    const std::string& state = (*fields)[0];
    if (state == "Z" || state == "X" || state == "x") return true;
    unsigned long flags = 0;
    const std::string& f = (*fields)[6];
    auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), flags);
    return ec == std::errc{} && (flags & pf_exiting) != 0;
}

}  // namespace draincheck
