#include "supervisor/ready_probe.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <memory>

namespace draincheck {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

std::string describe(const error_code& ec) {
    if (ec == asio::error::connection_refused) return "connection refused";
    if (ec == asio::error::connection_reset) return "connection reset";
    if (ec == asio::error::eof || ec == http::error::end_of_stream) return "connection closed without a response";
    return ec.message();
}

// One probe: connect, optionally GET, read the status; all within a deadline.
class ProbeAttempt : public std::enable_shared_from_this<ProbeAttempt> {
public:
    ProbeAttempt(asio::io_context& io, const std::string& host, uint16_t port, const ReadyProbe& probe,
                 std::function<void(ProbeResult)> done)
        : socket_(io), deadline_(io), probe_(probe), done_(std::move(done)),
          endpoint_(asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host), port),
          request_("GET " + probe.http_path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                   "\r\nConnection: close\r\nUser-Agent: draincheck\r\n\r\n") {}

    void start(std::chrono::nanoseconds timeout) {
        deadline_.expires_after(timeout);
        deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) self->finish({false, "timeout", true});
        });
        socket_.async_connect(endpoint_, [self = shared_from_this()](const error_code& ec) { self->on_connect(ec); });
    }

private:
    void on_connect(const error_code& ec) {
        if (ec) return finish({false, describe(ec)});
        if (probe_.kind == ReadyProbe::Kind::tcp) return finish({true, "connected"});
        asio::async_write(socket_, asio::buffer(request_), [self = shared_from_this()](const error_code& ec, size_t) {
            // Connected, then cut before any answer (the process being killed, say): no answer.
            if (ec) return self->finish({false, describe(ec), true});
            self->parser_.body_limit(64 * 1024);
            http::async_read_header(self->socket_, self->buffer_, self->parser_,
                                    [self](const error_code& ec, size_t) { self->on_header(ec); });
        });
    }

    void on_header(const error_code& ec) {
        if (ec) return finish({false, describe(ec), true});
        unsigned status = parser_.get().result_int();
        finish({status >= 200 && status < 300, std::to_string(status)});
    }

    void finish(ProbeResult r) {
        if (!done_) return;
        deadline_.cancel();
        error_code ignored;
        socket_.close(ignored);
        std::exchange(done_, nullptr)(std::move(r));
    }

    tcp::socket socket_;
    asio::steady_timer deadline_;
    ReadyProbe probe_;
    std::function<void(ProbeResult)> done_;
    tcp::endpoint endpoint_;
    std::string request_;
    boost::beast::flat_buffer buffer_;
    http::response_parser<http::empty_body> parser_;
};

// Repeats attempts until one succeeds, the overall timeout passes, or it is cancelled.
class ReadyWait : public std::enable_shared_from_this<ReadyWait> {
public:
    ReadyWait(asio::io_context& io, std::string host, uint16_t port, const ReadyProbe& probe,
              std::function<void(bool, ProbeResult)> done)
        : io_(io), host_(std::move(host)), port_(port), probe_(probe), done_(std::move(done)), pause_(io),
          give_up_at_(std::chrono::steady_clock::now() + probe.timeout) {}

    void attempt() {
        if (!done_) return;
        auto left = give_up_at_ - std::chrono::steady_clock::now();
        auto per_attempt = std::min<std::chrono::nanoseconds>(std::max<std::chrono::nanoseconds>(left, std::chrono::milliseconds(1)),
                                                              std::chrono::seconds(2));
        async_probe_once(io_, host_, port_, probe_, per_attempt, [self = shared_from_this()](ProbeResult r) {
            if (!self->done_) return;
            if (r.ready) return std::exchange(self->done_, nullptr)(true, std::move(r));
            if (std::chrono::steady_clock::now() + self->probe_.interval >= self->give_up_at_)
                return std::exchange(self->done_, nullptr)(false, std::move(r));
            self->last_ = std::move(r);
            self->pause_.expires_after(self->probe_.interval);
            self->pause_.async_wait([self](const error_code& ec) { if (!ec) self->attempt(); });
        });
    }

    void cancel() {
        done_ = nullptr;
        pause_.cancel();
    }

private:
    asio::io_context& io_;
    std::string host_;
    uint16_t port_;
    ReadyProbe probe_;
    std::function<void(bool, ProbeResult)> done_;
    asio::steady_timer pause_;
    std::chrono::steady_clock::time_point give_up_at_;
    ProbeResult last_;
};

}  // namespace

void async_probe_once(asio::io_context& io, const std::string& host, uint16_t port, const ReadyProbe& probe,
                      std::chrono::nanoseconds timeout, std::function<void(ProbeResult)> done) {
    std::make_shared<ProbeAttempt>(io, host, port, probe, std::move(done))->start(timeout);
}

std::function<void()> async_wait_ready(asio::io_context& io, const std::string& host, uint16_t port,
                                       const ReadyProbe& probe, std::function<void(bool, ProbeResult)> done) {
    auto wait = std::make_shared<ReadyWait>(io, host, port, probe, std::move(done));
    wait->attempt();
    return [wait] { wait->cancel(); };
}

}  // namespace draincheck
