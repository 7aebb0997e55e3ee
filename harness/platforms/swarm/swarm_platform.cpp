#include "platforms/swarm/swarm_platform.h"

#include "common/command_output.h"
#include "common/duration.h"
#include "common/signals.h"
#include "supervisor/orphan_guard.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <csignal>
#include <unistd.h>

namespace draincheck {
namespace {

namespace asio = boost::asio;

constexpr auto kTaskPoll = std::chrono::milliseconds(200);
constexpr auto kUpdatePoll = std::chrono::milliseconds(300);
// Docker's default stop grace, and a margin for the engine's own delay (about 2 s before SIGTERM).
constexpr auto kDockerGrace = std::chrono::seconds(10);
constexpr auto kTeardownMargin = std::chrono::seconds(15);

std::string unique_service_name() {
    static int sequence = 0;
    return fmt::format("draincheck-{}-{}", ::getpid(), ++sequence);
}

int64_t wall_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Docker reports a container killed by signal n as exit code 128 + n.
ExitInfo exit_from_docker(int64_t at, int code) {
    ExitInfo e;
    e.exited = true;
    e.at_ns = at;
    if (code > 128 && code < 128 + 65) e.signal = code - 128;
    else e.code = code;
    return e;
}

}  // namespace

SwarmPlatform::SwarmPlatform(asio::io_context& io, const RunClock& clock, const RunPlan& plan, EmitEvent emit)
    : io_(io),
      clock_(clock),
      plan_(plan),
      spec_(*plan.scenario.platform),
      emit_(std::move(emit)),
      name_(unique_service_name()),
      wanted_(spec_.replicas),
      poll_timer_(io),
      update_timer_(io),
      teardown_timer_(io),
      start_timer_(io) {}

SwarmPlatform::~SwarmPlatform() {
    if (!torn_down_ && start_ns_) kill_all();
    commands_.clear();
    events_.reset();
}

void SwarmPlatform::emit(EventType type, const ReplicaResult* r, std::string detail, std::optional<int64_t> at) {
    emit_(RunEvent{type, at.value_or(clock_.now_ns()), std::move(detail),
                   r ? "instance " + std::to_string(r->index) : std::string()});
}

int64_t SwarmPlatform::run_time(int64_t wall_ns) const {
    int64_t now = clock_.now_ns();
    return wall_ns ? std::min(now, now - (wall_now_ns() - wall_ns)) : now;
}

// A docker CLI call, asynchronous: `done` once it has exited and its output is read to the end; the
// call is then let go.
void SwarmPlatform::docker(std::vector<std::string> argv, Output done) {
    LaunchSpec l;
    l.argv = std::move(argv);
    l.helper = true;
    l.log_tail_lines = 1000;
    l.log_line_max_bytes = 1 << 16;
    auto s = std::make_unique<Supervisor>(io_, clock_, std::move(l));
    Supervisor* raw = s.get();
    commands_.push_back(std::move(s));
    raw->start([this, raw, done = std::move(done)](const ExitInfo& e) {
        raw->on_logs_closed([this, raw, e, done] {
            if (done) done(e, raw->log_tail());
            asio::post(io_, [this, raw] {
                std::erase_if(commands_, [raw](const std::unique_ptr<Supervisor>& c) { return c.get() == raw; });
            });
        });
    });
}

// ---- deploy -------------------------------------------------------------------------------------
void SwarmPlatform::start(Started done) {
    started_ = std::move(done);
    start_ns_ = clock_.now_ns();
    CommandOutput state = run_command({"docker", "info", "--format", "{{.Swarm.LocalNodeState}}"}, std::chrono::seconds(20));
    if (!state.ok()) return std::exchange(started_, nullptr)("docker info failed: is the Docker daemon running?", {});
    if (state.out.find("active") != 0) {
        CommandOutput init = run_command({"docker", "swarm", "init", "--advertise-addr", "127.0.0.1"}, std::chrono::seconds(30));
        if (!init.ok())
            return std::exchange(started_, nullptr)("docker swarm init failed: " + init.err.substr(0, init.err.find('\n')), {});
        made_swarm_ = true;
        emit(EventType::note, nullptr, "made a single-node swarm on 127.0.0.1 for the run (left at the end)");
    }
    prefix_ = free_port_prefix();
    note_container_started();   // the orphan guard removes the run's service and containers if draincheck is killed

    balancer_ = make_balancer(spec_.lb, io_, clock_,
                              balancer_options(plan_.host, plan_.port, spec_.health, plan_.scenario.load.timeout),
                              [this](const HealthChange& h) { on_health(h); });
    balancer_->start();

    // Docker's account of the service's containers, from a second before, so that none is missed.
    int64_t since = wall_now_ns() / 1'000'000'000 - 1;
    LaunchSpec ev;
    ev.argv = {"docker", "events", "--since", std::to_string(since), "--filter", "type=container", "--filter",
               "label=com.docker.swarm.service.name=" + name_, "--format", "{{json .}}"};
    ev.helper = true;
    ev.on_line = [this](const LogLine& l) { on_event(l.text); };
    events_ = std::make_unique<Supervisor>(io_, clock_, std::move(ev));
    events_->start([](const ExitInfo&) {});

    auto argv = swarm_create_argv(plan_, name_, prefix_);
    emit(EventType::spawned, nullptr, fmt::format("docker service create {} ({} tasks of {}, ports {}1-{}9)", name_,
                                                  spec_.replicas, plan_.scenario.target.container->image, prefix_, prefix_));
    docker(argv, [this](const ExitInfo& e, const std::vector<LogLine>& output) {
        if (e.code == 0 || !started_) return;
        std::string out;
        for (const LogLine& l : output) out += l.text + " ";
        std::exchange(started_, nullptr)("docker service create failed: " + out, {});
    });
    poll_tasks();
    start_timer_.expires_after(plan_.scenario.target.ready.timeout + std::chrono::seconds(5));
    start_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !started_) return;
        std::exchange(started_, nullptr)(fmt::format("the swarm's {} tasks did not all take traffic within {} ({} did)",
                                                     spec_.replicas,
                                                     format_duration(plan_.scenario.target.ready.timeout + std::chrono::seconds(5)),
                                                     serving()),
                                         {});
    });
}

