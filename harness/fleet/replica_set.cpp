#include "fleet/replica_set.h"

#include "runtimes/target_runtime.h"

#include "common/duration.h"
#include "common/signals.h"
#include "supervisor/ready_probe.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <csignal>
#include <random>

namespace draincheck {

namespace asio = boost::asio;
using boost::system::error_code;

struct ReplicaSet::Replica {
    enum class State {
        starting,   // spawned, its own ready probe not passed yet
        joining,    // added to the balancer, health checks not passed yet
        serving,    // the balancer sends it traffic
        leaving,    // taken out (or about to get its stop signal)
        exited,
    };
    int index = 0;
    uint16_t port = 0;
    std::string subject;                  // "replica N"
    std::unique_ptr<TargetRuntime> process;
    ReplicaResult result;
    State state = State::starting;
    bool healthy = false;                 // as the balancer's checks last said
    bool in_balancer = false;             // added and not removed
    bool killed = false;                  // kill_replica: left for the health checks to find
    std::function<void()> cancel_ready;
    std::function<void()> cancel_health_check;   // the one check of a replica that never became healthy
    std::unique_ptr<asio::steady_timer> timer;   // healthy deadline, then the deregistration delay

    bool alive() const { return state != State::exited; }
    // In the balancer, and its health checks passed.
    bool taking_traffic() const { return state == State::serving && healthy && in_balancer; }
    // A candidate for a fault: alive, not on its way out, not crashed.
    bool in_service() const { return alive() && state != State::leaving && !killed; }
};

ReplicaSet::ReplicaSet(asio::io_context& io, const RunClock& clock, const RunPlan& plan, Emit emit)
    : io_(io), clock_(clock), plan_(plan), spec_(*plan.scenario.fleet), emit_(std::move(emit)) {}

ReplicaSet::~ReplicaSet() {
    // Probes hold their own lifetime: stop them, so none calls back into this set once it is gone.
    // (Timers and supervisors die with their replica and call nothing back then.)
    for (auto& r : replicas_) {
        if (r->cancel_ready) std::exchange(r->cancel_ready, nullptr)();
        if (r->cancel_health_check) std::exchange(r->cancel_health_check, nullptr)();
    }
    if (balancer_) balancer_->stop();
}

void ReplicaSet::emit(EventType type, const Replica* r, std::string detail, std::optional<int64_t> at) {
    emit_(RunEvent{type, at.value_or(clock_.now_ns()), std::move(detail), r ? r->subject : std::string()});
}

// ---- start-up -----------------------------------------------------------------------------------
void ReplicaSet::start(Started done) {
    started_ = std::move(done);
    BalancerOptions o = balancer_options(plan_.host, plan_.port, spec_.health, plan_.scenario.load.timeout);
    o.balance = spec_.balance;
    o.retry_idempotent = spec_.retry_idempotent;
    balancer_ = make_balancer(spec_.lb, io_, clock_, o, [this](const HealthChange& h) { on_health(h); });
    balancer_->start();
    emit(EventType::note, nullptr, std::string(balancer_->name()) + " load balancer listening on " + plan_.host + ":" +
                                       std::to_string(balancer_->port()));
    wanted_ = spec_.replicas;
    for (unsigned i = 0; i < spec_.replicas; ++i) launch();
}

ReplicaSet::Replica& ReplicaSet::launch() {
    auto owned = std::make_unique<Replica>();
    Replica& r = *owned;
    r.index = int(replicas_.size());
    r.subject = "replica " + std::to_string(r.index);
    r.port = free_loopback_port();
    LaunchSpec launch = target_launch(plan_, r.index, r.port);
    r.result.index = r.index;
    r.result.port = r.port;
    r.result.argv = launch.argv;
    r.process = make_target_runtime(io_, clock_, plan_, std::move(launch), r.index);
    replicas_.push_back(std::move(owned));
    r.process->start([this, &r](const ExitInfo& e) { on_exit(r, e); });   // throws LaunchError
    r.result.pid = r.process->pid();
    r.result.spawned_ns = clock_.now_ns();
    emit(EventType::replica_spawned, &r, r.process->describe() + ", port " + std::to_string(r.port));
    r.cancel_ready = async_wait_ready(io_, plan_.host, r.port, plan_.scenario.target.ready,
                                      [this, &r](bool ok, ProbeResult last) { on_ready(r, ok, last.detail); });
    return r;
}

void ReplicaSet::on_ready(Replica& r, bool ok, const std::string& detail) {
    r.cancel_ready = nullptr;
    if (r.state != Replica::State::starting) return;
    if (!ok) {
        cannot_serve(r, r.subject + " never became ready within " +
                            format_duration(plan_.scenario.target.ready.timeout) + " (last probe: " + detail + ")");
        return check_progress();
    }
    r.result.ready_ns = clock_.now_ns();
    emit(EventType::replica_ready, &r, detail);
    r.state = Replica::State::joining;
    r.in_balancer = true;
    balancer_->add_replica(r.index, r.port);
    // Healthy in the balancer within the ready timeout, or the replica cannot serve (a health path
    // that answers 404, say): at start-up that ends the run with the replica's output.
    r.timer = std::make_unique<asio::steady_timer>(io_, plan_.scenario.target.ready.timeout);
    r.timer->async_wait([this, &r](const error_code& ec) {
        if (ec || r.state != Replica::State::joining) return;
        // The balancer reports changes only; ask once more, the balancer's way, to say what it sees.
        ReadyProbe check;
        check.kind = spec_.health.path.empty() ? ReadyProbe::Kind::tcp : ReadyProbe::Kind::http;
        check.http_path = spec_.health.path;
        r.cancel_health_check = async_probe_once(io_, plan_.host, r.port, check, spec_.health.timeout, [this, &r](ProbeResult p) {
            r.cancel_health_check = nullptr;
            if (r.state != Replica::State::joining) return;
            std::string what = spec_.health.path.empty() ? "TCP connect" : "GET " + spec_.health.path;
            cannot_serve(r, r.subject + " is ready but never became healthy in the load balancer within " +
                                format_duration(plan_.scenario.target.ready.timeout) + " (health check " + what +
                                ": " + p.detail + ")");
        });
    });
}

// At start-up a replica that cannot serve ends the run, with its output; later it is a note.
void ReplicaSet::cannot_serve(Replica& r, const std::string& why) {
    if (started_) return std::exchange(started_, nullptr)(why, r.process->log_tail());
    emit(EventType::note, &r, why);
}

void ReplicaSet::on_health(const HealthChange& h) {
    health_.push_back(h);
    if (h.replica < 0 || size_t(h.replica) >= replicas_.size()) return;
    Replica& r = *replicas_[size_t(h.replica)];
    if (!r.in_balancer || h.healthy == r.healthy) return;
    r.healthy = h.healthy;
    if (h.healthy) {
        if (!r.result.in_lb_ns) r.result.in_lb_ns = h.at_ns;
        if (r.state == Replica::State::joining) r.state = Replica::State::serving;
        emit(EventType::lb_in, &r, "health checks passed (" + h.detail + ")", h.at_ns);
    } else {
        emit(EventType::lb_out, &r, "health checks failed (" + h.detail + ")", h.at_ns);
    }
    check_progress();
}

void ReplicaSet::take_out_of_balancer(Replica& r, const std::string& why) {
    if (!r.in_balancer) return;
    balancer_->remove_replica(r.index);
    r.in_balancer = false;
    r.result.out_lb_ns = clock_.now_ns();
    emit(EventType::lb_out, &r, why, r.result.out_lb_ns);
}

void ReplicaSet::on_exit(Replica& r, const ExitInfo& e) {
    bool was_starting = r.state == Replica::State::starting || r.state == Replica::State::joining;
    r.state = Replica::State::exited;
    r.result.exit = e;
    if (r.cancel_ready) std::exchange(r.cancel_ready, nullptr)();
    if (r.timer) r.timer->cancel();
    emit(EventType::replica_exited, &r, describe_exit(e), e.at_ns);
    // A crashed replica stays in the balancer until its health checks take it out (the test of them).
    if (!r.killed) take_out_of_balancer(r, "removed (exited)");
    if (was_starting && started_ && !stopping_all_)
        return std::exchange(started_, nullptr)(r.subject + " exited before it could serve (" + describe_exit(e) + ")",
                                                r.process->log_tail());
    check_progress();
}

// ---- taking replicas out ------------------------------------------------------------------------
void ReplicaSet::stop_gracefully(Replica& r, const std::string& by) {
    if (!r.alive() || r.state == Replica::State::leaving) return;
    r.result.stopped_by = by;
    if (r.cancel_ready) std::exchange(r.cancel_ready, nullptr)();
    r.state = Replica::State::leaving;
    // With a deregistration delay the balancer is told first, as it should be. Without one the
    // stop signal goes out as the balancer is being told, which is the Kubernetes race: endpoint
    // removal reaches the proxies only later, so the balancer finds out from its own checks (and
    // from refused connections) and is told only once the replica has exited.
    bool delayed = spec_.deregistration_delay.count() > 0;
    if (delayed) take_out_of_balancer(r, "removed (" + by + ")");
    auto signal = [this, &r] {
        if (!r.alive()) return;
        int signo = plan_.scenario.target.stop_signal;
        int64_t sent_at = clock_.now_ns();
        if (!r.process->send_signal(signo)) return;
        r.result.signalled_ns = sent_at;
        r.result.signal = signo;
        emit(EventType::replica_signalled, &r, signal_name(signo), sent_at);
        r.process->kill_after(plan_.scenario.target.kill_after, [this, &r](int64_t at) {
            emit(EventType::note, &r, "SIGKILL to its process group after " +
                                          format_duration(plan_.scenario.target.kill_after), at);
        });
    };
    if (!delayed) return signal();
    r.timer = std::make_unique<asio::steady_timer>(io_, spec_.deregistration_delay);
    r.timer->async_wait([signal](const error_code& ec) { if (!ec) signal(); });
}

std::vector<ReplicaSet::Replica*> ReplicaSet::pick(unsigned count, FaultSpec::Pick how, uint64_t seed) {
    std::vector<Replica*> candidates;
    for (auto& r : replicas_)
        if (r->in_service() && (!roll_ || std::find(roll_->fresh.begin(), roll_->fresh.end(), r.get()) == roll_->fresh.end()))
            candidates.push_back(r.get());
    if (how == FaultSpec::Pick::newest) std::reverse(candidates.begin(), candidates.end());
    if (how == FaultSpec::Pick::random) {
        std::mt19937_64 rng(seed);
        std::shuffle(candidates.begin(), candidates.end(), rng);
    }
    if (candidates.size() > count) candidates.resize(count);
    return candidates;
}

namespace {
std::string subjects(const std::vector<ReplicaSet::Replica*>& rs) {
    std::string out;
    for (auto* r : rs) out += (out.empty() ? "" : ", ") + r->subject;
    return out.empty() ? "no replica" : out;
}
}  // namespace

void ReplicaSet::scale_down(unsigned count, FaultSpec::Pick how, uint64_t seed) {
    std::vector<Replica*> victims = pick(count, how, seed);
    wanted_ -= std::min<unsigned>(wanted_, unsigned(victims.size()));
    faults_.push_back({"scale_down", clock_.now_ns(), std::nullopt, std::nullopt, wanted_});
    emit(EventType::fleet_fault, nullptr, "scale_down: " + subjects(victims));
    for (Replica* v : victims) stop_gracefully(*v, "scale_down");
    pending_.push_back({faults_.size() - 1, {}, victims});
    check_progress();
}

void ReplicaSet::scale_up(unsigned count) {
    wanted_ += count;
    faults_.push_back({"scale_up", clock_.now_ns(), std::nullopt, std::nullopt, wanted_});
    std::vector<Replica*> fresh;
    for (unsigned i = 0; i < count; ++i) fresh.push_back(&launch());
    emit(EventType::fleet_fault, nullptr, "scale_up: " + subjects(fresh));
    pending_.push_back({faults_.size() - 1, fresh, {}});
    check_progress();
}

void ReplicaSet::kill_replica(unsigned count, FaultSpec::Pick how, uint64_t seed) {
    std::vector<Replica*> victims = pick(count, how, seed);
    wanted_ -= std::min<unsigned>(wanted_, unsigned(victims.size()));
    int64_t now = clock_.now_ns();
    faults_.push_back({"kill_replica", now, now, std::nullopt, wanted_});
    emit(EventType::fleet_fault, nullptr, "kill_replica: " + subjects(victims));
    for (Replica* v : victims) {
        // A crash: no goodbye to the balancer, whose health checks must find out.
        v->killed = true;
        v->result.stopped_by = "kill_replica";
        v->result.signalled_ns = clock_.now_ns();
        v->result.signal = SIGKILL;
        if (v->cancel_ready) std::exchange(v->cancel_ready, nullptr)();
        v->process->kill_group();
        emit(EventType::replica_signalled, v, "KILL", v->result.signalled_ns);
    }
}

void ReplicaSet::rolling_restart(unsigned max_surge, unsigned max_unavailable) {
    // A deployment that starts while another is rolling waits for it, as a platform queues rollouts.
    if (roll_) {
        emit(EventType::note, nullptr, "rolling_restart waits for the one in progress");
        queued_rolls_.push_back({max_surge, max_unavailable});
        return;
    }
    Roll roll;
    for (auto& r : replicas_)
        if (r->in_service()) roll.old.push_back(r.get());
    roll.target = unsigned(roll.old.size());
    roll.surge = max_surge;
    roll.unavailable = max_unavailable;
    faults_.push_back({"rolling_restart", clock_.now_ns(), std::nullopt, std::nullopt, roll.target});
    roll.window = faults_.size() - 1;
    emit(EventType::fleet_fault, nullptr, "rolling_restart: replacing " + subjects(roll.old) + " (max_surge " +
                                              std::to_string(max_surge) + ", max_unavailable " +
                                              std::to_string(max_unavailable) + ")");
    roll_ = std::move(roll);
    advance_roll();
}

unsigned ReplicaSet::serving() const {
    unsigned n = 0;
    for (const auto& r : replicas_) n += r->taking_traffic();
    return n;
}

unsigned ReplicaSet::wanted() const { return wanted_; }

std::vector<ReplicaAddress> ReplicaSet::serving_replicas() const {
    std::vector<ReplicaAddress> out;
    for (const auto& r : replicas_)
        if (r->taking_traffic()) out.push_back({r->index, r->port});
    return out;
}

// As a platform deploys: never more than target + max_surge replicas, never fewer than
// target - max_unavailable taking traffic; an old replica is stopped only when that still holds.
void ReplicaSet::advance_roll() {
    if (!roll_ || stopping_all_) return;
    Roll& roll = *roll_;
    for (;;) {
        bool changed = false;
        // Stop an old one if enough others take traffic.
        while (!roll.old.empty() && serving() >= 1 + roll.target - std::min(roll.target, roll.unavailable)) {
            Replica* old = roll.old.front();
            roll.old.erase(roll.old.begin());
            if (old->in_service()) stop_gracefully(*old, "rolling_restart");
            changed = true;
        }
        // Start a new one while under the surge limit.
        unsigned running = unsigned(roll.old.size());
        for (Replica* f : roll.fresh) running += f->alive();
        if (roll.fresh.size() < roll.target && running < roll.target + roll.surge) {
            roll.fresh.push_back(&launch());
            changed = true;
        }
        if (!changed) break;
    }
    bool fresh_serving = std::all_of(roll.fresh.begin(), roll.fresh.end(), [](Replica* f) { return f->taking_traffic(); });
    bool old_gone = std::none_of(replicas_.begin(), replicas_.end(), [](const auto& r) {
        return r->result.stopped_by == "rolling_restart" && r->alive();
    });
    if (roll.old.empty() && roll.fresh.size() == roll.target && fresh_serving) {
        FleetFaultWindow& w = faults_[roll.window];
        if (!w.capacity_restored_ns) {
            w.capacity_restored_ns = clock_.now_ns();
            emit(EventType::capacity_restored, nullptr, "rolling_restart: " + std::to_string(roll.target) +
                                                            " new replicas take traffic");
        }
        if (old_gone) {
            w.done_ns = clock_.now_ns();
            emit(EventType::fleet_fault, nullptr, "rolling_restart done");
            roll_.reset();
            if (!queued_rolls_.empty() && !stopping_all_) {
                auto [surge, unavailable] = queued_rolls_.front();
                queued_rolls_.erase(queued_rolls_.begin());
                rolling_restart(surge, unavailable);
            }
        }
    }
}

void ReplicaSet::check_progress() {
    if (started_ && serving() >= spec_.replicas) std::exchange(started_, nullptr)(std::nullopt, {});
    for (size_t i = 0; i < pending_.size();) {
        Pending& p = pending_[i];
        bool in = std::all_of(p.waiting_in.begin(), p.waiting_in.end(), [](Replica* r) { return r->taking_traffic(); });
        bool out = std::none_of(p.waiting_exit.begin(), p.waiting_exit.end(), [](Replica* r) { return r->alive(); });
        if (!in || !out) {
            ++i;
            continue;
        }
        FleetFaultWindow& w = faults_[p.window];
        w.done_ns = clock_.now_ns();
        if (!p.waiting_in.empty()) {
            w.capacity_restored_ns = w.done_ns;
            emit(EventType::capacity_restored, nullptr, w.action + ": " + subjects(p.waiting_in) + " take traffic");
        }
        emit(EventType::fleet_fault, nullptr, w.action + " done");
        pending_.erase(pending_.begin() + long(i));
    }
    advance_roll();
    if (stopping_all_ && all_stopped_ &&
        std::none_of(replicas_.begin(), replicas_.end(), [](const auto& r) { return r->alive(); }))
        asio::post(io_, std::exchange(all_stopped_, nullptr));
}

// ---- the end ------------------------------------------------------------------------------------
void ReplicaSet::stop_all(std::function<void()> done) {
    stopping_all_ = true;
    all_stopped_ = [this, done = std::move(done)] {
        stop_balancer();
        done();
    };
    started_ = nullptr;
    for (auto& r : replicas_) {
        if (r->killed) {
            take_out_of_balancer(*r, "removed (end of run)");
            if (r->alive()) r->process->kill_group();
        } else if (r->alive() && r->state != Replica::State::leaving) {
            stop_gracefully(*r, "end of run");
        }
    }
    check_progress();
}

void ReplicaSet::stop_balancer() {
    if (balancer_) balancer_->stop();
}

void ReplicaSet::kill_all() {
    stopping_all_ = true;
    for (auto& r : replicas_) r->process->kill_group();
    stop_balancer();
}

void ReplicaSet::on_logs_closed(std::function<void()> done) {
    auto left = std::make_shared<size_t>(replicas_.size());
    if (*left == 0) return done();
    auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
    for (auto& r : replicas_)
        r->process->on_logs_closed([left, shared_done] {
            if (--*left == 0 && *shared_done) std::exchange(*shared_done, nullptr)();
        });
}

FleetResult ReplicaSet::result() {
    FleetResult f;
    f.balancer = balancer_ ? std::string(balancer_->name()) : std::string();
    f.lb_port = balancer_ ? balancer_->port() : plan_.port;
    for (auto& r : replicas_) {
        r->result.log_tail = r->process->log_tail();
        f.replicas.push_back(r->result);
    }
    f.health = health_;
    if (balancer_) f.attempts = balancer_->take_attempts();
    f.faults = faults_;
    return f;
}

}  // namespace draincheck
