#include "fleet/haproxy_balancer.h"

#include "common/spill_log.h"
#include "fleet/haproxy_admin.h"
#include "fleet/haproxy_config.h"
#include "supervisor/orphan_guard.h"
#include "supervisor/supervisor.h"

#include <boost/asio/steady_timer.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

namespace draincheck {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNotInstalled =
    "haproxy is not installed (Debian package \"haproxy\": apt-get install haproxy)";
constexpr auto kStartTimeout = 5s;      // from launch until the admin socket answers and the port listens
constexpr auto kCheckTimeout = 10s;     // `haproxy -c` on the generated configuration
constexpr auto kStopGrace = 3s;         // after SIGUSR1 (haproxy's own hard-stop-after is 2 s), then SIGKILL
constexpr size_t kErrorTailLines = 15;  // lines of haproxy's output quoted in an error

bool is_executable_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// haproxy in PATH. Debian installs it in /usr/sbin, which a normal user's PATH lacks, so for every
// ".../bin" directory in PATH the sibling ".../sbin" is tried too (after all of PATH).
std::string find_haproxy() {
    const char* env = std::getenv("PATH");
    std::string path = env ? env : "";
    std::vector<std::string> dirs;
    size_t start = 0;
    while (start <= path.size()) {
        size_t colon = path.find(':', start);
        std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!dir.empty()) dirs.push_back(dir);
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    for (const auto& d : dirs)
        if (is_executable_file(fs::path(d) / "haproxy")) return (fs::path(d) / "haproxy").string();
    for (auto d : dirs) {
        while (d.size() > 1 && d.back() == '/') d.pop_back();
        if (d.size() < 4 || d.compare(d.size() - 4, 4, "/bin") != 0) continue;
        fs::path sbin = fs::path(d.substr(0, d.size() - 3) + "sbin") / "haproxy";
        if (is_executable_file(sbin)) return sbin.string();
    }
    return {};
}

std::string make_temp_dir(const std::string& prefix) {
    std::string templ = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!::mkdtemp(templ.data())) throw BalancerError("cannot create a directory for haproxy: " + std::string(std::strerror(errno)));
    return templ;
}

// An ephemeral port on `host` that is free right now (haproxy binds it a moment later).
uint16_t pick_free_port(const std::string& host) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw BalancerError("cannot pick a port for haproxy: " + std::string(std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        int err = errno;
        ::close(fd);
        throw BalancerError("cannot pick a port for haproxy on " + host + ": " + std::strerror(err));
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// A fixed port must be free: haproxy would only say so in output not read yet at startup.
void require_free_port(const std::string& host, uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    int err = 0;
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) err = EINVAL;
    else if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) err = errno;
    ::close(fd);
    if (err)
        throw BalancerError("haproxy cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(err));
}

// True if something accepts TCP connections on host:port (bounded by a short timeout).
bool listens(const std::string& host, uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    bool ok = false;
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
            ok = true;
        } else if (errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, 200) == 1) {
                int err = 0;
                socklen_t len = sizeof(err);
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                ok = err == 0;
            }
        }
    }
    ::close(fd);
    return ok;
}

std::string last_lines(const std::vector<LogLine>& lines, size_t n) {
    std::string out;
    size_t from = lines.size() > n ? lines.size() - n : 0;
    for (size_t i = from; i < lines.size(); ++i) out += "\n  " + lines[i].text;
    return out;
}

std::string describe(const ExitInfo& e) {
    if (e.signal) return "killed by signal " + std::to_string(*e.signal);
    return "exit code " + (e.code ? std::to_string(*e.code) : std::string("?"));
}

int64_t unix_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

struct HaproxyBalancer::Impl {
    Impl(asio::io_context& io, const RunClock& clock, BalancerOptions options, HealthCallback on_health)
        : io(io), clock(clock), options(std::move(options)), on_health(std::move(on_health)), poll_timer(io) {}

    ~Impl() {
        poll_timer.cancel();
        supervisor.reset();   // SIGKILLs haproxy's process group and reaps it
        std::error_code ec;
        for (const auto& dir : created_dirs) fs::remove_all(dir, ec);
        for (const auto& file : created_files) fs::remove(file, ec);
    }

    struct Replica {
        uint16_t port = 0;
        bool active = false;    // in haproxy's rotation (not in maintenance)
        bool healthy = false;   // as last reported
        std::string detail;     // of the last complete health check
        std::string check_status;
        std::optional<int64_t> pending_since;   // a change seen, not reported yet (see poll_health)
        int pending_polls = 0;
    };

    std::string server_ref(int replica) const { return std::string(kHaproxyBackend) + "/" + haproxy_server_name(replica); }

