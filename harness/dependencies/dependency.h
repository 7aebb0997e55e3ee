#pragma once
// One dependency of the target during a run: its process (restartable), the fault proxy in front of
// it, and its outages. Everything runs on the run's io thread except the proxy's relaying.
#include "common/run_clock.h"
#include "plan/run_plan.h"
#include "proxy/fault_proxy.h"
#include "scenario/scenario.h"
#include "runtimes/target_runtime.h"
#include "supervisor/supervisor.h"
#include "verifier/run_result.h"

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

namespace draincheck {

class Dependency {
public:
    using Emit = std::function<void(RunEvent)>;
    using OnReady = std::function<void(bool ready, std::string detail)>;

    // Binds the proxy's port (throws std::system_error if it is taken).
    Dependency(boost::asio::io_context& io, const RunClock& clock, const DependencySpec& spec, const DependencyPlan& plan,
               Emit emit);
    ~Dependency();

    const std::string& name() const { return spec_.name; }
    const DependencySpec& spec() const { return spec_; }
    bool down() const { return !outages_.empty() && !outages_.back().up_ns; }

    // Starts the proxy and the process, then waits for readiness. Throws LaunchError.
    void start(OnReady on_ready);
    // The process group whose sockets are the target's (for the proxy's connection owners).
    void set_target_group(int pgid) { proxy_.set_owner_group(pgid); }

    // Faults.
    void kill();                      // SIGKILL to its group; connections through the proxy reset
    void freeze();                    // SIGSTOP to its group
    void thaw();                      // SIGCONT
    void restart();                   // stop if running, start again, wait for readiness
    uint64_t add_toxic(const ToxicSpec& toxic);
    void remove_toxic(uint64_t id);

    // End of run: stops the process (stop_signal, then SIGKILL after kill_after). `done` once it exited.
    void stop(std::function<void()> done);
    // Closes the proxy (connections still open are recorded as open at the end of the run).
    void close_proxy();

    DependencyResult result() const;
    std::vector<LogLine> log_tail() const;

private:
    void spawn();
    void wait_ready(OnReady on_ready);
    void on_exit(const ExitInfo& e);
    void begin_outage(const std::string& how, const std::string& detail);
    void end_outage(const std::string& detail);
    void emit(EventType type, std::string detail);

    boost::asio::io_context& io_;
    const RunClock& clock_;
    const DependencySpec& spec_;
    const DependencyPlan& plan_;
    Emit emit_;
    FaultProxy proxy_;
    std::unique_ptr<TargetRuntime> process_;
    std::function<void()> cancel_ready_;
    std::vector<Outage> outages_;
    std::vector<LogLine> earlier_logs_;   // output of processes replaced by a restart
    bool expected_exit_ = false;          // the exit under way was asked for (kill, restart, stop)
    bool restart_pending_ = false;
    std::function<void()> on_stopped_;
};

}  // namespace draincheck
