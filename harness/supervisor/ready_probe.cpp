#include "supervisor/ready_probe.h"

#include "supervisor/http_exchange.h"

#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace draincheck {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

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
        cancel_attempt_ = async_probe_once(io_, host_, port_, probe_, per_attempt, [self = shared_from_this()](ProbeResult r) {
            self->cancel_attempt_ = nullptr;
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
        if (cancel_attempt_) std::exchange(cancel_attempt_, nullptr)();
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
    std::function<void()> cancel_attempt_;   // of the attempt in flight
};

}  // namespace

std::function<void()> async_probe_once(asio::io_context& io, const std::string& host, uint16_t port,
                                       const ReadyProbe& probe, std::chrono::nanoseconds timeout,
                                       std::function<void(ProbeResult)> done) {
    HttpExchangeRequest request;
    request.target = probe.http_path;
    request.connect_only = probe.kind == ReadyProbe::Kind::tcp;
    const bool connect_only = request.connect_only;
    return async_http_exchange(io, host, port, std::move(request), timeout, [connect_only, done = std::move(done)](HttpExchangeResult r) {
        if (r.answered) return done({r.status >= 200 && r.status < 300, std::to_string(r.status)});
        if (connect_only && r.connected) return done({true, "connected"});
        // A timeout, or a connection cut before any answer (the process being killed, say), says
        // nothing either way; a refused connection says "not ready".
        done({false, r.failure(), r.timed_out || r.connected});
    });
}

std::function<void()> async_wait_ready(asio::io_context& io, const std::string& host, uint16_t port,
                                       const ReadyProbe& probe, std::function<void(bool, ProbeResult)> done) {
    auto wait = std::make_shared<ReadyWait>(io, host, port, probe, std::move(done));
    wait->attempt();
    return [wait] { wait->cancel(); };
}

}  // namespace draincheck