// ---- what Docker says ---------------------------------------------------------------------------
void SwarmPlatform::on_event(const std::string& line) {
    auto e = parse_task_event(line);
    if (!e) return;
    int64_t at = run_time(e->time_ns);
    if (e->action == "start") return on_start(*e, at);
    auto it = by_container_.find(e->container);
    if (it == by_container_.end()) return;
    ReplicaResult& r = results_[it->second];
    Instance& i = instances_[it->second];
    if (e->action == "kill") on_kill(r, i, *e, at);
    else if (e->action == "die") on_die(r, i, *e, at);
}

void SwarmPlatform::on_start(const TaskEvent& e, int64_t at) {
    if (by_container_.count(e.container)) return;
    ReplicaResult r;
    r.index = int(results_.size());
    r.port = task_port(prefix_, e.slot);
    r.spawned_ns = at;
    r.argv = {e.container.substr(0, 12)};
    by_container_[e.container] = results_.size();
    results_.push_back(r);
    instances_.push_back(Instance{e.task_id});
    emit(EventType::replica_spawned, &results_.back(),
         fmt::format("task {} (slot {}), container {}, port {}", e.task_id.substr(0, 12), e.slot, e.container.substr(0, 12),
                     r.port),
         at);
    join_balancer(results_.size() - 1);
}

// A task joins the balancer unless another one still lives on its port (a start-first update of a
// slot): the health checks would find the old task and credit the new one. It joins once that one
// has died, if it still runs then.
void SwarmPlatform::join_balancer(size_t index) {
    for (size_t i = 0; i < instances_.size(); ++i)
        if (i != index && instances_[i].alive && results_[i].port == results_[index].port) return;
    Instance& in = instances_[index];
    if (!in.alive || in.in_lb || in.left) return;
    balancer_->add_replica(int(index), results_[index].port);
    in.in_lb = true;
}

void SwarmPlatform::on_kill(ReplicaResult& r, Instance& i, const TaskEvent& e, int64_t at) {
    if (!e.signal) return;
    if (r.signalled_ns) {
        if (*e.signal == SIGKILL) emit(EventType::replica_signalled, &r, "KILL from Swarm (stop_grace_period is over)", at);
        return;
    }
    r.signalled_ns = at;
    r.signal = *e.signal;
    r.stopped_by = stopped_by();
    i.killed_ns = at;
    emit(EventType::replica_signalled, &r, fmt::format("{} from Swarm ({})", signal_name(*e.signal), r.stopped_by), at);
}

void SwarmPlatform::on_die(ReplicaResult& r, Instance& i, const TaskEvent& e, int64_t at) {
    if (!i.alive) return;
    i.alive = false;
    r.exit = exit_from_docker(at, e.exit_code.value_or(0));
    r.exit.known_ns = clock_.now_ns();
    r.exit.forced = r.signalled_ns && r.signal != SIGKILL && r.exit.signal == SIGKILL;
    if (r.stopped_by.empty()) r.stopped_by = tearing_down_ ? "end of run" : "";
    emit(EventType::replica_exited, &r, describe_exit(r.exit), at);
    take_out(size_t(r.index), "exited");
    for (size_t j = 0; j < instances_.size(); ++j)
        if (results_[j].port == r.port) join_balancer(j);   // the task that waited for this port
    check_progress();
}

