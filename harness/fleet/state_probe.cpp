#include "fleet/state_probe.h"

#include "plan/run_plan.h"
#include "supervisor/http_exchange.h"

#include <memory>

namespace draincheck {
namespace {

namespace asio = boost::asio;

constexpr auto kExchangeTimeout = std::chrono::seconds(2);

// One request to `port`; `done` gets the answer, or why there was none.
void exchange(asio::io_context& io, const std::string& host, uint16_t port, std::string method, std::string target,
              std::string cookie, std::function<void(HttpExchangeResult)> done) {
    HttpExchangeRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.cookie = std::move(cookie);
    request.read_body = true;
    async_http_exchange(io, host, port, std::move(request), kExchangeTimeout, std::move(done));
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
        exchange(io, host, on.port, spec.create_method, spec.create_path, "",
                 [self](HttpExchangeResult a) { self->created(std::move(a)); });
    }

    void created(HttpExchangeResult a) {
        id = trimmed(a.body);
        cookie = a.set_cookie;
        if (!a.answered || a.status / 100 != 2 || id.empty()) {
            StateCheck c = check(replicas.front().index);
            c.status = uint16_t(a.status);
            c.detail = !a.answered ? spec.create_method + " " + spec.create_path + " failed: " + a.failure()
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
        exchange(io, host, on.port, "GET", target, cookie, [self, i, target](HttpExchangeResult a) {
            StateCheck c = self->check(self->replicas[i].index);
            c.status = uint16_t(a.status);
            c.ok = a.answered && a.status / 100 == 2;
            c.detail = !a.answered ? "GET " + target + " failed: " + a.failure()
                                   : "GET " + target + " answered " + std::to_string(a.status);
            self->checks.push_back(std::move(c));
            self->read(i + 1);
        });
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
