#include "platforms/pm2/pm2_platform.h"

#include "common/duration.h"
#include "common/signals.h"
#include "proxy/socket_owner.h"
#include "supervisor/ready_probe.h"

#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <cstring>

namespace draincheck {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// How long a new child of PM2's is watched for the app's command line (its exec) before it is taken
// for one of PM2's own helpers.
constexpr auto kIdentifyWithin = std::chrono::seconds(5);
constexpr auto kWatchInterval = std::chrono::milliseconds(20);
// `pm2 kill` stops every worker (kill signal, then SIGKILL after kill_timeout); past this margin
// draincheck kills PM2's whole process group itself.
constexpr auto kTeardownMargin = std::chrono::seconds(10);
constexpr auto kPm2DefaultKillTimeout = std::chrono::milliseconds(1600);

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// PM2 gives each worker its own description in the environment (pm2_env, JSON); its pm_id is the
// instance number `pm2 ls` shows.
std::optional<int> pm2_id_of(pid_t pid) {
    std::string env = read_file("/proc/" + std::to_string(pid) + "/environ");
    auto at = env.find("\"pm_id\":");
    if (at == std::string::npos) return std::nullopt;
    return std::atoi(env.c_str() + at + 8);
}

// Signals a worker is asked to stop with (PM2's kill signal is SIGINT unless told otherwise).
bool is_stop_request(int sig) { return sig == SIGINT || sig == SIGTERM || sig == SIGQUIT || sig == SIGHUP; }

std::string make_home() {
    char path[] = "/tmp/dc-pm2-XXXXXX";   // short: PM2's unix sockets live in it
    if (!::mkdtemp(path)) throw std::runtime_error(std::string("cannot create a PM2_HOME in /tmp: ") + std::strerror(errno));
    return path;
}

}  // namespace

Pm2Platform::Pm2Platform(asio::io_context& io, const RunClock& clock, const RunPlan& plan, EmitEvent emit)
    : io_(io),
      clock_(clock),
      plan_(plan),
      spec_(*plan.scenario.platform),
      emit_(std::move(emit)),
      app_(pm2_app(plan.launch.argv, plan.launch.cwd)),
      wanted_(spec_.instances),
      watch_timer_(io),
      teardown_timer_(io) {}

Pm2Platform::~Pm2Platform() {
    if (cancel_probe_) std::exchange(cancel_probe_, nullptr)();
    operations_.clear();
    kill_command_.reset();
    daemon_.reset();   // kills PM2's process group if it is still alive
    if (!home_.empty()) {
        std::error_code ignored;
        fs::remove_all(home_, ignored);
    }
}

void Pm2Platform::emit(EventType type, const ReplicaResult* r, std::string detail) {
    emit_(RunEvent{type, clock_.now_ns(), std::move(detail), r ? "instance " + std::to_string(r->index) : std::string()});
}

std::unique_ptr<Supervisor> Pm2Platform::pm2_command(std::vector<std::string> args) {
    LaunchSpec l;
    l.argv = {plan_.platform_cli};
    l.argv.insert(l.argv.end(), args.begin(), args.end());
    l.env = pm2_environment(home_);
    l.helper = true;
    return std::make_unique<Supervisor>(io_, clock_, std::move(l));
}

