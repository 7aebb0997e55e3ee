#pragma once
// Docker Swarm as the platform: a single-node swarm on 127.0.0.1 (made for the run if none is active,
// and left at the end), one service of the target's image whose tasks run on the host's network, each
// on a loopback port of its own (PORT = prefix + {{.Task.Slot}}). There is no routing mesh here (this
// kernel has no IPVS): the load goes through draincheck's balancer, which follows the tasks as an
// external load balancer in front of a swarm does -- a task joins once it runs and passes the health
// check, and leaves as soon as Swarm wants it shut down (`docker service ps`, every 200 ms). Each task's
// container is followed from Docker's events: started, signalled (kill, with the signal), died (exit
// code). The operations are Swarm's own: `docker service update --force` (a rolling restart, as the
// service's update settings say) and `docker service scale`.
#include "fleet/balancer.h"
#include "platforms/platform.h"
#include "platforms/swarm/swarm_service.h"

#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <vector>

namespace draincheck {

class SwarmPlatform final : public Platform {
public:
    SwarmPlatform(boost::asio::io_context& io, const RunClock& clock, const RunPlan& plan, EmitEvent emit);
    ~SwarmPlatform() override;

    void start(Started done) override;
    unsigned serving() const override;
    unsigned wanted() const override { return wanted_; }
    void stop_all(std::function<void()> done) override;
    void kill_all() override;
    void on_logs_closed(std::function<void()> done) override;
    FleetResult result() override;
    std::string_view kind() const override { return "swarm"; }
    void operate(const FaultSpec& fault) override;

private:
    struct Instance {
        std::string task_id;
        bool alive = true;
        bool in_lb = false;
        bool healthy = false;
        bool left = false;                  // taken out for good (Swarm wants it gone, or it exited)
        std::optional<int64_t> killed_ns;   // the first kill (stop signal)
    };

    void on_event(const std::string& line);
    void on_start(const TaskEvent& e, int64_t at);
    void on_kill(ReplicaResult& r, Instance& i, const TaskEvent& e, int64_t at);
    void on_die(ReplicaResult& r, Instance& i, const TaskEvent& e, int64_t at);
    void on_health(const HealthChange& h);
    void poll_tasks();
    void on_tasks(const std::vector<LogLine>& lines);
    void poll_update();
    void take_out(size_t index, const std::string& why);
    void join_balancer(size_t index);
    void check_progress();
    void finish_teardown();
    using Output = std::function<void(const ExitInfo&, const std::vector<LogLine>& output)>;
    void docker(std::vector<std::string> argv, Output done);
    int64_t run_time(int64_t wall_ns) const;
    std::string stopped_by() const;
    void emit(EventType type, const ReplicaResult* r, std::string detail, std::optional<int64_t> at = std::nullopt);

    boost::asio::io_context& io_;
    const RunClock& clock_;
    const RunPlan& plan_;
    const PlatformSpec& spec_;
    EmitEvent emit_;
    std::string name_;
    unsigned prefix_ = 0;
    bool made_swarm_ = false;
    std::unique_ptr<Balancer> balancer_;
    std::unique_ptr<Supervisor> events_;
    std::vector<std::unique_ptr<Supervisor>> commands_;   // docker CLI calls; kept until the end
    std::map<std::string, size_t> by_container_;          // container id → instance index
    std::vector<ReplicaResult> results_;
    std::vector<Instance> instances_;
    std::vector<HealthChange> health_;
    std::vector<FleetFaultWindow> faults_;
    std::optional<size_t> updating_;                      // the window of an update Swarm is carrying out
    unsigned running_operations_ = 0;
    unsigned wanted_ = 0;
    Started started_;
    int64_t start_ns_ = 0;
    bool polling_ = false, tearing_down_ = false, torn_down_ = false;
    std::function<void()> all_stopped_;
    boost::asio::steady_timer poll_timer_, update_timer_, teardown_timer_, start_timer_;
};

}  // namespace draincheck
