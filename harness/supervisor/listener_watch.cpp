#include "supervisor/listener_watch.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace draincheck {
namespace {

constexpr int kTcpListen = 10;   // TCP_LISTEN in the kernel's tcp_states.h

}  // namespace

std::optional<ListenerState> listener_state(const std::string& host, uint16_t port) {
    bool v6 = host.find(':') != std::string::npos;
    int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return std::nullopt;
    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = v6 ? AF_INET6 : AF_INET;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = 1u << kTcpListen;
    if (::send(fd, &message, sizeof message, 0) < 0) {
        ::close(fd);
        return std::nullopt;
    }
    ListenerState state;
    bool done = false;
    alignas(nlmsghdr) char buffer[16384];
    while (!done) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            ::close(fd);
            return std::nullopt;
        }
        for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, size_t(n)); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            auto* socket = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
            if (ntohs(socket->id.idiag_sport) != port) continue;
            state.listening = true;
            state.accept_queue += socket->idiag_rqueue;   // for a listener: its accept queue's length
        }
    }
    ::close(fd);
    return state;
}

}  // namespace draincheck
