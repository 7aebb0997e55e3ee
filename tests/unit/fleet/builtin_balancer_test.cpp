// The builtin balancer against real replicas on loopback: small HTTP servers in the test whose
// behaviour each test controls, a blocking keep-alive client, and the health callback posted to an
// io_context the test runs.
#include "fleet/builtin_balancer.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace draincheck {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kWait = 10s;   // generous: the machine is shared

// Waits on `cv` for `ready`; false after kWait.
template <typename Pred>
bool wait_for(std::mutex& m, std::condition_variable& cv, Pred ready) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, kWait, ready);
}

// A replica: answers 200 "replica N"; /healthz 200 or 503 by a flag; /slow waits until released;
// /drop reads the request and closes without a byte; /midbody announces 100 bytes, sends 10 and
// closes. Runs on its own thread.
class TestBackend {
public:
    explicit TestBackend(int index) : index_(index), acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~TestBackend() {
        asio::post(io_, [this] {
            stopping_ = true;
            boost::system::error_code ignored;
            acceptor_.close(ignored);
            for (auto* s : sockets_) s->close(ignored);
            for (auto* t : gates_) t->cancel();
        });
        work_.reset();
        thread_.join();
    }

    uint16_t port() const { return port_; }
    void set_healthy(bool healthy) {
        std::lock_guard lock(m_);
        healthy_ = healthy;
        health_ok_ = 0;
    }
    void set_drop(bool drop) { drop_ = drop; }
    // New connects are refused from now on; open connections stay.
    void close_listener() {
        std::promise<void> done;
        asio::post(io_, [&] {
            boost::system::error_code ignored;
            acceptor_.close(ignored);
            done.set_value();
        });
        done.get_future().wait();
    }
    void release_slow() {
        asio::post(io_, [this] {
            released_ = true;
            for (auto* t : gates_) t->cancel();
        });
    }

    int requests() {   // requests other than health checks
        std::lock_guard lock(m_);
        return requests_;
    }
    int health_checks() {
        std::lock_guard lock(m_);
        return health_checks_;
    }
    int traffic_connections() {   // connections that carried a request other than a health check
        std::lock_guard lock(m_);
        return int(traffic_connections_.size());
    }
    bool wait_slow_started(int n) {
        return wait_for(m_, cv_, [&] { return slow_started_ >= n; });
    }
    bool wait_health_checks(int n) {
        return wait_for(m_, cv_, [&] { return health_checks_ >= n; });
    }
    unsigned health_ok() {
        std::lock_guard lock(m_);
        return health_ok_;
    }

private:
    asio::awaitable<void> accept_loop() {
        uint64_t next_id = 0;
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec || stopping_) co_return;
            asio::co_spawn(io_, serve(std::move(socket), ++next_id), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket socket, uint64_t id) {
        sockets_.insert(&socket);
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [ec, n] = co_await http::async_read(socket, buffer, req, use_tuple);
            if (ec) break;
            const std::string target(req.target());
            http::response<http::string_body> res{http::status::ok, 11};
            res.keep_alive(req.keep_alive());
            if (target == "/healthz") {
                std::lock_guard lock(m_);
                ++health_checks_;
                if (healthy_) ++health_ok_;
                res.result(healthy_ ? http::status::ok : http::status::service_unavailable);
                cv_.notify_all();
            } else {
                {
                    std::lock_guard lock(m_);
                    ++requests_;
                    traffic_connections_.insert(id);
                }
                if (drop_ || target == "/drop") break;
                if (target == "/midbody") {
                    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
                    co_await asio::async_write(socket, asio::buffer(head), use_tuple);
                    break;
                }
                if (target == "/slow") {
                    {
                        std::lock_guard lock(m_);
                        ++slow_started_;
                        cv_.notify_all();
                    }
                    asio::steady_timer gate(io_, asio::steady_timer::time_point::max());
                    gates_.insert(&gate);
                    if (!released_ && !stopping_) co_await gate.async_wait(use_tuple);
                    gates_.erase(&gate);
                    if (stopping_) break;
                }
                res.body() = "replica " + std::to_string(index_) + " " + req.body();
                res.set("X-Backend", std::to_string(index_));
            }
            res.prepare_payload();
            auto [wec, wn] = co_await http::async_write(socket, res, use_tuple);
            if (wec || !res.keep_alive()) break;
        }
        sockets_.erase(&socket);
        boost::system::error_code ignored;
        socket.close(ignored);
    }

    const int index_;
    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
    tcp::acceptor acceptor_;
    uint16_t port_ = 0;
    std::thread thread_;
    // Backend thread only.
    bool stopping_ = false;
    bool released_ = false;
    std::set<tcp::socket*> sockets_;
    std::set<asio::steady_timer*> gates_;
    std::atomic<bool> drop_{false};

    std::mutex m_;
    std::condition_variable cv_;
    bool healthy_ = true;
    unsigned health_ok_ = 0;
    int health_checks_ = 0;
    int requests_ = 0;
    int slow_started_ = 0;
    std::set<uint64_t> traffic_connections_;
};

