#include "run/scenario_runner.h"

#include "common/duration.h"
#include "common/signals.h"
#include "dependencies/dependency.h"
#include "faults/fault.h"
#include "fleet/replica_set.h"
#include "platforms/connection_attribution.h"
#include "platforms/platform.h"
#include "load/load_generator.h"
#include "proxy/fault_proxy.h"
#include "proxy/socket_owner.h"
#include "supervisor/listener_watch.h"
#include "supervisor/orphan_guard.h"
#include "supervisor/ready_probe.h"
#include "runtimes/target_runtime.h"
#include "supervisor/supervisor.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <system_error>

namespace draincheck {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto kProgressInterval = std::chrono::milliseconds(250);
constexpr auto kDrainProbeTimeout = std::chrono::seconds(1);
constexpr auto kListenerWatchInterval = std::chrono::milliseconds(2);
// After the target and the load are done, how long its output pipes may take to reach EOF
// (a daemonized grandchild can hold them open forever).
constexpr auto kLogDrainGrace = std::chrono::milliseconds(500);
// Beyond the proxy's goodbye hold, before dependencies are stopped: the hold's own timer runs on the
// proxy's thread and may fire a little late.
constexpr auto kSettleMargin = std::chrono::milliseconds(50);

LaunchSpec launch_spec(const RunPlan& plan, RunObserver& observer, std::function<void(pid_t)> on_exit_stop) {
    LaunchSpec spec = plan.launch;
    spec.on_line = [&observer](const LogLine& l) { observer.on_log(l); };
    spec.on_exit_stop = std::move(on_exit_stop);
    return spec;
}

class Run {
public:
    Run(const RunPlan& plan, RunObserver& observer)
        : plan_(plan), spec_(plan.scenario), observer_(observer),
          target_(make_target_runtime(io_, clock_, plan, launch_spec(plan, observer, exit_stop_recorder()))),
          progress_timer_(io_), after_exit_timer_(io_), drain_probe_timer_(io_), listener_timer_(io_), finish_timer_(io_),
          outage_probe_timer_(io_), settle_timer_(io_),
          signals_(io_, SIGINT, SIGTERM) {}

    // Nothing queued may call back into a destroyed run: probes hold their own lifetime, so stop them.
    ~Run() {
        cancel_probes();
        if (cancel_ready_) std::exchange(cancel_ready_, nullptr)();
    }

    RunResult execute(int* aborted_by_signal) {
        result_.scenario = spec_;
        result_.host = plan_.host;
        result_.port = plan_.port;
        result_.argv = plan_.shown_argv;
        watch_signals();
        start_dependencies();
        if (dependencies_.empty()) start_target();
        io_.run();
        if (load_) load_->join();
        if (error_) throw HarnessError(*error_, error_log_ ? *error_log_ : target_->log_tail());
        if (aborted_by_signal) *aborted_by_signal = abort_signal_;
        return collect();
    }

private:
    void emit(EventType type, std::string detail) { emit_at(type, clock_.now_ns(), std::move(detail)); }
    void emit_at(EventType type, int64_t at, std::string detail) { emit_event({type, at, std::move(detail)}); }
    void emit_event(RunEvent e) {
        result_.events.push_back(std::move(e));
        observer_.on_event(result_.events.back());
    }

    // ---- what the target still holds as it exits ----------------------------------------------
    // With dependencies, the target and what it forks are traced: the moment one of them begins to
    // exit, the group's open connections to the dependencies' proxies are the fact that decides
    // whether the target closed them (dependency_checks.cpp).
    std::function<void(pid_t)> exit_stop_recorder() {
        if (plan_.scenario.dependencies.empty() || has_instances(plan_.scenario)) return nullptr;
        return [this](pid_t pid) {
            std::vector<uint16_t> proxy_ports;
            for (const auto& d : plan_.dependencies) proxy_ports.push_back(d.proxy_port);
            ExitStop stop{pid, clock_.now_ns(), pid == target_->pid(), connections_held_by_group(target_->pid(), proxy_ports)};
            if (stop.target || !stop.held.empty())
                emit_at(EventType::note, stop.at_ns,
                        fmt::format("{} {} began to exit holding {} dependency connection{}", stop.target ? "the target" : "process",
                                    pid, stop.held.size(), stop.held.size() == 1 ? "" : "s"));
            result_.exit_stops.push_back(std::move(stop));
        };
    }

