#pragma once
// Real sockets for the proxy tests: an echo server to stand in for the dependency, and a blocking
// client with timeouts to stand in for the target.
#include "proxy/fault_proxy.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace proxy_test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Echoes every byte back; answers EOF with EOF. Runs on its own thread.
class EchoServer {
public:
    EchoServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~EchoServer() {
        asio::post(io_, [this] {
            boost::system::error_code ignored;
            acceptor_.close(ignored);
            for (auto& [id, socket] : sockets_) socket->close(ignored);
            sockets_.clear();
        });
        thread_.join();
    }
    uint16_t port() const { return acceptor_.local_endpoint().port(); }
    // Connections whose end (EOF or error) came from the other side, answered with its own close.
    int ends_seen() const { return ends_seen_.load(); }

    // Closes every connection it has (FIN), as a dependency that hangs up would.
    void close_all() {
        std::promise<void> done;
        asio::post(io_, [&] {
            boost::system::error_code ignored;
            for (auto& [id, socket] : sockets_) socket->close(ignored);
            sockets_.clear();
            done.set_value();
        });
        done.get_future().wait();
    }

private:
    struct Buffer {
        std::array<char, 4096> bytes;
    };

    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;
            auto socket = std::make_shared<tcp::socket>(std::move(s));
            const int id = next_id_++;
            sockets_.emplace(id, socket);
            echo(id, socket, std::make_shared<Buffer>());
            accept();
        });
    }

    void echo(int id, std::shared_ptr<tcp::socket> socket, std::shared_ptr<Buffer> buffer) {
        socket->async_read_some(asio::buffer(buffer->bytes), [this, id, socket, buffer](boost::system::error_code ec, size_t n) {
            if (ec) {
                boost::system::error_code ignored;
                socket->shutdown(tcp::socket::shutdown_send, ignored);
                socket->close(ignored);
                sockets_.erase(id);
                if (ec != asio::error::operation_aborted) ends_seen_.fetch_add(1);   // not its own close_all()
                return;
            }
            asio::async_write(*socket, asio::buffer(buffer->bytes.data(), n),
                              [this, id, socket, buffer](boost::system::error_code ec, size_t) {
                                  if (!ec) echo(id, socket, buffer);
                              });
        });
    }

    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::map<int, std::shared_ptr<tcp::socket>> sockets_;   // echo server thread only
    int next_id_ = 1;
    std::atomic<int> ends_seen_{0};
    std::thread thread_;
};

// A port nothing listens on (bound, then released).
inline uint16_t closed_port() {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

// A blocking client with deadlines on every read.
class Client {
public:
    enum class End { eof, reset, timeout };
    struct Rest {
        std::string data;
        End end = End::timeout;
    };

    explicit Client(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket");
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
        }
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool send(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            data.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }
    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
    // Closes with an RST instead of a FIN.
    void reset() {
        linger l{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd_);
        fd_ = -1;
    }

    // Exactly n bytes, or nullopt if the connection ended or the deadline passed first.
    std::optional<std::string> read_exact(size_t n, std::chrono::milliseconds timeout = 10s) {
        std::string data;
        const auto deadline = Clock::now() + timeout;
        while (data.size() < n) {
            std::array<char, 16384> chunk;
            const auto got = read_some(chunk.data(), std::min(chunk.size(), n - data.size()), deadline);
            if (got <= 0) return std::nullopt;
            data.append(chunk.data(), static_cast<size_t>(got));
        }
        return data;
    }

    // Everything until the connection ends (or the deadline passes), and how it ended.
    Rest read_to_end(std::chrono::milliseconds timeout = 10s) {
        Rest rest;
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            std::array<char, 16384> chunk;
            const auto got = read_some(chunk.data(), chunk.size(), deadline);
            if (got > 0) {
                rest.data.append(chunk.data(), static_cast<size_t>(got));
                continue;
            }
            rest.end = got == 0 ? End::eof : got == -2 ? End::timeout : End::reset;
            return rest;
        }
    }

    // Whether anything (bytes or the end) arrives within the timeout.
    bool readable_within(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
    }

private:
    // > 0 bytes, 0 EOF, -1 reset or other error, -2 deadline.
    ssize_t read_some(char* into, size_t size, Clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() < 0) return -2;
            pollfd p{fd_, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
            if (ready < 0 && errno == EINTR) continue;
            if (ready == 0) {
                if (Clock::now() >= deadline) return -2;
                continue;
            }
            const ssize_t n = ::recv(fd_, into, size, 0);
            if (n < 0 && errno == EINTR) continue;
            return n < 0 ? -1 : n;
        }
    }

    int fd_ = -1;
};

// For state only visible in the proxy's snapshot: look until it holds or the timeout passes.
inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

inline draincheck::FaultProxy::Options options_for(uint16_t upstream_port) {
    draincheck::FaultProxy::Options options;
    options.upstream_port = upstream_port;
    return options;
}

// The one connection record a test expects, waiting until the proxy has recorded its close.
inline draincheck::ProxyConnection closed_record(const draincheck::FaultProxy& proxy, uint64_t id = 1) {
    draincheck::ProxyConnection found;
    wait_until([&] {
        const auto all = proxy.connections();
        if (all.size() < id) return false;
        found = all[id - 1];
        return found.closed_ns.has_value();
    });
    return found;
}

}  // namespace proxy_test
