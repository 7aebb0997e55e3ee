#include "fleet/state_probe.h"

#include "plan/run_plan.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <memory>

namespace draincheck {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kExchangeTimeout = std::chrono::seconds(2);

struct Answer {
    bool ok = false;                 // a complete response arrived
    unsigned status = 0;
    std::string body;
    std::string cookie;              // "name=value" of the first Set-Cookie
    std::string error;
};

// One request on a fresh connection, bounded by kExchangeTimeout.
class Exchange : public std::enable_shared_from_this<Exchange> {
public:
    Exchange(asio::io_context& io, const std::string& host, uint16_t port, http::request<http::string_body> req,
             std::function<void(Answer)> done)
        : socket_(io), timer_(io), endpoint_(asio::ip::make_address(host), port), req_(std::move(req)),
          done_(std::move(done)) {}

    void start() {
        timer_.expires_after(kExchangeTimeout);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) self->finish_error("no answer within 2s");
        });
        socket_.async_connect(endpoint_, [self = shared_from_this()](const error_code& ec) {
            if (ec) return self->finish_error(ec.message());
            http::async_write(self->socket_, self->req_, [self](const error_code& ec, size_t) {
                if (ec) return self->finish_error(ec.message());
                http::async_read(self->socket_, self->buffer_, self->res_, [self](const error_code& ec, size_t) {
                    if (ec) return self->finish_error(ec.message());
                    Answer a;
                    a.ok = true;
                    a.status = self->res_.result_int();
                    a.body = self->res_.body();
                    auto cookie = self->res_.find(http::field::set_cookie);
                    if (cookie != self->res_.end()) {
                        std::string c(cookie->value());
                        a.cookie = c.substr(0, c.find(';'));
                    }
                    self->finish(std::move(a));
                });
            });
        });
    }

private:
    void finish_error(std::string why) {
        Answer a;
        a.error = std::move(why);
        finish(std::move(a));
    }
    void finish(Answer a) {
        if (!done_) return;
        timer_.cancel();
        error_code ignored;
        socket_.close(ignored);
        std::exchange(done_, nullptr)(std::move(a));
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    tcp::endpoint endpoint_;
    http::request<http::string_body> req_;
    boost::beast::flat_buffer buffer_;
    http::response<http::string_body> res_;
    std::function<void(Answer)> done_;
};

http::request<http::string_body> request(const std::string& method, const std::string& target, const std::string& host,
                                         uint16_t port, const std::string& cookie) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host + ":" + std::to_string(port));
    req.set(http::field::connection, "close");
    req.set(http::field::user_agent, "draincheck");
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
    req.prepare_payload();
    return req;
}

std::string trimmed(std::string s) {
    size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

struct Probe : std::enable_shared_from_this<Probe> {
    asio::io_context& io;
    const RunClock& clock;
    std::string host;
    std::vector<ReplicaAddress> replicas;
    FleetSpec::StateProbe spec;
    std::string when;
    std::function<void(std::vector<StateCheck>)> done;
    std::vector<StateCheck> checks;
    std::string id, cookie;

    Probe(asio::io_context& io, const RunClock& clock) : io(io), clock(clock) {}

    StateCheck check(int read_on) {
        StateCheck c;
        c.at_ns = clock.now_ns();
        c.when = when;
        c.created_on = replicas.front().index;
        c.read_on = read_on;
        return c;
    }

    void create() {
        const ReplicaAddress& on = replicas.front();
        auto self = shared_from_this();
        std::make_shared<Exchange>(io, host, on.port, request(spec.create_method, spec.create_path, host, on.port, ""),
                                   [self](Answer a) { self->created(std::move(a)); })
            ->start();
    }

    void created(Answer a) {
        id = trimmed(a.body);
        cookie = a.cookie;
        if (!a.ok || a.status / 100 != 2 || id.empty()) {
            StateCheck c = check(replicas.front().index);
            c.status = uint16_t(a.status);
            c.detail = !a.ok ? spec.create_method + " " + spec.create_path + " failed: " + a.error
                             : spec.create_method + " " + spec.create_path + " answered " + std::to_string(a.status) +
                                   (id.empty() ? " with an empty body (no id)" : "");
            checks.push_back(std::move(c));
            return std::exchange(done, nullptr)(std::move(checks));
        }
        read(1);
    }

    void read(size_t i) {
        if (i >= replicas.size()) return std::exchange(done, nullptr)(std::move(checks));
        const ReplicaAddress& on = replicas[i];
        std::string target = substitute_placeholders(spec.read_path, {{"id", id}});
        auto self = shared_from_this();
        std::make_shared<Exchange>(io, host, on.port, request("GET", target, host, on.port, cookie),
                                   [self, i, target](Answer a) {
                                       StateCheck c = self->check(self->replicas[i].index);
                                       c.status = uint16_t(a.status);
                                       c.ok = a.ok && a.status / 100 == 2;
                                       c.detail = !a.ok ? "GET " + target + " failed: " + a.error
                                                        : "GET " + target + " answered " + std::to_string(a.status);
                                       self->checks.push_back(std::move(c));
                                       self->read(i + 1);
                                   })
            ->start();
    }
};

}  // namespace

void async_check_state(asio::io_context& io, const RunClock& clock, const std::string& host,
                       std::vector<ReplicaAddress> replicas, const FleetSpec::StateProbe& spec, std::string when,
                       std::function<void(std::vector<StateCheck>)> done) {
    auto probe = std::make_shared<Probe>(io, clock);
    probe->host = host;
    probe->replicas = std::move(replicas);
    probe->spec = spec;
    probe->when = std::move(when);
    probe->done = std::move(done);
    if (probe->replicas.size() < 2) {
        StateCheck c;
        c.at_ns = clock.now_ns();
        c.when = probe->when;
        c.detail = "fewer than 2 replicas take traffic: nothing to compare";
        return std::exchange(probe->done, nullptr)({c});
    }
    probe->create();
}

}  // namespace draincheck