    // ---- start-up ---------------------------------------------------------------------------
    // Every dependency is started at once; the target starts when all of them are ready.
    void start_dependencies() {
        for (size_t i = 0; i < spec_.dependencies.size(); ++i) {
            const DependencySpec& spec = spec_.dependencies[i];
            try {
                dependencies_.push_back(std::make_unique<Dependency>(io_, clock_, spec, plan_.dependencies[i],
                                                                     [this](RunEvent e) { on_dependency_event(std::move(e)); }));
            } catch (const std::system_error& e) {
                throw HarnessError("dependency " + spec.name + ": cannot listen on proxy port " +
                                   std::to_string(plan_.dependencies[i].proxy_port) + ": " + e.what());
            }
        }
        for (auto& d : dependencies_) {
            Dependency* dep = d.get();
            try {
                dep->start([this, dep](bool ok, std::string detail) { on_dependency_ready(*dep, ok, detail); });
            } catch (const LaunchError& e) {
                stop_dependencies_now();
                throw HarnessError("dependency " + dep->name() + ": " + e.what());
            }
        }
    }

    void on_dependency_ready(Dependency& d, bool ok, const std::string& detail) {
        if (target_started_ || error_) return;
        if (!ok) {
            error_log_ = d.log_tail();
            return fail_before_target("dependency " + d.name() + " never became ready within " +
                                      format_duration(d.spec().ready.timeout) + " (last probe: " +
                                      detail + ")");
        }
        if (++dependencies_ready_ == dependencies_.size()) start_target();
    }

    void on_dependency_event(RunEvent e) {
        bool went_down = e.type == EventType::dependency_down;
        emit_event(std::move(e));
        if (went_down && target_started_ && !target_exited_) probe_during_outage();
    }

    void start_target() {
        if (aborting_) return fail_before_target("interrupted by " + signal_name(abort_signal_) + " before the target was ready");
        if (has_instances(spec_)) return start_fleet();
        target_started_ = true;
        try {
            target_->start([this](const ExitInfo& e) { on_target_exit(e); });
        } catch (const LaunchError& e) {
            return cannot_start(std::string("target ") + e.what());   // e.g. "target command not found: ..."
        }
        result_.pid = target_->pid();
        result_.exit_trace_error = target_->trace_error();
        for (auto& d : dependencies_) d->set_target_group(target_->pid());   // the target leads its own group
        emit(EventType::spawned, target_->describe());
        cancel_ready_ = async_wait_ready(io_, plan_.host, plan_.port, spec_.target.ready,
                                         [this](bool ok, ProbeResult last) { on_ready(ok, last); });
    }

    // ---- several instances: draincheck's fleet behind its balancer, or a real platform's ----------
    void start_fleet() {
        target_started_ = true;
        fleet_ = make_instance_set(io_, clock_, plan_, [this](RunEvent e) { emit_event(std::move(e)); });
        try {
            fleet_->start([this](std::optional<std::string> error, std::vector<LogLine> log) {
                if (error) {
                    error_log_ = std::move(log);
                    return fail(*error);
                }
                ready_ = true;
                emit(EventType::ready, std::to_string(fleet_->serving()) + (spec_.platform ? " instances" : " replicas") +
                                           " take traffic");
                check_state("before", [this] { start_load(); });
            });
        } catch (const std::exception& e) {   // BalancerError, LaunchError
            fleet_->kill_all();
            return cannot_start(dynamic_cast<const LaunchError*>(&e) ? std::string("target ") + e.what() : e.what());
        }
    }

    // The target (or a replica, or the balancer) could not even be started: without dependencies
    // that is the whole run's error at once; with them, they are stopped first.
    void cannot_start(std::string message) {
        if (dependencies_.empty()) throw HarnessError(message);
        error_ = std::move(message);
        target_exited_ = true;
        finish_dependencies();
    }

    // expect.stateless: state created through one replica, read through the others ("before" the
    // load and its faults, "after" them); then `next`.
    void check_state(std::string when, std::function<void()> next) {
        if (!spec_.expect.stateless || aborting_) return next();
        async_check_state(io_, clock_, plan_.host, static_cast<ReplicaSet&>(*fleet_).serving_replicas(),
                          spec_.fleet->state_probe, when,
                          [this, when, next](std::vector<StateCheck> checks) {
                              size_t failed = 0;
                              for (StateCheck& c : checks) {
                                  failed += !c.ok;
                                  state_checks_.push_back(std::move(c));
                              }
                              emit(EventType::note, "state check " + when + " the faults: " +
                                                        std::to_string(checks.size() - failed) + " of " +
                                                        std::to_string(checks.size()) + " reads found the state");
                              next();
                          });
    }

