#include "fleet/haproxy_admin.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace draincheck {

namespace {

using SteadyClock = std::chrono::steady_clock;

struct Fd {
    int fd = -1;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

// Waits for `events` on `fd` until `deadline`; false on timeout.
bool wait_for(int fd, short events, SteadyClock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

}  // namespace

std::string HaproxyAdmin::run(const std::string& command) const {
    auto deadline = SteadyClock::now() + timeout_;
    auto fail = [&](const std::string& what) {
        return HaproxyAdminError("haproxy admin socket " + path_ + ": " + what + " (command: " + command + ")");
    };
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) throw fail("path too long for a unix socket");
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);

    Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (s.fd < 0) throw fail(std::string("socket: ") + std::strerror(errno));
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN) throw fail(std::string("connect: ") + std::strerror(errno));
        if (!wait_for(s.fd, POLLOUT, deadline)) throw fail("connect timed out");
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) throw fail(std::string("connect: ") + std::strerror(err));
    }
    std::string out = command + "\n";
    size_t sent = 0;
    while (sent < out.size()) {
        ssize_t n = ::send(s.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n > 0) { sent += static_cast<size_t>(n); continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN && wait_for(s.fd, POLLOUT, deadline)) continue;
        throw fail(n < 0 && errno != EAGAIN ? std::string("send: ") + std::strerror(errno) : "send timed out");
    }
    std::string answer;
    char buf[16384];
    for (;;) {
        ssize_t n = ::recv(s.fd, buf, sizeof(buf), 0);
        if (n > 0) { answer.append(buf, static_cast<size_t>(n)); continue; }
        if (n == 0) return answer;
        if (errno == EINTR) continue;
        if (errno == EAGAIN && wait_for(s.fd, POLLIN, deadline)) continue;
        throw fail(errno == EAGAIN ? "no complete answer in time" : std::string("recv: ") + std::strerror(errno));
    }
}

bool HaproxyAdmin::answers() const {
    try {
        return run("show info").find("Pid:") != std::string::npos;
    } catch (const HaproxyAdminError&) {
        return false;
    }
}

}  // namespace draincheck