    // Runs a runtime API command whose success is an empty answer.
    void command(const std::string& cmd) {
        std::string answer;
        try {
            answer = admin->run(cmd);
        } catch (const HaproxyAdminError& e) {
            throw BalancerError(e.what());
        }
        if (answer.find_first_not_of(" \r\n") != std::string::npos)
            throw BalancerError("haproxy refused '" + cmd + "': " + answer.substr(0, answer.find_last_not_of(" \r\n") + 1));
    }

    void require_running(const char* what) const {
        if (!started || stopped) throw BalancerError(std::string("haproxy balancer: ") + what + " while not running");
        if (exit) throw BalancerError(std::string("haproxy balancer: ") + what + ": haproxy has exited (" + describe(*exit) + ")");
    }

    // `haproxy -c`: a configuration error is reported in haproxy's own words, with line numbers.
    void check_config(const std::string& exe) {
        asio::io_context check_io;
        LaunchSpec spec;
        spec.argv = {exe, "-c", "-f", config_path};
        spec.cwd = work_dir;
        spec.log_tail_lines = 50;
        Supervisor check(check_io, clock, spec);
        std::optional<ExitInfo> done;
        bool logs_closed = false;
        try {
            check.start([&](const ExitInfo& e) { done = e; });
        } catch (const LaunchError& e) {
            throw BalancerError(std::string("cannot run haproxy: ") + e.what());
        }
        check.on_logs_closed([&] { logs_closed = true; });
        auto deadline = SteadyClock::now() + kCheckTimeout;
        while (!(done && logs_closed) && SteadyClock::now() < deadline) check_io.run_one_for(100ms);
        if (!done) throw BalancerError("haproxy -c did not finish within 10s" + last_lines(check.log_tail(), kErrorTailLines));
        if (done->signal || done->code != 0)
            throw BalancerError("haproxy rejected its configuration " + config_path + " (" + describe(*done) + "):" +
                                last_lines(check.log_tail(), kErrorTailLines));
    }

    [[noreturn]] void fail_start(const std::string& why) {
        std::vector<LogLine> tail = supervisor ? supervisor->log_tail() : std::vector<LogLine>{};
        if (supervisor) supervisor->kill_group();
        throw BalancerError(why + (tail.empty() ? std::string() : "; haproxy's last output:" + last_lines(tail, kErrorTailLines)));
    }

    void on_line(const LogLine& line) {
        auto log = parse_haproxy_request_log(line.text);
        if (!log) return;
        auto replica = haproxy_replica_of(log->server);
        if (!replica) return;   // answered by haproxy itself, no server was tried
        // The line carries the wall-clock time it was emitted, translated with the offset taken at
        // start; it cannot be later than the moment the line was read (else the clock stepped).
        int64_t ended = log->logged_unix_us * 1000 - wall_offset_ns;
        if (ended > line.at_ns) ended = line.at_ns;
        // %Ta runs from the first byte of the request to the last of the response; the attempt starts
        // once the request headers are in (%TR) and it left the queue (%Tw).
        int64_t active_ms = std::max(0, log->t_active) - std::max(0, log->t_request) - std::max(0, log->t_queue);
        BackendAttempt a;
        a.ended_ns = ended;
        a.started_ns = ended - std::max<int64_t>(0, active_ms) * 1'000'000;
        a.request = log->request;
        a.replica = *replica;
        auto result = haproxy_attempt_result(*log);
        a.status = result.status;
        a.outcome = result.outcome;
        a.retry = log->retries > 0;
        attempts.push(a);
    }

    void on_exit(const ExitInfo& e) {
        exit = e;
        poll_timer.cancel();
        if (stopped) return;
        // haproxy died under the fleet: no replica gets traffic any more.
        for (auto& [replica, r] : replicas) {
            if (!r.active || !r.healthy) continue;
            r.healthy = false;
            if (on_health) on_health(HealthChange{e.at_ns, replica, false, "haproxy exited (" + describe(e) + ")"});
        }
    }

