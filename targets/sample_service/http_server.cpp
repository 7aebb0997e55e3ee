#include "http_server.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <cstdio>
#include <string_view>

namespace sample {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// The value of `name` in the query string of `target` (e.g. "ms" in "/work?ms=200"), or `fallback`.
long query_number(std::string_view target, std::string_view name, long fallback) {
    auto q = target.find('?');
    while (q != std::string_view::npos) {
        std::string_view rest = target.substr(q + 1);
        if (rest.substr(0, name.size()) == name && rest.size() > name.size() && rest[name.size()] == '=') {
            long v = fallback;
            std::from_chars(rest.data() + name.size() + 1, rest.data() + rest.size(), v);
            return v;
        }
        q = target.find('&', q + 1);
    }
    return fallback;
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, HttpServer& server) : socket_(std::move(socket)), server_(server), timer_(socket_.get_executor()) {}
    ~Session() { server_.remove(this); }

    void start() {
        server_.add(this);
        do_read();
    }
    bool busy() const { return busy_; }
    // Answers the request in flight with `status` now, unless its response has begun.
    void fail_now(http::status status) {
        if (!busy_ || answered_) return;
        timer_.cancel();
        respond(status, "draining\n");
    }
    // Closes the connection if it is waiting for a request; a busy one closes after its response.
    void close_if_idle() {
        if (!busy_) {
            error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_both, ignored);
            socket_.close(ignored);
        }
    }

private:
    void do_read() {
        request_ = {};
        answered_ = false;
        http::async_read(socket_, buffer_, request_, [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(error_code ec) {
        if (ec) return;   // closed by the client, or by a drain while idle
        busy_ = true;
        std::string_view target(request_.target().data(), request_.target().size());
        std::string_view path = target.substr(0, target.find('?'));
        if (path == "/work") {
            timer_.expires_after(std::chrono::milliseconds(query_number(target, "ms", 100)));
            timer_.async_wait([self = shared_from_this()](error_code) { self->respond(http::status::ok, "done\n"); });
        } else if (path == "/stream") {
            stream(query_number(target, "ms", 1000), query_number(target, "bytes", 10000));
        } else if (path == "/healthz") {
            bool ok = server_.ready() && !server_.draining();
            if (ok && server_.routes()) return server_.routes()->health(answer_later());
            respond(ok ? http::status::ok : http::status::service_unavailable, ok ? "ok\n" : "draining\n");
        } else if (path == "/") {
            respond(http::status::ok, "hello\n");
        } else if (Routes* routes = server_.routes();
                   !routes || !routes->handle(std::string_view(request_.method_string()), target, answer_later())) {
            respond(http::status::not_found, "not found\n");
        }
    }

    // A Respond for the routes: keeps the session alive until it is called.
    Respond answer_later() {
        return [self = shared_from_this()](Answer a) {
            self->respond(http::int_to_status(a.status), std::move(a.body), std::move(a.headers));
        };
    }

    bool keep_alive() const { return request_.keep_alive() && !server_.draining(); }

    // Once per request: whatever answers first (a handler, fail_now) is the answer; an abandoning
    // server never answers.
    void respond(http::status status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
        if (answered_) return;
        answered_ = true;
        if (server_.abandoning()) return server_.keep_silent(shared_from_this());
        auto res = std::make_shared<http::response<http::string_body>>(status, request_.version());
        res->set(http::field::content_type, "text/plain");
        for (auto& [name, value] : headers) res->set(name, value);
        res->keep_alive(keep_alive());
        res->body() = std::move(body);
        res->prepare_payload();
        http::async_write(socket_, *res, [self = shared_from_this(), res](error_code ec, size_t) { self->on_written(ec); });
    }

    // Headers at once, then the body in ten pieces spread over `ms`.
    void stream(long ms, long bytes) {
        answered_ = true;
        std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                           std::to_string(bytes) + (keep_alive() ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
        pending_ = std::make_shared<std::string>(std::move(head));
        stream_left_ = bytes;
        stream_step_ = std::max(1L, bytes / 10);
        stream_pause_ = std::chrono::milliseconds(ms / 10);
        asio::async_write(socket_, asio::buffer(*pending_), [self = shared_from_this()](error_code ec, size_t) {
            if (ec) return;
            self->stream_next();
        });
    }

    void stream_next() {
        if (stream_left_ <= 0) return on_written({});
        if (server_.abandoning()) return server_.keep_silent(shared_from_this());
        timer_.expires_after(stream_pause_);
        timer_.async_wait([self = shared_from_this()](error_code) {
            long n = std::min(self->stream_left_, self->stream_step_);
            self->stream_left_ -= n;
            self->pending_ = std::make_shared<std::string>(size_t(n), 'x');
            asio::async_write(self->socket_, asio::buffer(*self->pending_), [self](error_code ec, size_t) {
                if (!ec) self->stream_next();
            });
        });
    }

    void on_written(error_code ec) {
        busy_ = false;
        if (ec || !keep_alive()) {
            error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_send, ignored);
            return;   // the session ends when its last handler returns
        }
        do_read();
    }

    tcp::socket socket_;
    HttpServer& server_;
    asio::steady_timer timer_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    bool busy_ = false;
    bool answered_ = false;   // the response to the current request has begun (or will never come)
    std::shared_ptr<std::string> pending_;
    long stream_left_ = 0, stream_step_ = 0;
    std::chrono::milliseconds stream_pause_{0};
};

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& at, std::chrono::milliseconds ready_delay)
    : io_(io), acceptor_(io), ready_at_(std::chrono::steady_clock::now() + ready_delay) {
    acceptor_.open(at.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

void HttpServer::start() { do_accept(); }

bool HttpServer::ready() const { return std::chrono::steady_clock::now() >= ready_at_; }

void HttpServer::do_accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
        if (ec || draining_) return;
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), *this)->start();
        do_accept();
    });
}

size_t HttpServer::busy_sessions() const {
    size_t n = 0;
    for (auto* s : sessions_) n += s->busy() ? 1 : 0;
    return n;
}

void HttpServer::drain(bool close_listener, std::function<void()> on_drained) {
    draining_ = true;
    on_drained_ = std::move(on_drained);
    error_code ignored;
    if (close_listener) acceptor_.close(ignored);
    else acceptor_.cancel(ignored);
    for (auto* s : std::set<Session*>(sessions_)) s->close_if_idle();
    if (sessions_.empty()) asio::post(io_, [this] { if (on_drained_) std::exchange(on_drained_, nullptr)(); });
}

void HttpServer::fail_in_flight(unsigned status) {
    for (auto* s : std::set<Session*>(sessions_)) s->fail_now(http::int_to_status(status));
}

void HttpServer::abandon() {
    draining_ = abandoning_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    for (auto* s : std::set<Session*>(sessions_)) s->close_if_idle();
}

void HttpServer::remove(Session* s) {
    sessions_.erase(s);
    if (draining_ && sessions_.empty() && on_drained_) asio::post(io_, [this] { if (on_drained_) std::exchange(on_drained_, nullptr)(); });
}

}  // namespace sample