// A blocking keep-alive client; every read gives up after kWait.
class Client {
public:
    explicit Client(uint16_t port) : socket_(io_) {
        socket_.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
        timeval tv{10, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    // The response, or an error code when the connection broke before a complete one.
    std::pair<http::response<http::string_body>, beast::error_code> send(http::verb method, const std::string& target,
                                                                        const std::string& body = "") {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.body() = body;
        req.prepare_payload();
        beast::error_code ec;
        http::write(socket_, req, ec);
        http::response<http::string_body> res;
        if (!ec) http::read(socket_, buffer_, res, ec);
        return {std::move(res), ec};
    }
    http::response<http::string_body> get(const std::string& target) {
        auto [res, ec] = send(http::verb::get, target);
        EXPECT_FALSE(ec) << target << ": " << ec.message();
        return res;
    }

private:
    asio::io_context io_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
};

std::string header(const http::response<http::string_body>& res, const char* name) {
    auto it = res.find(name);
    return it == res.end() ? std::string() : std::string(it->value());
}

class BuiltinBalancerTest : public ::testing::Test {
protected:
    BuiltinBalancerTest() {
        options.health.path = "/healthz";
        options.health.interval = 20ms;
        options.health.timeout = 2s;
        options.health.rise = 1;
        options.health.fall = 2;
        notify_thread = std::thread([this] { notify_io.run(); });
    }
    ~BuiltinBalancerTest() override {
        if (balancer) balancer->stop();
        notify_work.reset();
        notify_thread.join();
    }

    // Starts the balancer with `n` replicas and waits until all are healthy.
    void start(int n) {
        for (int i = 0; i < n; ++i) backends.push_back(std::make_unique<TestBackend>(i));
        balancer = std::make_unique<BuiltinBalancer>(notify_io, clock, options, [this](const HealthChange& c) {
            std::lock_guard lock(m);
            changes.push_back(c);
            cv.notify_all();
        });
        balancer->start();
        ASSERT_NE(balancer->port(), 0);
        for (int i = 0; i < n; ++i) balancer->add_replica(i, backends[size_t(i)]->port());
        for (int i = 0; i < n; ++i) ASSERT_TRUE(wait_change(i, true)) << "replica " << i << " never became healthy";
    }
    bool wait_change(int replica, bool healthy, std::string detail = {}) {
        return wait_for(m, cv, [&] {
            for (const auto& c : changes) {
                if (c.replica == replica && c.healthy == healthy && (detail.empty() || c.detail == detail)) return true;
            }
            return false;
        });
    }
    // Waits until `n` changes of `replica` to `healthy` were reported.
    bool wait_changes(int replica, bool healthy, int n) {
        return wait_for(m, cv, [&] {
            int seen = 0;
            for (const auto& c : changes) seen += c.replica == replica && c.healthy == healthy;
            return seen >= n;
        });
    }
    std::vector<BackendAttempt> stop_and_take() {
        balancer->stop();
        return balancer->take_attempts();
    }

    RunClock clock;
    BalancerOptions options;
    asio::io_context notify_io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> notify_work{notify_io.get_executor()};
    std::thread notify_thread;
    std::vector<std::unique_ptr<TestBackend>> backends;
    std::unique_ptr<BuiltinBalancer> balancer;
    std::mutex m;
    std::condition_variable cv;
    std::vector<HealthChange> changes;
};

TEST_F(BuiltinBalancerTest, RoundRobinSpreadsOverHealthyReplicasAndTagsEachResponse) {
    start(2);
    Client client(balancer->port());
    std::map<std::string, int> served;
    std::string previous;
    for (int i = 0; i < 10; ++i) {
        auto res = client.get("/work");
        ASSERT_EQ(res.result_int(), 200u);
        const std::string replica = header(res, kReplicaHeader);
        EXPECT_EQ(replica, header(res, "X-Backend")) << "tag must name the replica that answered";
        EXPECT_EQ(header(res, kRetriedHeader), "");
        EXPECT_NE(replica, previous) << "round robin takes turns";
        previous = replica;
        ++served[replica];
    }
    EXPECT_EQ(served["0"], 5);
    EXPECT_EQ(served["1"], 5);
    EXPECT_EQ(balancer->name(), "builtin");
}

TEST_F(BuiltinBalancerTest, FailingHealthCheckTakesReplicaOutAndRiseSuccessesBringItBack) {
    options.health.rise = 3;
    start(2);
    backends[1]->set_healthy(false);
    ASSERT_TRUE(wait_change(1, false, "503"));

    Client client(balancer->port());
    const int before = backends[1]->requests();
    for (int i = 0; i < 6; ++i) EXPECT_EQ(header(client.get("/work"), kReplicaHeader), "0");
    EXPECT_EQ(backends[1]->requests(), before) << "an unhealthy replica gets no traffic";

    backends[1]->set_healthy(true);
    ASSERT_TRUE(wait_changes(1, true, 2));
    EXPECT_GE(backends[1]->health_ok(), 3u) << "back only after `rise` successful checks";
    std::set<std::string> replicas;
    for (int i = 0; i < 4; ++i) replicas.insert(header(client.get("/work"), kReplicaHeader));
    EXPECT_EQ(replicas, (std::set<std::string>{"0", "1"}));
}

TEST_F(BuiltinBalancerTest, RemovedReplicaGetsNoNewTrafficButItsInFlightRequestCompletes) {
    start(2);
    auto slow = std::async(std::launch::async, [port = balancer->port()] { return Client(port).get("/slow"); });
    // The rotation starts with replica 0.
    const int slow_replica = 0;
    ASSERT_TRUE(backends[0]->wait_slow_started(1));
    const int other = 1 - slow_replica;
    balancer->remove_replica(slow_replica);

    Client client(balancer->port());
    for (int i = 0; i < 6; ++i) EXPECT_EQ(header(client.get("/work"), kReplicaHeader), std::to_string(other));

    // Its health checks stop: while the other replica is checked 5 more times, it is checked at
    // most once more (one may have been under way at the removal).
    const int checks = backends[size_t(slow_replica)]->health_checks();
    ASSERT_TRUE(backends[size_t(other)]->wait_health_checks(backends[size_t(other)]->health_checks() + 5));
    EXPECT_LE(backends[size_t(slow_replica)]->health_checks(), checks + 1);

    backends[size_t(slow_replica)]->release_slow();
    ASSERT_EQ(slow.wait_for(kWait), std::future_status::ready);
    auto res = slow.get();
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(header(res, kReplicaHeader), std::to_string(slow_replica));
}

class ClosedListenerTest : public BuiltinBalancerTest {
protected:
    // Healthy replicas checked once only: what notices the closed listener is the traffic.
    void start_and_close_listener() {
        options.health.interval = std::chrono::hours(1);
        start(2);
        backends[1]->close_listener();
    }
    // The request that went to replica 1 first: refused there, retried on replica 0.
    void expect_refused_then_retried(const std::vector<BackendAttempt>& attempts) {
        const BackendAttempt* refused = nullptr;
        for (const auto& a : attempts) {
            if (a.replica == 1 && a.outcome == BackendOutcome::refused) refused = &a;
        }
        ASSERT_NE(refused, nullptr);
        EXPECT_FALSE(refused->retry);
        bool retried = false;
        for (const auto& a : attempts) {
            retried |= a.request == refused->request && a.replica == 0 && a.retry && a.outcome == BackendOutcome::ok;
        }
        EXPECT_TRUE(retried);
    }
};

TEST_F(ClosedListenerTest, GetIsRetriedOnTheOtherReplica) {
    start_and_close_listener();
    Client client(balancer->port());
    int retried = 0;
    for (int i = 0; i < 4; ++i) {
        auto res = client.get("/work");
        ASSERT_EQ(res.result_int(), 200u);
        EXPECT_EQ(header(res, kReplicaHeader), "0");
        retried += header(res, kRetriedHeader) == "1";
    }
    EXPECT_EQ(retried, 1) << "the refusal takes the replica out at once";
    EXPECT_TRUE(wait_change(1, false, "connection refused (passive)"));
    expect_refused_then_retried(stop_and_take());
}

TEST_F(ClosedListenerTest, PostIsRetriedAfterARefusedConnect) {
    start_and_close_listener();
    Client client(balancer->port());
    int retried = 0;
    for (int i = 0; i < 2; ++i) {
        auto [res, ec] = client.send(http::verb::post, "/orders", "item");
        ASSERT_FALSE(ec) << ec.message();
        ASSERT_EQ(res.result_int(), 200u);
        EXPECT_EQ(res.body(), "replica 0 item");
        retried += header(res, kRetriedHeader) == "1";
    }
    EXPECT_EQ(retried, 1);
    expect_refused_then_retried(stop_and_take());
}

TEST_F(BuiltinBalancerTest, ResetBeforeAnyByteIsNotRetriedWithoutRetryIdempotent) {
    options.retry_idempotent = false;
    start(2);
    Client client(balancer->port());
    auto [res, ec] = client.send(http::verb::get, "/drop");
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 502u);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_EQ(header(res, kRetriedHeader), "");
    const std::string replica = header(res, kReplicaHeader);
    EXPECT_TRUE(replica == "0" || replica == "1");
    auto attempts = stop_and_take();
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].outcome, BackendOutcome::reset);
    EXPECT_EQ(std::to_string(attempts[0].replica), replica);
}

