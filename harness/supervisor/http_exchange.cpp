#include "supervisor/http_exchange.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>

namespace draincheck {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

constexpr size_t kBodyLimit = 64 * 1024;

class Exchange : public std::enable_shared_from_this<Exchange> {
public:
    Exchange(asio::io_context& io, const std::string& host, uint16_t port, const HttpExchangeRequest& request,
             std::function<void(HttpExchangeResult)> done)
        : socket_(io), deadline_(io), done_(std::move(done)),
          endpoint_(asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host), port),
          connect_only_(request.connect_only), read_body_(request.read_body) {
        request_ = request.method + " " + request.target + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                   "\r\nConnection: close\r\nUser-Agent: draincheck\r\n";
        if (!request.cookie.empty()) request_ += "Cookie: " + request.cookie + "\r\n";
        if (request.method != "GET" && request.method != "HEAD") request_ += "Content-Length: 0\r\n";
        request_ += "\r\n";
        parser_.body_limit(kBodyLimit);
    }

    // Stops the exchange where it is: the connection is closed and `done` is never called.
    void cancel() {
        done_ = nullptr;
        deadline_.cancel();
        error_code ignored;
        socket_.close(ignored);
    }

    void start(std::chrono::nanoseconds timeout) {
        deadline_.expires_after(timeout);
        deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (ec) return;
            self->result_.timed_out = true;
            self->finish();
        });
        socket_.async_connect(endpoint_, [self = shared_from_this()](const error_code& ec) { self->on_connect(ec); });
    }

private:
    void on_connect(const error_code& ec) {
        if (ec) return fail(ec);
        result_.connected = true;
        if (connect_only_) return finish();
        asio::async_write(socket_, asio::buffer(request_), [self = shared_from_this()](const error_code& ec, size_t) {
            if (ec) return self->fail(ec);
            auto on_read = [self](const error_code& ec, size_t) { self->on_response(ec); };
            if (self->read_body_) http::async_read(self->socket_, self->buffer_, self->parser_, on_read);
            else http::async_read_header(self->socket_, self->buffer_, self->parser_, on_read);
        });
    }

    void on_response(const error_code& ec) {
        if (ec) return fail(ec);
        const auto& response = parser_.get();
        result_.answered = true;
        result_.status = response.result_int();
        if (read_body_) result_.body = response.body();
        auto cookie = response.find(http::field::set_cookie);
        if (cookie != response.end()) {
            std::string c(cookie->value());
            result_.set_cookie = c.substr(0, c.find(';'));
        }
        finish();
    }

    void fail(const error_code& ec) {
        result_.error = ec;
        finish();
    }

    void finish() {
        if (!done_) return;
        deadline_.cancel();
        error_code ignored;
        socket_.close(ignored);
        std::exchange(done_, nullptr)(std::move(result_));
    }

    tcp::socket socket_;
    asio::steady_timer deadline_;
    std::function<void(HttpExchangeResult)> done_;
    tcp::endpoint endpoint_;
    bool connect_only_, read_body_;
    std::string request_;
    boost::beast::flat_buffer buffer_;
    http::response_parser<http::string_body> parser_;
    HttpExchangeResult result_;
};

}  // namespace

std::string HttpExchangeResult::failure() const {
    if (timed_out) return "timeout";
    if (error == asio::error::connection_refused) return "connection refused";
    if (error == asio::error::connection_reset) return "connection reset";
    if (error == asio::error::eof || error == http::error::end_of_stream) return "connection closed without a response";
    return error.message();
}

std::function<void()> async_http_exchange(asio::io_context& io, const std::string& host, uint16_t port,
                                          HttpExchangeRequest request, std::chrono::nanoseconds timeout,
                                          std::function<void(HttpExchangeResult)> done) {
    auto exchange = std::make_shared<Exchange>(io, host, port, request, std::move(done));
    exchange->start(timeout);
    return [weak = std::weak_ptr<Exchange>(exchange)] {
        if (auto exchange = weak.lock()) exchange->cancel();
    };
}

}  // namespace draincheck