    void schedule_poll(Nanos after) {
        poll_timer.expires_after(after);
        poll_timer.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopped || exit) return;
            bool soon = poll_health();
            schedule_poll(soon ? Nanos(2ms) : std::max<Nanos>(options.health.interval, 10ms));
        });
    }

    // Compares each replica's state in `show stat` with the last one reported. Returns true to be
    // called again soon: a change was seen while the next check was already running, and haproxy
    // shows no check code then; the change is reported (with the time it was first seen) once the
    // code is visible again, after a few tries at most.
    bool poll_health() {
        std::string csv;
        try {
            csv = admin->run("show stat " + std::string(kHaproxyBackend) + " 4 -1");
        } catch (const HaproxyAdminError&) {
            return false;   // haproxy is busy or going away: next round (its exit is reported by on_exit)
        }
        const int64_t now = clock.now_ns();
        bool soon = false;
        auto rows = parse_haproxy_show_stat(csv);
        for (auto& [replica, r] : replicas) {
            if (!r.active) continue;
            std::string name = haproxy_server_name(replica);
            auto row = std::find_if(rows.begin(), rows.end(), [&](const HaproxyServerStat& s) {
                return s.backend == kHaproxyBackend && s.server == name;
            });
            if (row == rows.end() || row->maintenance()) continue;
            std::string detail;
            if (!row->check_running) {
                detail = r.detail = row->detail();
                r.check_status = row->check_status;
            } else if (row->check_status == r.check_status) {
                detail = r.detail;   // the same result as the last complete check seen
            }
            bool healthy = row->up();
            if (healthy == r.healthy) {
                r.pending_since.reset();
                r.pending_polls = 0;
                continue;
            }
            if (detail.empty() && r.pending_polls < 5) {
                if (!r.pending_since) r.pending_since = now;
                ++r.pending_polls;
                soon = true;
                continue;
            }
            HealthChange change{r.pending_since.value_or(now), replica, healthy, detail.empty() ? row->detail() : detail};
            r.healthy = healthy;
            r.pending_since.reset();
            r.pending_polls = 0;
            if (on_health) on_health(change);
        }
        return soon;
    }

    asio::io_context& io;
    const RunClock& clock;
    BalancerOptions options;
    HealthCallback on_health;
    asio::steady_timer poll_timer;

    std::string work_dir, config_path, socket_path;
    std::vector<std::string> created_dirs, created_files;
    uint16_t port = 0;
    int64_t wall_offset_ns = 0;   // unix time minus run clock, in ns
    std::unique_ptr<HaproxyAdmin> admin;
    std::unique_ptr<Supervisor> supervisor;
    std::optional<ExitInfo> exit;
    bool started = false, stopped = false;
    std::map<int, Replica> replicas;
    SpillLog<BackendAttempt> attempts{kAttemptLogChunk};
};

HaproxyBalancer::HaproxyBalancer(asio::io_context& io, const RunClock& clock, BalancerOptions options, HealthCallback on_health)
    : impl_(std::make_unique<Impl>(io, clock, std::move(options), std::move(on_health))) {}

HaproxyBalancer::~HaproxyBalancer() = default;

void HaproxyBalancer::start() {
    Impl& s = *impl_;
    if (s.started) throw BalancerError("haproxy balancer: started twice");
    s.started = true;
    std::string exe = find_haproxy();
    if (exe.empty()) throw BalancerError(kNotInstalled);

    // Where the configuration and the admin socket live.
    if (s.options.work_dir.empty()) {
        s.work_dir = make_temp_dir(run_temp_prefix() + "haproxy-");
        s.created_dirs.push_back(s.work_dir);
    } else {
        s.work_dir = fs::absolute(s.options.work_dir).string();
        std::error_code ec;
        if (!fs::exists(s.work_dir, ec)) {
            if (!fs::create_directories(s.work_dir, ec))
                throw BalancerError("cannot create " + s.work_dir + ": " + ec.message());
            s.created_dirs.push_back(s.work_dir);
        }
    }
    s.config_path = s.work_dir + "/haproxy.cfg";
    s.socket_path = s.work_dir + "/admin.sock";
    if (s.socket_path.size() >= 100) {   // a unix socket path has at most 107 bytes
        std::string dir = make_temp_dir("dc-haproxy-");
        s.created_dirs.push_back(dir);
        s.socket_path = dir + "/admin.sock";
    }
    if (s.created_dirs.empty() || s.created_dirs.front() != s.work_dir) s.created_files = {s.config_path, s.socket_path};
    std::error_code ec;
    fs::remove(s.socket_path, ec);   // left over by an earlier run in the same directory

    if (s.options.port) require_free_port(s.options.host, s.options.port);
    s.port = s.options.port ? s.options.port : pick_free_port(s.options.host);
    {
        std::ofstream out(s.config_path, std::ios::trunc);
        out << haproxy_config(s.options, HaproxyConfigParams{s.options.host, s.port, s.socket_path});
        if (!out.flush()) throw BalancerError("cannot write " + s.config_path);
    }
    s.check_config(exe);

    LaunchSpec spec;
    spec.argv = {exe, "-db", "-f", s.config_path};
    spec.cwd = s.work_dir;
    spec.log_tail_lines = 200;
    spec.on_line = [&s](const LogLine& line) { s.on_line(line); };
    s.supervisor = std::make_unique<Supervisor>(s.io, s.clock, spec);
    try {
        s.supervisor->start([&s](const ExitInfo& e) { s.on_exit(e); });
    } catch (const LaunchError& e) {
        if (e.kind == LaunchError::Kind::missing_binary) throw BalancerError(kNotInstalled);
        throw BalancerError(std::string("cannot start haproxy: ") + e.what());
    }
    s.admin = std::make_unique<HaproxyAdmin>(s.socket_path);

    // Until the runtime API answers and the port accepts connections.
    auto deadline = SteadyClock::now() + kStartTimeout;
    for (;;) {
        if (s.supervisor->exiting()) s.fail_start("haproxy exited while starting (" + s.config_path + ")");
        if (s.admin->answers() && listens(s.options.host, s.port)) break;
        if (SteadyClock::now() >= deadline)
            s.fail_start("haproxy did not listen on " + s.options.host + ":" + std::to_string(s.port) + " within 5s");
        std::this_thread::sleep_for(10ms);
    }
    s.wall_offset_ns = unix_now_ns() - s.clock.now_ns();
    s.schedule_poll(std::max<Nanos>(s.options.health.interval, 10ms));
}