    // The end of the load, an abort or an error: every replica leaves the balancer and stops.
    void stop_fleet() {
        if (fleet_stopping_) return;
        fleet_stopping_ = true;
        fleet_->stop_all([this] {
            target_exited_ = true;
            maybe_finish();
        });
    }

    // A dependency failed (or the run was interrupted) before the target was started.
    void fail_before_target(std::string message) {
        if (!error_) error_ = std::move(message);
        target_exited_ = true;
        finish_dependencies();
    }

    void on_ready(bool ok, const ProbeResult& last) {
        cancel_ready_ = nullptr;
        if (!ok) {
            fail("target never became ready within " + format_duration(spec_.target.ready.timeout) +
                 " (last probe: " + last.detail + ")");
            return;
        }
        ready_ = true;
        emit(EventType::ready, last.detail);
        start_load();
    }

    void start_load() {
        load_ = std::make_unique<LoadGenerator>(spec_.load, plan_.host, plan_.port, clock_);
        if (spec_.platform) load_->record_connection_ports();   // which instance held which connection
        load_running_ = true;
        int64_t start = load_->start([this] { asio::post(io_, [this] { on_load_finished(); }); });
        result_.load_started_ns = start;
        emit_at(EventType::load_started, start, "");
        for (const FaultSpec& f : spec_.faults) {
            auto timer = std::make_unique<asio::steady_timer>(io_, clock_.at(start + f.at.count()));
            auto fault = std::shared_ptr<Fault>(make_fault(f));
            timer->async_wait([this, fault](const error_code& ec) {
                if (!ec && !target_exited_ && !fleet_stopping_) apply(*fault);
            });
            fault_timers_.push_back(std::move(timer));
        }
        tick_progress();
    }

    void apply(Fault& fault) {
        FaultContext ctx{
            *target_, spec_.target,
            [this](EventType t, std::string d) { emit(t, std::move(d)); },
            [this](int signo, int64_t sent_at) { on_stop_requested(signo, sent_at); },
            [this](const std::string& name) -> Dependency& { return dependency(name); },
            [this](Nanos at, std::function<void()> action) { at_time(at, std::move(action)); },
            [this] { return clock_.now_ns(); },
            spec_.fleet ? static_cast<ReplicaSet*>(fleet_.get()) : nullptr,
            spec_.platform ? static_cast<Platform*>(fleet_.get()) : nullptr,
        };
        fault.apply(ctx);
    }

    Dependency& dependency(const std::string& name) {
        for (auto& d : dependencies_)
            if (d->name() == name) return *d;
        throw std::logic_error("no dependency named " + name);   // the parser checked the names
    }

    // Runs `action` at `at` from the start of load, unless the run is finishing by then.
    void at_time(Nanos at, std::function<void()> action) {
        auto timer = std::make_unique<asio::steady_timer>(io_, clock_.at(result_.load_started_ns + at.count()));
        timer->async_wait([this, action = std::move(action)](const error_code& ec) {
            if (!ec && !finishing_) action();
        });
        fault_timers_.push_back(std::move(timer));
    }

    // ---- dependency outages -----------------------------------------------------------------
    bool any_dependency_down() const {
        return std::any_of(dependencies_.begin(), dependencies_.end(), [](const auto& d) { return d->down(); });
    }

    // While a dependency is down, ask the target whether it is ready, as a load balancer would.
    void probe_during_outage() {
        if (outage_probing_) return;
        outage_probing_ = true;
        outage_probe_timer_.expires_after(spec_.target.ready.interval);
        outage_probe_timer_.async_wait([this](const error_code& ec) {
            outage_probing_ = false;
            if (ec || target_exited_ || !any_dependency_down()) return;
            outage_probing_ = true;
            cancel_outage_probe_ = async_probe_once(io_, plan_.host, plan_.port, spec_.target.ready, kDrainProbeTimeout,
                                                    [this](ProbeResult r) {
                cancel_outage_probe_ = nullptr;
                outage_probing_ = false;
                if (target_exited_ || finishing_) return;
                result_.outage_probes.push_back({clock_.now_ns(), r.ready, r.detail});
                probe_during_outage();
            });
        });
    }

    void cancel_probes() {
        if (cancel_drain_probe_) std::exchange(cancel_drain_probe_, nullptr)();
        if (cancel_outage_probe_) std::exchange(cancel_outage_probe_, nullptr)();
        outage_probing_ = false;
    }

