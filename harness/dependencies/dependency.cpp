#include "dependencies/dependency.h"

#include "common/duration.h"
#include "common/signals.h"
#include "dependencies/command_ready.h"
#include "supervisor/ready_probe.h"

#include <csignal>
#include <fmt/format.h>

namespace draincheck {
namespace {

std::string describe_toxic(const ToxicSpec& t) {
    static const char* kinds[] = {"latency", "bandwidth", "blackhole", "reset_peer", "slow_close", "limit_data"};
    static const char* directions[] = {"downstream", "upstream", "both"};
    std::string text = kinds[int(t.kind)];
    switch (t.kind) {
    case ToxicSpec::Kind::latency:
        text += " " + format_duration(t.latency);
        if (t.jitter.count()) text += " ±" + format_duration(t.jitter);
        break;
    case ToxicSpec::Kind::bandwidth: text += fmt::format(" {} KB/s", t.rate / 1000); break;
    case ToxicSpec::Kind::reset_peer: text += " after " + format_duration(t.timeout); break;
    case ToxicSpec::Kind::slow_close: text += " " + format_duration(t.delay); break;
    case ToxicSpec::Kind::limit_data: text += fmt::format(" {} bytes", t.bytes); break;
    case ToxicSpec::Kind::blackhole: break;
    }
    return text + " " + directions[int(t.direction)];
}

FaultProxy::Options proxy_options(const DependencyPlan& plan) {
    FaultProxy::Options o;
    o.listen_port = plan.proxy_port;
    o.upstream_port = plan.port;
    o.find_owners = true;
    return o;
}

}  // namespace

Dependency::Dependency(boost::asio::io_context& io, const RunClock& clock, const DependencySpec& spec,
                       const DependencyPlan& plan, Emit emit)
    : io_(io), clock_(clock), spec_(spec), plan_(plan), emit_(std::move(emit)), proxy_(clock, proxy_options(plan)) {}

Dependency::~Dependency() {
    if (cancel_ready_) cancel_ready_();
    proxy_.stop();
}

void Dependency::emit(EventType type, std::string detail) { emit_({type, clock_.now_ns(), std::move(detail), spec_.name}); }

void Dependency::start(OnReady on_ready) {
    proxy_.start();
    spawn();
    wait_ready(std::move(on_ready));
}

void Dependency::spawn() {
    if (process_) {
        auto tail = process_->log_tail();
        earlier_logs_.insert(earlier_logs_.end(), tail.begin(), tail.end());
    }
    // An image runs as a new container each time (a restart too), on the host's network.
    std::optional<ContainerPlan> container;
    if (spec_.container) container = container_run(*spec_.container, plan_.launch, "the scenario");
    process_ = make_runtime(io_, clock_, plan_.launch, container);
    expected_exit_ = false;
    process_->start([this](const ExitInfo& e) { on_exit(e); });
    emit(EventType::dependency_spawned, process_->describe());
}

void Dependency::wait_ready(OnReady on_ready) {
    auto done = [this, on_ready = std::move(on_ready)](bool ok, std::string detail) {
        cancel_ready_ = nullptr;
        if (ok) emit(EventType::dependency_ready, detail);
        on_ready(ok, std::move(detail));
    };
    const auto& r = spec_.ready;
    if (r.kind == DependencySpec::Ready::Kind::command) {
        LaunchSpec probe;
        probe.argv = plan_.ready_argv;
        probe.cwd = spec_.cwd;
        cancel_ready_ = async_wait_command_ready(io_, clock_, std::move(probe), r.timeout, r.interval, std::move(done));
    } else {
        ReadyProbe probe;
        probe.kind = ReadyProbe::Kind::tcp;
        probe.timeout = r.timeout;
        probe.interval = r.interval;
        cancel_ready_ = async_wait_ready(io_, "127.0.0.1", plan_.port, probe,
                                         [done = std::move(done)](bool ok, ProbeResult last) { done(ok, last.detail); });
    }
}

void Dependency::on_exit(const ExitInfo& e) {
    emit(EventType::dependency_exited, describe_exit(e));
    if (!expected_exit_ && !down()) begin_outage("exited", "exited by itself (" + describe_exit(e) + ")");
    if (restart_pending_) {
        // Started again once the old process's output is read to the end, so its log is whole.
        // The handler belongs to the old supervisor: it dies with it, and so never outlives this.
        process_->on_logs_closed([this] {
            if (!std::exchange(restart_pending_, false)) return;   // stopped meanwhile
            restart();
        });
        return;
    }
    if (on_stopped_) {
        auto done = std::move(on_stopped_);
        on_stopped_ = nullptr;
        done();
    }
}

void Dependency::begin_outage(const std::string& how, const std::string& detail) {
    outages_.push_back({clock_.now_ns(), std::nullopt, how});
    emit(EventType::dependency_down, detail);
}

void Dependency::end_outage(const std::string& detail) {
    if (!down()) return;
    outages_.back().up_ns = clock_.now_ns();
    emit(EventType::dependency_up, detail);
}

void Dependency::kill() {
    if (!process_ || !process_->running()) return;
    expected_exit_ = true;
    proxy_.harness_acts_on_dependency();
    // The outage starts before the kill: the target may notice within microseconds.
    if (!down()) begin_outage("killed", "SIGKILL to its process group");
    process_->kill_group();
    // The kernel resets a dead process's connections; the proxy passes that on to the target.
    proxy_.reset_all("dependency killed");
}

void Dependency::freeze() {
    if (!process_ || !process_->running()) return;
    if (!down()) begin_outage("frozen", "SIGSTOP to its process group");
    process_->signal_group(SIGSTOP);
}

void Dependency::thaw() {
    if (!process_ || !process_->running()) return;
    process_->signal_group(SIGCONT);
    if (down() && outages_.back().how == "frozen") end_outage("SIGCONT: answering again");
}

void Dependency::restart() {
    if (cancel_ready_) return;   // a restart is already waiting for readiness
    if (process_ && process_->running()) {
        expected_exit_ = true;
        restart_pending_ = true;
        proxy_.harness_acts_on_dependency();
        if (!down()) begin_outage("restarting", "restarting: " + signal_name(spec_.stop_signal) + " sent");
        process_->signal_group(SIGCONT);   // a frozen process cannot handle its stop signal
        process_->send_signal(spec_.stop_signal);
        process_->kill_after(spec_.kill_after, [](int64_t) {});
        return;
    }
    try {
        spawn();
    } catch (const LaunchError& e) {
        emit(EventType::note, std::string("cannot restart: ") + e.what());
        return;
    }
    wait_ready([this](bool ok, std::string detail) {
        if (ok) end_outage("restarted and ready");
        else emit(EventType::note, "not ready again within " + format_duration(spec_.ready.timeout) + " (" + detail + ")");
    });
}

uint64_t Dependency::add_toxic(const ToxicSpec& toxic) {
    uint64_t id = proxy_.add_toxic(toxic);
    emit(EventType::toxic_added, describe_toxic(toxic));
    return id;
}

void Dependency::remove_toxic(uint64_t id) {
    proxy_.remove_toxic(id);
    emit(EventType::toxic_removed, "toxic " + std::to_string(id));
}

void Dependency::stop(std::function<void()> done) {
    if (cancel_ready_) {
        cancel_ready_();
        cancel_ready_ = nullptr;
    }
    restart_pending_ = false;
    if (!process_ || !process_->running()) return done();
    expected_exit_ = true;
    proxy_.harness_acts_on_dependency();
    on_stopped_ = std::move(done);
    process_->signal_group(SIGCONT);
    process_->send_signal(spec_.stop_signal);
    process_->kill_after(spec_.kill_after, [](int64_t) {});
}

void Dependency::close_proxy() { proxy_.stop(); }

std::vector<LogLine> Dependency::log_tail() const {
    std::vector<LogLine> lines = earlier_logs_;
    if (process_) {
        auto tail = process_->log_tail();
        lines.insert(lines.end(), tail.begin(), tail.end());
    }
    // The same bound as one process's tail, however often it was restarted.
    if (lines.size() > plan_.launch.log_tail_lines)
        lines.erase(lines.begin(), lines.end() - std::ptrdiff_t(plan_.launch.log_tail_lines));
    return lines;
}

DependencyResult Dependency::result() const {
    DependencyResult r;
    r.name = spec_.name;
    r.port = plan_.port;
    r.proxy_port = plan_.proxy_port;
    r.argv = plan_.launch.argv;
    r.connections = proxy_.connections();
    r.outages = outages_;
    r.log_tail = log_tail();
    return r;
}

}  // namespace draincheck