void SwarmPlatform::on_health(const HealthChange& h) {
    health_.push_back(h);
    if (h.replica < 0 || size_t(h.replica) >= instances_.size()) return;
    ReplicaResult& r = results_[size_t(h.replica)];
    instances_[size_t(h.replica)].healthy = h.healthy;
    if (h.healthy && !r.in_lb_ns) {
        r.ready_ns = h.at_ns;
        r.in_lb_ns = h.at_ns;
        emit(EventType::lb_in, &r, h.detail, h.at_ns);
    } else if (!h.healthy) {
        emit(EventType::lb_out, &r, "health check: " + h.detail, h.at_ns);
    }
    check_progress();
}

void SwarmPlatform::take_out(size_t index, const std::string& why) {
    Instance& i = instances_[index];
    i.left = true;
    if (!i.in_lb) return;
    i.in_lb = false;
    balancer_->remove_replica(int(index));
    results_[index].out_lb_ns = clock_.now_ns();
    emit(EventType::lb_out, &results_[index], why);
}

// An external load balancer follows the tasks Swarm wants: a task whose desired state is no longer
// "running" leaves it at once, before Swarm signals its container.
void SwarmPlatform::poll_tasks() {
    if (polling_ || torn_down_) return;
    polling_ = true;
    docker({"docker", "service", "ps", name_, "--no-trunc", "--format", "{{json .}}"},
           [this](const ExitInfo&, const std::vector<LogLine>& output) {
               polling_ = false;
               on_tasks(output);
               poll_timer_.expires_after(kTaskPoll);
               poll_timer_.async_wait([this](const boost::system::error_code& ec) {
                   if (!ec) poll_tasks();
               });
           });
}

void SwarmPlatform::on_tasks(const std::vector<LogLine>& lines) {
    for (const LogLine& l : lines) {
        auto task = nlohmann::json::parse(l.text, nullptr, false);
        if (!task.is_object()) continue;
        std::string id = task.value("ID", ""), desired = task.value("DesiredState", "");
        if (desired == "Running") continue;
        for (size_t i = 0; i < instances_.size(); ++i)
            if (instances_[i].task_id == id && !instances_[i].left)
                take_out(i, "Swarm wants the task " + (desired.empty() ? std::string("gone") : desired));
    }
}

std::string SwarmPlatform::stopped_by() const {
    if (tearing_down_) return "end of run";
    if (running_operations_ > 0 && !faults_.empty()) return faults_.back().action;
    return "Swarm";
}

unsigned SwarmPlatform::serving() const {
    unsigned n = 0;
    for (size_t i = 0; i < instances_.size(); ++i)
        n += instances_[i].alive && instances_[i].in_lb && instances_[i].healthy && !results_[i].signalled_ns;
    return n;
}

// ---- operations ---------------------------------------------------------------------------------
void SwarmPlatform::operate(const FaultSpec& fault) {
    std::vector<std::string> argv;
    if (fault.operation == "scale") {
        wanted_ = fault.count;
        argv = swarm_scale_argv(name_, fault.count);
    } else {
        argv = swarm_update_argv(name_);
    }
    FleetFaultWindow w;
    w.action = "platform " + fault.operation;
    w.started_ns = clock_.now_ns();
    w.wanted_replicas = wanted_;
    faults_.push_back(w);
    size_t window = faults_.size() - 1;
    ++running_operations_;
    emit(EventType::fleet_fault, nullptr, fmt::format("{}", fmt::join(argv, " ")));
    docker(argv, [this, window, update = fault.operation == "update"](const ExitInfo& e, const std::vector<LogLine>&) {
        if (e.code != 0) emit(EventType::note, nullptr, "the swarm command failed (" + describe_exit(e) + ")");
        if (update) {
            updating_ = window;
            poll_update();
        } else {
            check_progress();
        }
    });
}