    // ---- the drain --------------------------------------------------------------------------
    void on_stop_requested(int signo, int64_t sent_at) {
        if (!result_.stop_signal_ns) {
            result_.stop_signal_ns = sent_at;
            result_.stop_signal = signo;
            // A load balancer checks every few seconds; give the target one probe interval to react
            // before the first check, so a probe racing the signal is not taken as evidence.
            drain_probe_timer_.expires_after(spec_.target.ready.interval);
            drain_probe_timer_.async_wait([this](const error_code& ec) { if (!ec) probe_drain(); });
            watch_listener();
        }
        arm_kill_after();
    }

    // The target's own stop signal, outside any fault (end of load, draincheck interrupted).
    void stop_target() {
        target_->read_tree_before_signal();
        target_->send_signal(spec_.target.stop_signal);
    }

    void arm_kill_after() {
        target_->kill_after(spec_.target.kill_after, [this](int64_t at) {
            emit_at(EventType::forced_kill, at, "SIGKILL to the process group after " +
                                                    format_duration(spec_.target.kill_after));
        });
    }

    // When did the target close its listening socket? The kernel has no notification for it, so ask
    // every couple of milliseconds while it drains (a few microseconds of netlink each time).
    void watch_listener() {
        if (target_exited_) return;
        auto state = listener_state(plan_.host, plan_.port);
        if (!state) return;   // no sock_diag here: the timeline keeps first_refused
        if (state->listening) {
            result_.listener_last_seen = ListenerSeen{clock_.now_ns(), state->accept_queue};
            listener_timer_.expires_after(kListenerWatchInterval);
            listener_timer_.async_wait([this](const error_code& ec) { if (!ec) watch_listener(); });
            return;
        }
        // A listener that vanished because the process is exiting went with the exit, not before it.
        if (target_->exiting()) return;
        std::string detail = "no socket listens on port " + std::to_string(plan_.port);
        if (const auto& seen = result_.listener_last_seen)
            detail += fmt::format(" (seen listening {:.1f} ms before, {} connection{} waiting to be accepted)",
                                  double(clock_.now_ns() - seen->at_ns) / 1e6, seen->accept_queue,
                                  seen->accept_queue == 1 ? "" : "s");
        emit(EventType::listener_closed, detail);
    }

    // While the target drains, keep asking it whether it is ready, as a load balancer would.
    void probe_drain() {
        if (target_exited_) return;
        cancel_drain_probe_ = async_probe_once(io_, plan_.host, plan_.port, spec_.target.ready, kDrainProbeTimeout,
                         [this](ProbeResult r) {
                             cancel_drain_probe_ = nullptr;
                             if (target_exited_) return;
                             DrainProbe p{clock_.now_ns(), r.ready, r.detail, r.no_answer};
                             if (!p.ready && !first_probe_failure_logged_) {
                                 first_probe_failure_logged_ = true;
                                 emit_at(EventType::ready_probe_failed, p.at_ns, r.detail);
                             }
                             result_.drain_probes.push_back(std::move(p));
                             drain_probe_timer_.expires_after(spec_.target.ready.interval);
                             drain_probe_timer_.async_wait([this](const error_code& ec) {
                                 if (!ec) probe_drain();
                             });
                         });
    }

    void on_target_exit(const ExitInfo& e) {
        target_exited_ = true;
        result_.exit = e;
        emit_at(EventType::exited, e.at_ns, describe_exit(e));
        drain_probe_timer_.cancel();
        listener_timer_.cancel();
        outage_probe_timer_.cancel();
        cancel_probes();
        if (!ready_) {
            if (cancel_ready_) cancel_ready_();
            cancel_ready_ = nullptr;
            if (!aborting_) fail("target exited before it became ready (" + describe_exit(e) + ")");
            return maybe_finish();
        }
        if (load_running_) {
            // Keep firing briefly, to see how the address behaves once nothing listens.
            after_exit_timer_.expires_after(spec_.load.after_exit);
            after_exit_timer_.async_wait([this](const error_code& ec) { if (!ec && load_) load_->stop(); });
        }
        maybe_finish();
    }