TEST_F(BuiltinBalancerTest, ResetBeforeAnyByteIsRetriedForIdempotentRequests) {
    start(2);
    backends[0]->set_drop(true);
    Client client(balancer->port());
    auto res = client.get("/work");   // round robin starts with replica 0, which drops it
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(header(res, kReplicaHeader), "1");
    EXPECT_EQ(header(res, kRetriedHeader), "1");
    auto attempts = stop_and_take();
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_EQ(attempts[0].outcome, BackendOutcome::reset);
    EXPECT_TRUE(attempts[1].retry);
    EXPECT_EQ(attempts[1].request, attempts[0].request);
}

TEST_F(BuiltinBalancerTest, EveryAttemptFailingIs502WithTheLastReplica) {
    start(2);
    backends[0]->set_drop(true);
    backends[1]->set_drop(true);
    Client client(balancer->port());
    auto [res, ec] = client.send(http::verb::get, "/work");
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 502u);
    EXPECT_EQ(header(res, kReplicaHeader), "1");
    EXPECT_EQ(header(res, kRetriedHeader), "1");
    EXPECT_EQ(stop_and_take().size(), 2u) << "one attempt per replica";
}

TEST_F(BuiltinBalancerTest, NoHealthyReplicaIs503) {
    backends.push_back(std::make_unique<TestBackend>(0));
    backends[0]->set_healthy(false);
    balancer = std::make_unique<BuiltinBalancer>(notify_io, clock, options, nullptr);
    balancer->start();
    balancer->add_replica(0, backends[0]->port());
    ASSERT_TRUE(backends[0]->wait_health_checks(1));
    Client client(balancer->port());
    auto [res, ec] = client.send(http::verb::get, "/work");
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 503u);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_EQ(header(res, kReplicaHeader), "");
    EXPECT_EQ(backends[0]->requests(), 0);
    EXPECT_TRUE(stop_and_take().empty());
}

