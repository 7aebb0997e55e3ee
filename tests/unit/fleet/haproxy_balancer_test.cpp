// The haproxy balancer: its generated text (pure functions) and a real haproxy in front of small
// in-test HTTP backends, all on loopback.
#include "fleet/haproxy_balancer.h"
#include "fleet/haproxy_config.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <csignal>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

using namespace draincheck;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

namespace {

// ---- generated text ------------------------------------------------------------------------------

BalancerOptions sample_options() {
    BalancerOptions o;
    o.balance = FleetSpec::Balance::least_conn;
    o.health.path = "/healthz";
    o.health.interval = 200ms;
    o.health.timeout = 500ms;
    o.health.fall = 3;
    o.health.rise = 2;
    o.backend_timeout = 7s;
    return o;
}

TEST(HaproxyConfig, ListensOnLoopbackAndChecksHealthAsConfigured) {
    std::string cfg = haproxy_config(sample_options(), {"127.0.0.1", 12345, "/run/x/admin.sock"});
    EXPECT_NE(cfg.find("\n    bind 127.0.0.1:12345\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("stats socket /run/x/admin.sock level admin"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("\n    mode http\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("\n    option http-keep-alive\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("\n    balance leastconn\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("\n    option httpchk GET /healthz\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("\n    timeout check 500\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("\n    timeout server 7000\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("\n    timeout connect 1s\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("retry-on conn-failure empty-response"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("option redispatch 1"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("set-header X-Draincheck-Replica %[srv_name]"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("log stdout format raw local0"), std::string::npos) << cfg;
    EXPECT_EQ(cfg.find("0.0.0.0"), std::string::npos) << cfg;

    std::string server = haproxy_server_params(sample_options().health);
    EXPECT_NE(server.find("check inter 200 "), std::string::npos) << server;
    EXPECT_NE(server.find(" fall 3"), std::string::npos) << server;
    EXPECT_NE(server.find(" rise 2"), std::string::npos) << server;
}

TEST(HaproxyConfig, RoundRobinTcpCheckAndNoResponseRetries) {
    BalancerOptions o;
    o.health.path = "";
    o.retry_idempotent = false;
    std::string cfg = haproxy_config(o, {"127.0.0.1", 8080, "/tmp/a.sock"});
    EXPECT_NE(cfg.find("\n    balance roundrobin\n"), std::string::npos) << cfg;
    EXPECT_EQ(cfg.find("httpchk"), std::string::npos) << cfg;
    EXPECT_EQ(cfg.find("empty-response"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("retries 0\n"), std::string::npos) << cfg;   // a TCP-level balancer: no retry at all
}

TEST(HaproxyConfig, ParsesRequestLogLines) {
    auto log = parse_haproxy_request_log(
        "dc-request id=17 srv=2 retries=+1 status=200 TR=0 Tw=0 Tc=1 Tr=5 Ta=7 term=---- logged=1795692326376119");
    ASSERT_TRUE(log);
    EXPECT_EQ(log->request, 17u);
    EXPECT_EQ(log->server, "2");
    EXPECT_EQ(log->retries, 1);
    EXPECT_TRUE(log->redispatched);
    EXPECT_EQ(log->status, 200);
    EXPECT_EQ(log->t_active, 7);
    EXPECT_EQ(log->logged_unix_us, 1795692326376119);
    EXPECT_EQ(haproxy_replica_of(log->server), 2);
    auto ok = haproxy_attempt_result(*log);
    EXPECT_EQ(ok.outcome, BackendOutcome::ok);
    EXPECT_EQ(ok.status, 200);

    EXPECT_FALSE(parse_haproxy_request_log("Server replicas/0 is UP, reason: Layer7 check passed"));
    EXPECT_FALSE(haproxy_replica_of("<NOSRV>"));

    auto refused = parse_haproxy_request_log("dc-request id=3 srv=1 retries=3 status=503 TR=0 Tw=0 Tc=-1 Tr=-1 Ta=3 term=SC-- logged=1");
    ASSERT_TRUE(refused);
    EXPECT_EQ(haproxy_attempt_result(*refused).outcome, BackendOutcome::refused);
    EXPECT_EQ(haproxy_attempt_result(*refused).status, 0);
    auto reset = parse_haproxy_request_log("dc-request id=4 srv=1 retries=0 status=502 TR=0 Tw=0 Tc=0 Tr=-1 Ta=3 term=SH-- logged=1");
    ASSERT_TRUE(reset);
    EXPECT_EQ(haproxy_attempt_result(*reset).outcome, BackendOutcome::reset);
    auto timeout = parse_haproxy_request_log("dc-request id=5 srv=1 retries=0 status=504 TR=0 Tw=0 Tc=0 Tr=-1 Ta=30000 term=sH-- logged=1");
    ASSERT_TRUE(timeout);
    EXPECT_EQ(haproxy_attempt_result(*timeout).outcome, BackendOutcome::timeout);
    auto error = parse_haproxy_request_log("dc-request id=6 srv=0 retries=0 status=503 TR=0 Tw=0 Tc=0 Tr=2 Ta=2 term=---- logged=1");
    ASSERT_TRUE(error);
    EXPECT_EQ(haproxy_attempt_result(*error).outcome, BackendOutcome::http_error);
    EXPECT_EQ(haproxy_attempt_result(*error).status, 503);
}

TEST(HaproxyConfig, ParsesShowStat) {
    auto rows = parse_haproxy_show_stat(
        "# pxname,svname,status,check_status,check_code,check_desc\n"
        "replicas,0,UP,L7OK,200,Layer7 check passed\n"
        "replicas,1,DOWN 1/2,* L7STS,503,Layer7 wrong status\n"
        "replicas,2,DOWN,L4CON,,Layer4 connection problem\n"
        "replicas,3,MAINT,,,\n"
        "replicas,BACKEND,UP,,,\n");
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_TRUE(rows[0].up());
    EXPECT_EQ(rows[0].detail(), "200");
    EXPECT_FALSE(rows[1].up());
    EXPECT_EQ(rows[1].check_status, "L7STS");
    EXPECT_EQ(rows[1].detail(), "503");
    EXPECT_EQ(rows[2].detail(), "connection refused");
    EXPECT_TRUE(rows[3].maintenance());
    EXPECT_FALSE(rows[3].up());
}

// ---- real haproxy ----------------------------------------------------------------------------

// An HTTP/1.1 backend on its own thread: "/healthz" answers 200 or 503 by `healthy`; anything else
// 200 with body "replica <id>", except that the next `drop_next` of them are read and then the
// connection is closed without an answer.
class Backend {
public:
    explicit Backend(int id) : id_(id), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Backend() {
        io_.stop();
        thread_.join();
    }
    uint16_t port() const { return acceptor_.local_endpoint().port(); }

    std::atomic<bool> healthy{true};
    std::atomic<int> requests{0};   // not counting health checks
    std::atomic<int> drop_next{0};

private:
    struct Session : std::enable_shared_from_this<Session> {
        Session(Backend& b, tcp::socket s) : backend(b), socket(std::move(s)) {}
        void read() {
            req = {};
            http::async_read(socket, buffer, req, [self = shared_from_this()](beast::error_code ec, size_t) {
                if (ec) return;
                self->answer();
            });
        }
        void answer() {
            res = {};
            res.version(11);
            res.keep_alive(req.keep_alive());
            if (req.target() == "/healthz") {
                res.result(backend.healthy ? http::status::ok : http::status::service_unavailable);
            } else {
                ++backend.requests;
                if (backend.drop_next > 0) {
                    --backend.drop_next;
                    beast::error_code ignored;
                    socket.shutdown(tcp::socket::shutdown_both, ignored);
                    socket.close(ignored);
                    return;
                }
                res.result(http::status::ok);
                res.body() = "replica " + std::to_string(backend.id_);
            }
            res.prepare_payload();
            http::async_write(socket, res, [self = shared_from_this()](beast::error_code ec, size_t) {
                if (ec || !self->res.keep_alive()) return;
                self->read();
            });
        }
        Backend& backend;
        tcp::socket socket;
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::response<http::string_body> res;
    };

    void accept() {
        acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
            if (ec) return;
            std::make_shared<Session>(*this, std::move(s))->read();
            accept();
        });
    }

    int id_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
};

struct Reply {
    int status = 0;
    std::string replica;   // X-Draincheck-Replica
    std::string retried;   // X-Draincheck-Retried
    std::string body;
};

// One request on a fresh connection, blocking (bounded by socket timeouts).
Reply request(uint16_t port, const std::string& target = "/work", http::verb method = http::verb::get) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{10, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(false);
    req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    Reply r;
    r.status = res.result_int();
    r.replica = std::string(res[kReplicaHeader]);
    r.retried = std::string(res[kRetriedHeader]);
    r.body = res.body();
    return r;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// This process's children named haproxy (zombies included: they are not gone yet).
std::vector<pid_t> haproxy_children() {
    std::vector<pid_t> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string stat = read_text(e.path() / "stat");
        auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        std::string comm = stat.substr(open + 1, close - open - 1);
        std::istringstream rest(stat.substr(close + 2));
        std::string state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (comm == "haproxy" && ppid == ::getpid()) out.push_back(std::stoi(e.path().filename().string()));
    }
    return out;
}

class HaproxyBalancerTest : public ::testing::Test {
protected:
    std::unique_ptr<HaproxyBalancer> make(BalancerOptions o = {}, std::string health_path = "/healthz") {
        o.health.path = health_path;
        o.health.interval = 50ms;
        o.health.timeout = 1s;
        o.health.fall = 2;
        o.health.rise = 1;
        return std::make_unique<HaproxyBalancer>(io, clock, o, [this](const HealthChange& c) { health.push_back(c); });
    }

    // Runs the io_context until `done` (true) or the bound (false).
    bool run_until(const std::function<bool()>& done, std::chrono::seconds bound = 15s) {
        auto deadline = std::chrono::steady_clock::now() + bound;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            if (io.stopped()) io.restart();
            io.run_for(10ms);
        }
        return true;
    }

    bool healthy(int replica) const {
        bool h = false;
        for (const auto& c : health)
            if (c.replica == replica) h = c.healthy;
        return h;
    }

    // Both backends added and reported healthy.
    void start_two(HaproxyBalancer& lb) {
        lb.start();
        ASSERT_NE(lb.port(), 0);
        lb.add_replica(0, b0.port());
        lb.add_replica(1, b1.port());
        ASSERT_TRUE(run_until([&] { return healthy(0) && healthy(1); })) << "replicas never reported healthy";
    }

    asio::io_context io;
    RunClock clock;
    std::vector<HealthChange> health;
    Backend b0{0}, b1{1};
};

TEST_F(HaproxyBalancerTest, RequestsReachBothReplicasTaggedWithTheirIndex) {
    auto lb = make();
    start_two(*lb);
    EXPECT_EQ(lb->name(), "haproxy");
    std::map<std::string, int> by_replica;
    for (int i = 0; i < 10; ++i) {
        Reply r = request(lb->port());
        ASSERT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "replica " + r.replica);   // the header names the replica that answered
        EXPECT_TRUE(r.retried.empty());
        ++by_replica[r.replica];
    }
    EXPECT_GT(by_replica["0"], 0);
    EXPECT_GT(by_replica["1"], 0);
    EXPECT_EQ(b0.requests + b1.requests, 10);
}

TEST_F(HaproxyBalancerTest, ReplicaFailingItsHealthCheckIsReportedAndGetsNoTraffic) {
    auto lb = make();
    start_two(*lb);
    b1.healthy = false;
    ASSERT_TRUE(run_until([&] { return !healthy(1); })) << "no HealthChange for replica 1";
    const HealthChange& down = health.back();
    EXPECT_EQ(down.replica, 1);
    EXPECT_FALSE(down.healthy);
    EXPECT_EQ(down.detail, "503");
    EXPECT_GT(down.at_ns, 0);
    EXPECT_TRUE(healthy(0));

    int before = b1.requests;
    for (int i = 0; i < 8; ++i) EXPECT_EQ(request(lb->port()).replica, "0");
    EXPECT_EQ(b1.requests, before);

    b1.healthy = true;
    ASSERT_TRUE(run_until([&] { return healthy(1); })) << "replica 1 never came back";
}

TEST_F(HaproxyBalancerTest, RemovedReplicaGetsNoNewTraffic) {
    auto lb = make();
    start_two(*lb);
    lb->remove_replica(1);
    lb->remove_replica(1);   // already out: nothing happens
    int before = b1.requests;
    for (int i = 0; i < 8; ++i) EXPECT_EQ(request(lb->port()).replica, "0");
    EXPECT_EQ(b1.requests, before);

    // Back in (a restarted replica): unhealthy until its checks pass, then it gets traffic again.
    size_t seen_changes = health.size();
    lb->add_replica(1, b1.port());
    ASSERT_TRUE(run_until([&] { return health.size() > seen_changes; })) << "replica 1 never reported healthy again";
    EXPECT_EQ(health.back().replica, 1);
    EXPECT_TRUE(health.back().healthy);
    std::set<std::string> seen;
    for (int i = 0; i < 6; ++i) seen.insert(request(lb->port()).replica);
    EXPECT_EQ(seen, (std::set<std::string>{"0", "1"}));
}

TEST_F(HaproxyBalancerTest, ClosedWithoutAnswerIdempotentRequestIsRetriedOnTheOtherReplica) {
    auto lb = make();
    start_two(*lb);
    b1.drop_next = 1;
    int retried = 0;
    for (int i = 0; i < 6; ++i) {
        Reply r = request(lb->port());
        EXPECT_EQ(r.status, 200);
        if (!r.retried.empty()) {
            ++retried;
            EXPECT_EQ(r.retried, "1");
        }
    }
    EXPECT_EQ(b1.drop_next, 0);
    EXPECT_EQ(retried, 1);

    // POST is not idempotent: the same failure is not retried.
    b0.drop_next = 1;
    b1.drop_next = 1;
    EXPECT_EQ(request(lb->port(), "/work", http::verb::post).status, 502);

    lb->stop();
    std::vector<BackendAttempt> attempts;
    ASSERT_TRUE(run_until([&] {
        for (auto& a : lb->take_attempts()) attempts.push_back(a);
        return attempts.size() >= 7;
    }));
    int retries = 0;
    for (const auto& a : attempts) retries += a.retry;
    EXPECT_EQ(retries, 1);
    EXPECT_EQ(attempts.back().outcome, BackendOutcome::reset);
    EXPECT_EQ(attempts.back().status, 0);
}

TEST_F(HaproxyBalancerTest, WithoutAHealthPathAConnectIsTheCheck) {
    auto lb = make({}, "");
    lb->start();
    lb->add_replica(0, b0.port());
    uint16_t closed;
    {
        Backend gone(9);
        closed = gone.port();
    }
    lb->add_replica(1, closed);   // nothing listens: never healthy
    ASSERT_TRUE(run_until([&] { return healthy(0); }));
    for (int i = 0; i < 6; ++i) EXPECT_EQ(request(lb->port()).replica, "0");
    for (const auto& c : health) EXPECT_EQ(c.replica, 0);
}

TEST_F(HaproxyBalancerTest, HaproxyDyingIsReportedAsEveryReplicaUnhealthy) {
    auto lb = make();
    start_two(*lb);
    auto children = haproxy_children();
    ASSERT_EQ(children.size(), 1u);
    ::kill(children.front(), SIGKILL);
    ASSERT_TRUE(run_until([&] { return !healthy(0) && !healthy(1); }));
    EXPECT_NE(health.back().detail.find("haproxy exited"), std::string::npos) << health.back().detail;
    EXPECT_THROW(lb->add_replica(2, b0.port()), BalancerError);
    lb->stop();
}

TEST_F(HaproxyBalancerTest, AFixedPortInUseIsReported) {
    tcp::acceptor taken(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    BalancerOptions o;
    o.port = taken.local_endpoint().port();
    auto lb = make(o);
    try {
        lb->start();
        FAIL() << "start() succeeded on a port in use";
    } catch (const BalancerError& e) {
        EXPECT_NE(std::string(e.what()).find(std::to_string(o.port)), std::string::npos) << e.what();
    }
    EXPECT_TRUE(haproxy_children().empty());
}

TEST_F(HaproxyBalancerTest, MissingHaproxyNamesThePackage) {
    struct PathGuard {
        std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
        fs::path empty = fs::temp_directory_path() / ("dc-empty-path-" + std::to_string(::getpid()));
        PathGuard() {
            fs::create_directories(empty);
            ::setenv("PATH", empty.c_str(), 1);
        }
        ~PathGuard() {
            ::setenv("PATH", saved.c_str(), 1);
            fs::remove_all(empty);
        }
    } guard;
    auto lb = make();
    try {
        lb->start();
        FAIL() << "start() succeeded without haproxy in PATH";
    } catch (const BalancerError& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("haproxy is not installed"), std::string::npos) << what;
        EXPECT_NE(what.find("\"haproxy\""), std::string::npos) << what;
        EXPECT_NE(what.find("apt-get install haproxy"), std::string::npos) << what;
    }
}

TEST_F(HaproxyBalancerTest, StopLeavesNoHaproxyProcess) {
    ASSERT_TRUE(haproxy_children().empty());
    auto lb = make();
    lb->start();
    auto children = haproxy_children();
    ASSERT_EQ(children.size(), 1u);
    pid_t pid = children.front();
    lb->add_replica(0, b0.port());
    lb->stop();
    lb->stop();   // idempotent
    EXPECT_THROW(lb->add_replica(1, b1.port()), BalancerError);
    ASSERT_TRUE(run_until([&] { return !fs::exists("/proc/" + std::to_string(pid)); })) << "haproxy " << pid << " is still there";
    EXPECT_TRUE(haproxy_children().empty());
}

TEST_F(HaproxyBalancerTest, DestroyedWhileRunningLeavesNoProcessAndNoFiles) {
    fs::path dir = fs::temp_directory_path() / ("dc-haproxy-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    BalancerOptions o;
    o.work_dir = dir.string();
    auto lb = make(o);
    lb->start();
    EXPECT_TRUE(fs::exists(dir / "haproxy.cfg"));
    EXPECT_TRUE(fs::exists(dir / "admin.sock"));
    ASSERT_EQ(haproxy_children().size(), 1u);
    lb.reset();
    EXPECT_TRUE(haproxy_children().empty());
    EXPECT_FALSE(fs::exists(dir));
}

TEST_F(HaproxyBalancerTest, AConfigErrorIsReadable) {
    // A health path with spaces makes haproxy's check line invalid.
    BalancerOptions bad;
    bad.health.path = "/a b c d";
    auto broken = std::make_unique<HaproxyBalancer>(io, clock, bad, nullptr);
    try {
        broken->start();
        FAIL() << "haproxy accepted a broken configuration";
    } catch (const BalancerError& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("haproxy rejected its configuration"), std::string::npos) << what;
        EXPECT_NE(what.find("ALERT"), std::string::npos) << what;
    }
    EXPECT_TRUE(haproxy_children().empty());
}

TEST_F(HaproxyBalancerTest, TakeAttemptsAfterStopHasOneAttemptPerRequest) {
    auto lb = make();
    start_two(*lb);
    int64_t before = clock.now_ns();
    std::multiset<int> served;
    for (int i = 0; i < 9; ++i) served.insert(std::stoi(request(lb->port()).replica));
    int64_t after = clock.now_ns();
    lb->stop();
    std::vector<BackendAttempt> attempts;
    ASSERT_TRUE(run_until([&] {
        for (auto& a : lb->take_attempts()) attempts.push_back(a);
        return attempts.size() >= served.size();
    })) << "only " << attempts.size() << " attempts";
    run_until([] { return false; }, 0s);
    for (auto& a : lb->take_attempts()) attempts.push_back(a);
    ASSERT_EQ(attempts.size(), served.size());
    std::multiset<int> attempted;
    std::set<uint64_t> ids;
    for (const auto& a : attempts) {
        attempted.insert(a.replica);
        ids.insert(a.request);
        EXPECT_EQ(a.status, 200);
        EXPECT_EQ(a.outcome, BackendOutcome::ok);
        EXPECT_FALSE(a.retry);
        EXPECT_LE(a.started_ns, a.ended_ns);
        // Translated to the run clock: within the requests' span (haproxy's timers are in ms).
        EXPECT_GE(a.started_ns, before - 5'000'000);
        EXPECT_LE(a.ended_ns, after + 5'000'000);
    }
    EXPECT_EQ(attempted, served);
    EXPECT_EQ(ids.size(), attempts.size());
    for (size_t i = 1; i < attempts.size(); ++i) EXPECT_LE(attempts[i - 1].started_ns, attempts[i].started_ns);
}

}  // namespace