    void on_load_finished() {
        load_running_ = false;
        load_finished_ = true;
        result_.load_stopped_ns = load_->stopped_ns();
        result_.load_sending_stopped_ns = load_->sending_stopped_ns();
        emit(EventType::load_stopped, "");
        after_exit_timer_.cancel();
        if (fleet_ && !target_exited_) {
            check_state("after", [this] {
                if (spec_.fleet)
                    emit(EventType::note, "end of load: every replica leaves the balancer and gets " +
                                              signal_name(spec_.target.stop_signal));
                stop_fleet();
            });
        } else if (!target_exited_ && !result_.stop_signal_ns) {
            // No fault stopped the target: stop it the way its platform would, outside the verdict.
            stop_target();
            emit(EventType::note, "end of load: sent " + signal_name(spec_.target.stop_signal) + " to stop the target");
            arm_kill_after();
        }
        maybe_finish();
    }

    // ---- the end ----------------------------------------------------------------------------
    void maybe_finish() {
        if (!target_exited_ || (ready_ && !load_finished_) || finishing_) return;
        finishing_ = true;
        progress_timer_.cancel();
        for (auto& t : fault_timers_) t->cancel();
        target_->kill_group();
        if (fleet_) fleet_->kill_all();
        finish_dependencies();
    }

    // Dependencies stop after the target, each with its own stop signal and grace -- but not before
    // every connection's judgement is settled: a close of the target's that the proxy holds back to
    // see whether the dependency answers a goodbye (FaultProxy::kGoodbyeHold) must have had its whole
    // hold, since nothing the dependency does once draincheck stops it counts for the target.
    void finish_dependencies() {
        finishing_ = true;
        if (dependencies_stopping_) return;
        dependencies_stopping_ = true;
        if (dependencies_.empty()) return finish_processes();
        int64_t last_exit = target_exited_ ? result_.exit.at_ns : clock_.now_ns();
        settle_timer_.expires_at(clock_.at(last_exit + (FaultProxy::kGoodbyeHold + kSettleMargin).count()));
        settle_timer_.async_wait([this](const error_code& ec) { if (!ec) stop_dependencies(); });
    }

    void stop_dependencies() {
        auto left = std::make_shared<size_t>(dependencies_.size());
        for (auto& d : dependencies_) {
            d->stop([this, left] {
                if (--*left == 0) finish_processes();
            });
        }
    }

    void stop_dependencies_now() {
        for (auto& d : dependencies_) d->stop([] {});
    }

    void finish_processes() {
        progress_timer_.cancel();
        for (auto& t : fault_timers_) t->cancel();
        outage_probe_timer_.cancel();
        cancel_probes();
        signals_.cancel();
        for (auto& d : dependencies_) d->close_proxy();
        // Daemons the target started outside its process group go too; the next scenario starts clean.
        if (int left = kill_marked_processes(); left > 0)
            emit(EventType::note, std::to_string(left) + " process(es) left behind by the target were killed");
        // Done once the target's output is read to the end, or after a grace if a daemonized
        // grandchild holds the pipes open. Whatever else is still queued is abandoned.
        finish_timer_.expires_after(kLogDrainGrace);
        finish_timer_.async_wait([this](const error_code& ec) { if (!ec) io_.stop(); });
        if (fleet_) fleet_->on_logs_closed([this] { io_.stop(); });
        else if (target_started_) target_->on_logs_closed([this] { io_.stop(); });
        else io_.stop();
    }

    void fail(std::string message) {
        if (!error_) error_ = std::move(message);
        if (!target_started_) return fail_before_target(*error_);
        if (fleet_) {
            if (load_) load_->stop();
            fleet_->kill_all();
            target_exited_ = true;
            return maybe_finish();
        }
        if (!target_exited_) {
            target_->kill_group();
        } else {
            maybe_finish();
        }
    }

    void watch_signals() {
        signals_.async_wait([this](const error_code& ec, int signo) {
            if (ec) return;
            if (aborting_) {
                // A second interrupt: stop everything now.
                target_->kill_group();
                if (fleet_) fleet_->kill_all();
                kill_marked_processes();
                if (load_) load_->stop();
                io_.stop();
                return;
            }
            aborting_ = true;
            abort_signal_ = signo;
            result_.aborted = true;
            emit(EventType::note, "draincheck interrupted by " + signal_name(signo) + ": stopping");
            if (cancel_ready_) cancel_ready_();
            if (load_) load_->stop();
            if (!ready_) error_ = "interrupted by " + signal_name(signo) + " before the target was ready";
            if (!target_started_) {
                fail_before_target(*error_);
            } else if (fleet_) {
                if (!ready_) fail(*error_);
                else if (!load_running_) stop_fleet();   // else when the load has stopped
            } else if (!target_exited_) {
                stop_target();
                arm_kill_after();
            }
            watch_signals();
        });
    }