TEST_F(BuiltinBalancerTest, LeastConnPrefersTheIdleReplica) {
    options.balance = FleetSpec::Balance::least_conn;
    start(2);
    auto slow = std::async(std::launch::async, [port = balancer->port()] { return Client(port).get("/slow"); });
    const int busy = 0;   // on a tie the rotation starts with replica 0
    ASSERT_TRUE(backends[0]->wait_slow_started(1));
    Client client(balancer->port());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(header(client.get("/work"), kReplicaHeader), std::to_string(1 - busy));
    backends[size_t(busy)]->release_slow();
    ASSERT_EQ(slow.wait_for(kWait), std::future_status::ready);
    EXPECT_EQ(slow.get().result_int(), 200u);
}

TEST_F(BuiltinBalancerTest, KeepAliveClientReusesPooledBackendConnections) {
    start(1);
    Client client(balancer->port());
    for (int i = 0; i < 20; ++i) ASSERT_EQ(client.get("/work").result_int(), 200u);
    EXPECT_EQ(backends[0]->traffic_connections(), 1);
    auto attempts = stop_and_take();
    ASSERT_EQ(attempts.size(), 20u);
    EXPECT_FALSE(attempts[0].reused);
    for (size_t i = 1; i < attempts.size(); ++i) EXPECT_TRUE(attempts[i].reused) << i;
    for (size_t i = 1; i < attempts.size(); ++i) EXPECT_LE(attempts[i - 1].started_ns, attempts[i].started_ns);
}

