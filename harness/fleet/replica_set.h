#pragma once
// The fleet: N replicas of the target behind a load balancer, and what platforms do to them —
// scale down, scale up, a rolling restart, a crash. Each replica is supervised like a single target
// (own process group, dies with the harness); it joins the balancer once its own ready probe
// passes, and takes traffic once the balancer's health checks do. A replica stopped on purpose is
// first taken out of the balancer, then, `deregistration_delay` later, sent the stop signal — the
// order a well-run platform keeps, and the delay that, at 0, reproduces the Kubernetes race.
#include "common/run_clock.h"
#include "fleet/balancer.h"
#include "fleet/instance_set.h"
#include "fleet/state_probe.h"
#include "plan/run_plan.h"
#include "supervisor/supervisor.h"
#include "verifier/fleet_result.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace draincheck {

class ReplicaSet final : public InstanceSet {
public:
    using Emit = std::function<void(RunEvent)>;
    // `plan` and `clock` must outlive the set; `emit` gets every replica and balancer event.
    ReplicaSet(boost::asio::io_context& io, const RunClock& clock, const RunPlan& plan, Emit emit);
    ~ReplicaSet() override;

    // Starts the balancer and the scenario's replicas. `done` once every replica takes traffic
    // (error empty), or with the first reason it cannot (a replica never ready, never healthy in the
    // balancer, exited, or the balancer failed) and the log lines that explain it. Throws
    // BalancerError or LaunchError when something cannot even be started.
    void start(Started done) override;

    // The faults. Each one's window (began, done, capacity restored) is in result().faults; none
    // picks a replica a running rolling restart started, and a rolling restart waits for the last.
    void scale_down(unsigned count, FaultSpec::Pick pick, uint64_t seed);
    void scale_up(unsigned count);
    void rolling_restart(unsigned max_surge, unsigned max_unavailable);
    void kill_replica(unsigned count, FaultSpec::Pick pick, uint64_t seed);

    // Replicas taking traffic now / wanted (the scenario's count after the faults so far).
    unsigned serving() const override;
    unsigned wanted() const override;
    // The replicas taking traffic now, oldest first.
    std::vector<ReplicaAddress> serving_replicas() const;

    // End of the run: every replica still alive leaves the balancer and gets the stop signal (with
    // kill_after); `done` when all have exited and the balancer has stopped.
    void stop_all(std::function<void()> done) override;
    // Now: SIGKILL to every replica's group, and the balancer stops.
    void kill_all() override;
    void on_logs_closed(std::function<void()> done) override;

    FleetResult result() override;
    std::string_view kind() const override { return "fleet"; }

    struct Replica;

private:
    Replica& launch();
    void on_ready(Replica& r, bool ok, const std::string& detail);
    void on_health(const HealthChange& h);
    void on_exit(Replica& r, const ExitInfo& e);
    void stop_gracefully(Replica& r, const std::string& by);
    void cannot_serve(Replica& r, const std::string& why);
    void take_out_of_balancer(Replica& r, const std::string& why);
    std::vector<Replica*> pick(unsigned count, FaultSpec::Pick pick, uint64_t seed);
    void advance_roll();
    void check_progress();
    void stop_balancer();
    void emit(EventType type, const Replica* r, std::string detail, std::optional<int64_t> at = std::nullopt);

    boost::asio::io_context& io_;
    const RunClock& clock_;
    const RunPlan& plan_;
    const FleetSpec& spec_;
    Emit emit_;
    std::unique_ptr<Balancer> balancer_;
    std::vector<std::unique_ptr<Replica>> replicas_;   // by index; never destroyed before the end
    std::vector<HealthChange> health_;
    std::vector<FleetFaultWindow> faults_;
    unsigned wanted_ = 0;
    Started started_;
    std::function<void()> all_stopped_;
    bool stopping_all_ = false;

    // A fault waiting for replicas to take traffic or to exit.
    struct Pending {
        size_t window;                         // index into faults_
        std::vector<Replica*> waiting_in;      // must take traffic
        std::vector<Replica*> waiting_exit;    // must exit
    };
    std::vector<Pending> pending_;
    // The rolling restart in progress.
    struct Roll {
        size_t window;
        std::vector<Replica*> old;             // still to be replaced, oldest first
        std::vector<Replica*> fresh;           // started by the roll
        unsigned target = 0, surge = 0, unavailable = 0;
    };
    std::optional<Roll> roll_;
    std::vector<std::pair<unsigned, unsigned>> queued_rolls_;   // (max_surge, max_unavailable) waiting for roll_
};

}  // namespace draincheck