    void tick_progress() {
        progress_timer_.expires_after(kProgressInterval);
        progress_timer_.async_wait([this](const error_code& ec) {
            if (ec || !load_ || finishing_) return;   // a tick already queued when the run finished
            LiveStatus s;
            s.elapsed_s = double(clock_.now_ns() - result_.load_started_ns) / 1e9;
            s.load = load_->progress();
            double dt = std::chrono::duration<double>(kProgressInterval).count();
            s.requests_per_s = double(s.load.completed - last_completed_) / dt;
            last_completed_ = s.load.completed;
            s.phase = fleet_ ? "serving " + std::to_string(fleet_->serving()) + "/" + std::to_string(fleet_->wanted())
                             : !result_.stop_signal_ns ? "before" : (!target_exited_ ? "draining" : "after");
            if (!descriptors_reported_ && load_->out_of_descriptors()) {
                descriptors_reported_ = true;   // once: the records say which requests it hit
                emit(EventType::note, "out of file descriptors (EMFILE): new connections fail as connect_error; "
                                      "raise `ulimit -n` or lower the load's connections");
            }
            observer_.on_progress(s);
            tick_progress();
        });
    }

    RunResult collect() {
        if (load_) {
            result_.records = load_->take_records();
            result_.requests_not_recorded = load_->records_lost();
            result_.requests_not_sent = load_->requests_not_sent();
        }
        result_.log_tail = target_->log_tail();
        result_.tree_at_signal = target_->tree_before_signal();
        result_.tree_at_kill = target_->tree_at_kill();
        result_.in_container = target_->in_container();
        if (plan_.container) result_.stop_signal_source = plan_.container->stop_signal_source;
        if (fleet_) {
            result_.fleet = fleet_->result();
            result_.fleet->state_checks = std::move(state_checks_);
            if (load_) attribute_held_connections(result_.records, load_->connection_ports(), *result_.fleet);
        }
        for (auto& d : dependencies_) result_.dependencies.push_back(d->result());
        result_.log_lines_total = target_->log_lines_total();
        if (result_.stop_signal_ns) {
            auto first = std::find_if(result_.records.begin(), result_.records.end(), [&](const RequestRecord& r) {
                return r.outcome == Outcome::refused && int64_t(r.started_us) * 1000 >= *result_.stop_signal_ns;
            });
            if (first != result_.records.end())
                result_.events.push_back({EventType::first_refused, int64_t(first->ended_at_us()) * 1000,
                                          "connection refused"});
        }
        std::stable_sort(result_.events.begin(), result_.events.end(),
                         [](const RunEvent& a, const RunEvent& b) { return a.at_ns < b.at_ns; });
        return std::move(result_);
    }

    const RunPlan& plan_;
    const Scenario& spec_;
    RunObserver& observer_;
    RunClock clock_;
    asio::io_context io_{1};
    std::unique_ptr<TargetRuntime> target_;
    std::vector<std::unique_ptr<Dependency>> dependencies_;
    size_t dependencies_ready_ = 0;
    std::optional<std::vector<LogLine>> error_log_;   // shown with error_ instead of the target's
    std::unique_ptr<InstanceSet> fleet_;             // [fleet] or [platform] runs, instead of target_
    bool fleet_stopping_ = false;
    std::vector<StateCheck> state_checks_;
    std::unique_ptr<LoadGenerator> load_;
    std::vector<std::unique_ptr<asio::steady_timer>> fault_timers_;
    asio::steady_timer progress_timer_, after_exit_timer_, drain_probe_timer_, listener_timer_, finish_timer_,
        outage_probe_timer_, settle_timer_;
    asio::signal_set signals_;
    std::function<void()> cancel_ready_, cancel_drain_probe_, cancel_outage_probe_;
    RunResult result_;
    std::optional<std::string> error_;
    bool ready_ = false, load_running_ = false, load_finished_ = false, target_exited_ = false;
    bool finishing_ = false, aborting_ = false, first_probe_failure_logged_ = false, descriptors_reported_ = false;
    bool target_started_ = false, dependencies_stopping_ = false, outage_probing_ = false;
    int abort_signal_ = 0;
    uint64_t last_completed_ = 0;
};

}  // namespace

RunResult run_scenario(const RunPlan& plan, RunObserver& observer, int* aborted_by_signal) {
    Run run(plan, observer);
    return run.execute(aborted_by_signal);
}

}  // namespace draincheck