// The update is Swarm's to carry out: done when its UpdateStatus says completed; a paused update
// (a new task failed) is never done.
void SwarmPlatform::poll_update() {
    if (!updating_ || torn_down_) return;
    docker({"docker", "service", "inspect", name_, "--format", "{{json .UpdateStatus}}"},
                               [this](const ExitInfo&, const std::vector<LogLine>& output) {
                                   if (!updating_) return;
                                   std::string text;
                                   for (const LogLine& l : output) text += l.text;
                                   auto status = nlohmann::json::parse(text, nullptr, false);
                                   std::string state = status.is_object() ? status.value("State", "") : "";
                                   FleetFaultWindow& w = faults_[*updating_];
                                   if (state == "completed") {
                                       w.done_ns = clock_.now_ns();
                                       --running_operations_;
                                       emit(EventType::fleet_fault, nullptr, "docker service update done (completed)");
                                       updating_.reset();
                                       return check_progress();
                                   }
                                   if (state == "paused" && !w.done_ns) {
                                       // What Swarm does to the service meanwhile is still this update's doing.
                                       emit(EventType::note, nullptr,
                                            "Swarm paused the update: " + (status.is_object() ? status.value("Message", "") : ""));
                                       updating_.reset();
                                       return;
                                   }
                                   update_timer_.expires_after(kUpdatePoll);
                                   update_timer_.async_wait([this](const boost::system::error_code& ec) {
                                       if (!ec) poll_update();
                                   });
                               });
}

void SwarmPlatform::check_progress() {
    if (started_ && serving() >= spec_.replicas) {
        start_timer_.cancel();
        std::exchange(started_, nullptr)(std::nullopt, {});
    }
    for (FleetFaultWindow& w : faults_) {
        if (w.action == "platform scale" && !w.done_ns) {
            unsigned alive = 0;
            for (const Instance& i : instances_) alive += i.alive;
            if (alive == w.wanted_replicas && serving() == w.wanted_replicas) {
                w.done_ns = clock_.now_ns();
                --running_operations_;
                emit(EventType::fleet_fault, nullptr, "docker service scale done");
            }
        }
        if (w.done_ns && !w.capacity_restored_ns && serving() >= w.wanted_replicas) {
            w.capacity_restored_ns = clock_.now_ns();
            emit(EventType::capacity_restored, nullptr, fmt::format("{}: {} tasks take traffic", w.action, serving()));
        }
    }
    if (tearing_down_ && all_stopped_ &&
        std::none_of(instances_.begin(), instances_.end(), [](const Instance& i) { return i.alive; }))
        finish_teardown();
}

// ---- the end ------------------------------------------------------------------------------------
void SwarmPlatform::stop_all(std::function<void()> done) {
    tearing_down_ = true;
    all_stopped_ = std::move(done);
    started_ = nullptr;
    emit(EventType::note, nullptr, "end of load: docker service rm (every task gets the stop signal)");
    docker({"docker", "service", "rm", name_}, nullptr);
    teardown_timer_.expires_after(spec_.stop_grace_period.value_or(kDockerGrace) + kTeardownMargin);
    teardown_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !all_stopped_) return;
        emit(EventType::note, nullptr, "the service's tasks had not all died: their containers are removed");
        kill_all();
        finish_teardown();
    });
    check_progress();
}

void SwarmPlatform::finish_teardown() {
    if (!all_stopped_) return;
    teardown_timer_.cancel();
    poll_timer_.cancel();
    update_timer_.cancel();
    torn_down_ = true;
    if (balancer_) balancer_->stop();
    if (events_) events_->kill_group();
    if (made_swarm_) {
        made_swarm_ = false;
        docker({"docker", "swarm", "leave", "--force"}, nullptr);
    }
    asio::post(io_, std::exchange(all_stopped_, nullptr));
}

void SwarmPlatform::kill_all() {
    tearing_down_ = true;
    torn_down_ = true;
    poll_timer_.cancel();
    update_timer_.cancel();
    start_timer_.cancel();
    std::string label = std::string("label=") + kContainerLabel + "=" + std::to_string(::getpid());
    run_command({"docker", "service", "rm", name_}, std::chrono::seconds(20));
    CommandOutput ids = run_command({"docker", "ps", "--all", "--quiet", "--filter", label}, std::chrono::seconds(20));
    std::vector<std::string> rm = {"docker", "rm", "--force"};
    for (size_t at = 0, end; (end = ids.out.find('\n', at)) != std::string::npos; at = end + 1)
        if (end > at) rm.push_back(ids.out.substr(at, end - at));
    if (rm.size() > 3) run_command(rm, std::chrono::seconds(30));
    if (made_swarm_) {
        made_swarm_ = false;
        run_command({"docker", "swarm", "leave", "--force"}, std::chrono::seconds(30));
    }
    if (balancer_) balancer_->stop();
    if (events_) events_->kill_group();
}

void SwarmPlatform::on_logs_closed(std::function<void()> done) { asio::post(io_, std::move(done)); }

FleetResult SwarmPlatform::result() {
    FleetResult f;
    f.platform = "swarm";
    f.balancer = balancer_ ? std::string(balancer_->name()) : std::string();
    f.lb_port = balancer_ ? balancer_->port() : plan_.port;
    f.replicas = results_;
    f.health = health_;
    if (balancer_) f.attempts = balancer_->take_attempts();
    f.faults = faults_;
    return f;
}

}  // namespace draincheck