TEST_F(BuiltinBalancerTest, BackendDyingMidBodyBreaksTheClientResponse) {
    start(1);
    Client client(balancer->port());
    auto [res, ec] = client.send(http::verb::get, "/midbody");
    EXPECT_TRUE(ec) << "got a complete response with status " << res.result_int();
    auto attempts = stop_and_take();
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].outcome, BackendOutcome::reset);
    EXPECT_EQ(attempts[0].status, 200);
}

TEST_F(BuiltinBalancerTest, NoAnswerWithinBackendTimeoutIs504) {
    options.backend_timeout = 300ms;
    start(1);
    Client client(balancer->port());
    auto [res, ec] = client.send(http::verb::get, "/slow");
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 504u);
    EXPECT_EQ(header(res, kReplicaHeader), "0");
    EXPECT_FALSE(res.keep_alive());
    backends[0]->release_slow();
    auto attempts = stop_and_take();
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].outcome, BackendOutcome::timeout);
}

TEST_F(BuiltinBalancerTest, StopIsIdempotentAndABusyPortIsABalancerError) {
    start(1);
    BalancerOptions taken = options;
    taken.port = balancer->port();
    BuiltinBalancer second(notify_io, clock, taken, nullptr);
    EXPECT_THROW(second.start(), BalancerError);
    second.stop();
    balancer->stop();
    balancer->stop();
}

}  // namespace
}  // namespace draincheck