// ---- deploy -------------------------------------------------------------------------------------
void Pm2Platform::start(Started done) {
    started_ = std::move(done);
    home_ = make_home();
    const std::string ecosystem = home_ + "/ecosystem.json";
    std::ofstream(ecosystem) << pm2_ecosystem(plan_.launch, spec_).dump(2) << "\n";

    LaunchSpec l;
    l.argv = {plan_.platform_cli, "start", ecosystem, "--no-daemon"};
    l.cwd = plan_.launch.cwd;
    l.env = pm2_environment(home_);
    l.secrets = plan_.launch.secrets;
    l.log_tail_lines = 400;
    l.on_trace = [this](const TraceEvent& e) { on_trace(e); };
    daemon_ = std::make_unique<Supervisor>(io_, clock_, std::move(l));
    daemon_->start([this](const ExitInfo& e) { on_daemon_exit(e); });
    daemon_pid_ = daemon_->pid();
    start_ns_ = clock_.now_ns();
    if (!daemon_->trace_error().empty()) {
        std::string why = "cannot follow PM2's workers (" + daemon_->trace_error() +
                          "): draincheck learns each worker's signal and real end by tracing PM2";
        return std::exchange(started_, nullptr)(why, daemon_->log_tail());
    }
    emit(EventType::spawned, nullptr,
         fmt::format("PM2 (pm2 start --no-daemon, pid {}): {} {} instance(s) of {}", daemon_pid_, spec_.instances,
                     spec_.exec_mode == PlatformSpec::ExecMode::cluster ? "cluster" : "fork", app_.script));
    watch_new_children();
}

// Which of PM2's children run the app: those whose command line, once they have exec'd, names
// its script. Checked as they are forked, every few milliseconds until they exec.
int Pm2Platform::identify(pid_t pid, Child& c) {
    if (c.instance >= 0) return c.instance;
    std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (app_.script.empty() || cmdline.find(app_.script) == std::string::npos) return -1;
    ReplicaResult r;
    r.index = int(instances_.size());
    r.port = plan_.port;
    r.pid = pid;
    r.spawned_ns = c.forked_ns;
    std::istringstream words(cmdline);
    for (std::string w; words >> w;) r.argv.push_back(w);
    c.instance = r.index;
    instances_.push_back(std::move(r));
    std::optional<int> id = pm2_id_of(pid);
    emit(EventType::replica_spawned, &instances_.back(),
         fmt::format("pid {}{}", pid, id ? fmt::format(", PM2 id {}", *id) : std::string()));
    return c.instance;
}

void Pm2Platform::watch_new_children() {
    bool waiting = false;
    const int64_t now = clock_.now_ns();
    for (auto& [pid, c] : children_) {
        if (c.instance >= 0 || !c.alive) continue;
        if (identify(pid, c) < 0 && now - c.forked_ns < std::chrono::nanoseconds(kIdentifyWithin).count()) waiting = true;
    }
    check_started();
    check_capacity();
    if (!waiting && !started_) return;
    watch_timer_.expires_after(kWatchInterval);
    watch_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) watch_new_children();
    });
}

// Started once `instances` workers run and the shared port answers the target's ready probe (PM2's
// "online" says the process started, not that it listens).
void Pm2Platform::check_started() {
    if (!started_ || probing_ready_) return;
    if (clock_.now_ns() - start_ns_ > plan_.scenario.target.ready.timeout.count()) {
        std::string why = fmt::format("PM2 started {} of {} instances within {}", serving(), spec_.instances,
                                      format_duration(plan_.scenario.target.ready.timeout));
        return std::exchange(started_, nullptr)(why, daemon_->log_tail());
    }
    if (serving() < spec_.instances) return;
    probing_ready_ = true;
    cancel_probe_ = async_wait_ready(io_, plan_.host, plan_.port, plan_.scenario.target.ready,
                                     [this](bool ok, ProbeResult last) {
                                         cancel_probe_ = nullptr;
                                         probing_ready_ = false;
                                         if (!started_) return;
                                         auto done = std::exchange(started_, nullptr);
                                         if (!ok)
                                             return done(fmt::format("PM2's {} instances never answered on port {} "
                                                                     "(last probe: {})", spec_.instances,
                                                                     plan_.port, last.detail),
                                                         daemon_->log_tail());
                                         emit(EventType::ready, nullptr, last.detail);
                                         done(std::nullopt, {});
                                     });
}