uint16_t HaproxyBalancer::port() const { return impl_->port; }

// A server named by the replica's index, with health checks. haproxy adds a server in maintenance;
// leaving maintenance counts it UP at once, so its health is set to DOWN in the same command: it
// gets traffic only after `rise` passed checks.
void HaproxyBalancer::add_replica(int replica, uint16_t port) {
    Impl& s = *impl_;
    s.require_running("add_replica");
    std::string ref = s.server_ref(replica);
    std::string addr = "127.0.0.1";
    auto known = s.replicas.find(replica);
    if (known == s.replicas.end()) {
        std::string answer;
        try {
            answer = s.admin->run("add server " + ref + " " + addr + ":" + std::to_string(port) + " " +
                                  haproxy_server_params(s.options.health));
        } catch (const HaproxyAdminError& e) {
            throw BalancerError(e.what());
        }
        if (answer.find("New server registered") == std::string::npos)
            throw BalancerError("haproxy did not add replica " + std::to_string(replica) + ": " +
                                answer.substr(0, answer.find_last_not_of(" \r\n") + 1));
    } else {
        // The same replica again (a restart): the server exists, maybe in maintenance.
        if (known->second.active) s.command("set server " + ref + " state maint");
        try {
            s.admin->run("set server " + ref + " addr " + addr + " port " + std::to_string(port));
        } catch (const HaproxyAdminError& e) {
            throw BalancerError(e.what());
        }
    }
    s.replicas[replica] = Impl::Replica{port, true, false, {}, {}, {}, 0};
    s.command("enable health " + ref);
    s.command("enable server " + ref + "; set server " + ref + " health down");
}

// Maintenance: haproxy sends the server no new request and stops checking it; requests already on
// it finish.
void HaproxyBalancer::remove_replica(int replica) {
    Impl& s = *impl_;
    auto it = s.replicas.find(replica);
    if (it == s.replicas.end() || !it->second.active) return;
    s.require_running("remove_replica");
    s.command("set server " + s.server_ref(replica) + " state maint");
    it->second.active = false;
    it->second.healthy = false;
}

// Soft stop (SIGUSR1): haproxy closes its listener and idle connections and exits once the
// requests in flight are done, at most 2 s later (hard-stop-after). Blocks until the process is
// gone, SIGKILLing its group after kStopGrace.
void HaproxyBalancer::stop() {
    Impl& s = *impl_;
    if (s.stopped) return;
    s.stopped = true;
    s.poll_timer.cancel();
    if (!s.supervisor || s.exit) return;
    s.supervisor->send_signal(SIGUSR1);
    s.supervisor->kill_after(kStopGrace, [](int64_t) {});
    auto wait_until = [&](SteadyClock::time_point deadline) {
        while (!s.supervisor->exiting() && SteadyClock::now() < deadline) std::this_thread::sleep_for(5ms);
        return s.supervisor->exiting();
    };
    if (!wait_until(SteadyClock::now() + kStopGrace)) {
        s.supervisor->kill_group();
        wait_until(SteadyClock::now() + 1s);
    }
}

// One attempt per request haproxy logged to a replica (best effort):
//  - haproxy writes one log line per client request, so a request it retried appears once, on the
//    replica that gave the final answer, with retry = true; the failed attempts before it are not
//    listed. Requests haproxy answered without any server (none available) are not listed.
//  - times come from the line's emission time (wall clock, microseconds, translated to the run
//    clock with the offset taken at start) minus haproxy's %Ta/%TR/%Tw timers (milliseconds).
//  - `reused` is always false: haproxy 2.6 has no log field for backend connection reuse.
//  - lines are read from haproxy's stdout on the io_context: haproxy's last lines are only in once
//    the io_context has run after stop() (until haproxy's output reached EOF). haproxy drops log
//    lines if its stdout pipe is full.
std::vector<BackendAttempt> HaproxyBalancer::take_attempts() {
    std::vector<BackendAttempt> out;
    impl_->attempts.take_into(out);
    sort_by_start(out);
    return out;
}

std::string_view HaproxyBalancer::name() const { return "haproxy"; }

}  // namespace draincheck
