#include "proxy/socket_owner.h"

#include <dirent.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
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

bool same_endpoint(const ip::tcp::endpoint& a, const ip::tcp::endpoint& b) {
    if (a.port() != b.port()) return false;
    auto v6 = [](const ip::address& addr) {
        return addr.is_v4() ? ip::make_address_v6(ip::v4_mapped, addr.to_v4()) : addr.to_v6();
    };
    return v6(a.address()) == v6(b.address());
}

std::optional<uint64_t> find_inode_in(const char* path, const ip::tcp::endpoint& local,
                                      const ip::tcp::endpoint& remote) {
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
        if (!l || !r || !same_endpoint(*l, local) || !same_endpoint(*r, remote)) continue;
        uint64_t number = 0;
        auto [end, ec] = std::from_chars(inode.data(), inode.data() + inode.size(), number);
        // Inode 0: a socket no file refers to any more (TIME_WAIT, orphaned).
        if (ec == std::errc{} && number != 0) return number;
    }
    return std::nullopt;
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
    DIR* proc = opendir("/proc");
    if (proc == nullptr) return std::nullopt;
    std::optional<SocketOwner> owner;
    while (dirent* entry = readdir(proc)) {
        int pid = 0;
        const char* name = entry->d_name;
        auto [end, ec] = std::from_chars(name, name + std::strlen(name), pid);
        if (ec != std::errc{} || *end != '\0' || pid <= 0) continue;
        if (process_group(pid) != pgid) continue;
        if (has_socket_open(pid, link_text)) {
            owner = SocketOwner{pid, process_name(pid)};
            break;
        }
    }
    closedir(proc);
    return owner;
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