// ---- what the tracer sees -----------------------------------------------------------------------
void Pm2Platform::on_trace(const TraceEvent& e) {
    if (e.kind == TraceEvent::Kind::forked) {
        if (e.pid != daemon_pid_) return;   // a worker's own children are its business
        children_[e.child] = Child{clock_.now_ns()};
        if (!started_) watch_new_children();   // (while starting, the watch runs anyway)
        return;
    }
    auto it = children_.find(e.pid);
    if (it == children_.end()) return;
    int index = identify(e.pid, it->second);
    if (e.kind == TraceEvent::Kind::exiting) it->second.alive = false;
    if (index < 0) return;
    ReplicaResult& r = instances_[size_t(index)];
    if (e.kind == TraceEvent::Kind::signalled && is_stop_request(e.signal) && !r.signalled_ns) on_stop_signal(r, e);
    if (e.kind == TraceEvent::Kind::exiting) on_worker_exit(r, e);
}

// The worker is held at its signal-delivery stop: the client connections it holds now are the
// ones in flight at it when PM2 asked it to stop.
void Pm2Platform::on_stop_signal(ReplicaResult& r, const TraceEvent& e) {
    r.signalled_ns = clock_.now_ns();
    r.signal = e.signal;
    r.stopped_by = stopped_by();
    HeldConnections held{r.index, *r.signalled_ns, accepted_peer_ports(r.pid, plan_.port)};
    std::string from = e.sender == daemon_pid_ ? "PM2" : e.sender ? fmt::format("pid {}", e.sender) : "the kernel";
    emit(EventType::replica_signalled, &r,
         fmt::format("{} from {} ({}), holding {} client connection(s)", signal_name(e.signal), from, r.stopped_by,
                     held.client_ports.size()));
    held_.push_back(std::move(held));
}

void Pm2Platform::on_worker_exit(ReplicaResult& r, const TraceEvent& e) {
    r.exit.exited = true;
    r.exit.at_ns = clock_.now_ns();
    if (WIFSIGNALED(e.status)) r.exit.signal = WTERMSIG(e.status);
    else r.exit.code = WEXITSTATUS(e.status);
    // PM2 escalates to SIGKILL once kill_timeout has passed since its kill signal.
    r.exit.forced = r.signalled_ns && r.exit.signal == SIGKILL;
    if (!r.signalled_ns && r.stopped_by.empty()) r.stopped_by = tearing_down_ ? "end of run" : "";
    std::string how = describe_exit(r.exit);
    if (r.exit.forced)
        how += fmt::format(" by PM2 {} after {} (kill_timeout {})", format_duration(Nanos(r.exit.at_ns - *r.signalled_ns)),
                           signal_name(*r.signal), format_duration(spec_.kill_timeout.value_or(kPm2DefaultKillTimeout)));
    emit(EventType::replica_exited, &r, how);
    check_capacity();
}

std::string Pm2Platform::stopped_by() const {
    if (tearing_down_) return "end of run";
    if (running_operations_ > 0 && !faults_.empty()) return faults_.back().action;
    return "PM2";   // on its own: a restart after a crash, max_memory_restart, ...
}

// ---- operations ---------------------------------------------------------------------------------
void Pm2Platform::operate(const FaultSpec& fault) {
    std::vector<std::string> args = {fault.operation, kPm2AppName};
    if (fault.operation == "scale") {
        args.push_back(std::to_string(fault.count));
        wanted_ = fault.count;
    }
    FleetFaultWindow w;
    w.action = "platform " + fault.operation;
    w.started_ns = clock_.now_ns();
    w.wanted_replicas = wanted_;
    faults_.push_back(w);
    Operation op{pm2_command(args), faults_.size() - 1};
    emit(EventType::fleet_fault, nullptr, "pm2 " + fmt::format("{}", fmt::join(args, " ")));
    ++running_operations_;
    size_t window = op.window;
    try {
        op.command->start([this, window, args](const ExitInfo& e) {
            --running_operations_;
            faults_[window].done_ns = e.at_ns;
            emit(EventType::fleet_fault, nullptr, fmt::format("pm2 {} done ({})", args.front(), describe_exit(e)));
            check_capacity();
        });
    } catch (const LaunchError& e) {
        --running_operations_;
        emit(EventType::note, nullptr, std::string("pm2 ") + args.front() + " could not be run: " + e.what());
    }
    operations_.push_back(std::move(op));
}

// After an operation has returned: capacity is back once `wanted` workers run and the port answers.
void Pm2Platform::check_capacity() {
    if (probing_capacity_ || started_ || tearing_down_) return;
    auto open = std::find_if(faults_.begin(), faults_.end(),
                             [](const FleetFaultWindow& w) { return w.done_ns && !w.capacity_restored_ns; });
    if (open == faults_.end() || serving() < open->wanted_replicas) return;
    probing_capacity_ = true;
    size_t window = size_t(open - faults_.begin());
    cancel_probe_ = async_wait_ready(io_, plan_.host, plan_.port, plan_.scenario.target.ready,
                                     [this, window](bool ok, ProbeResult) {
                                         cancel_probe_ = nullptr;
                                         probing_capacity_ = false;
                                         if (ok && serving() >= faults_[window].wanted_replicas &&
                                             !faults_[window].capacity_restored_ns) {
                                             faults_[window].capacity_restored_ns = clock_.now_ns();
                                             emit(EventType::capacity_restored, nullptr,
                                                  fmt::format("{}: {} instances run and the port answers",
                                                              faults_[window].action, serving()));
                                         }
                                         check_capacity();
                                     });
}

unsigned Pm2Platform::serving() const {
    unsigned n = 0;
    for (const auto& [pid, c] : children_)
        if (c.alive && c.instance >= 0 && !instances_[size_t(c.instance)].signalled_ns) ++n;
    return n;
}

// ---- the end ------------------------------------------------------------------------------------
void Pm2Platform::stop_all(std::function<void()> done) {
    tearing_down_ = true;
    all_stopped_ = std::move(done);
    if (cancel_probe_) std::exchange(cancel_probe_, nullptr)();
    if (!daemon_ || daemon_exited_) return asio::post(io_, std::exchange(all_stopped_, nullptr));
    emit(EventType::note, nullptr, "end of load: pm2 kill (every worker gets PM2's kill signal)");
    kill_command_ = pm2_command({"kill"});
    try {
        kill_command_->start([](const ExitInfo&) {});
    } catch (const LaunchError&) {
        daemon_->kill_group();
    }
    auto grace = spec_.kill_timeout.value_or(kPm2DefaultKillTimeout) * std::max(1u, unsigned(instances_.size())) +
                 std::chrono::duration_cast<Nanos>(kTeardownMargin);
    teardown_timer_.expires_after(grace);
    teardown_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || daemon_exited_) return;
        emit(EventType::note, nullptr, "PM2 had not exited after pm2 kill: SIGKILL to its process group");
        daemon_->kill_group();
    });
}

void Pm2Platform::on_daemon_exit(const ExitInfo& e) {
    daemon_exited_ = true;
    teardown_timer_.cancel();
    watch_timer_.cancel();
    emit(EventType::note, nullptr, "PM2 exited (" + describe_exit(e) + ")");
    if (started_) return std::exchange(started_, nullptr)("PM2 exited while starting the app (" + describe_exit(e) + ")",
                                                          daemon_->log_tail());
    if (all_stopped_) asio::post(io_, std::exchange(all_stopped_, nullptr));
}

void Pm2Platform::kill_all() {
    tearing_down_ = true;
    watch_timer_.cancel();
    teardown_timer_.cancel();
    if (cancel_probe_) std::exchange(cancel_probe_, nullptr)();
    for (auto& op : operations_) op.command->kill_group();
    if (kill_command_) kill_command_->kill_group();
    if (daemon_) daemon_->kill_group();
}

void Pm2Platform::on_logs_closed(std::function<void()> done) {
    if (!daemon_) return done();
    daemon_->on_logs_closed(std::move(done));
}

FleetResult Pm2Platform::result() {
    FleetResult f;
    f.platform = "pm2";
    f.lb_port = plan_.port;
    f.replicas = instances_;
    f.faults = faults_;
    f.held_at_signal = held_;
    if (daemon_) f.platform_log = daemon_->log_tail();
    return f;
}

}  // namespace draincheck
