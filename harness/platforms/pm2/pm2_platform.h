#pragma once
// PM2 as the platform: draincheck runs PM2 itself, in the foreground (`pm2 start ecosystem.json
// --no-daemon`, with a PM2_HOME of the run's own), so that PM2's God process is draincheck's child and
// is traced (exit_tracer.h) together with every worker it forks. That tells the truth PM2 does not
// record: when PM2 signalled each worker and with what, which client connections the worker held at
// that moment, and how it really ended (its wait status at its exit stop: a code, or the signal that
// killed it -- PM2 itself records 0 for a worker its SIGINT killed). The operations are PM2's own
// commands (`pm2 reload|restart|scale`) against that PM2_HOME; the load goes to the port the
// workers share (cluster mode: PM2's master balances the connections).
#include "platforms/platform.h"
#include "platforms/pm2/pm2_app.h"

#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <vector>

namespace draincheck {

class Pm2Platform final : public Platform {
public:
    Pm2Platform(boost::asio::io_context& io, const RunClock& clock, const RunPlan& plan, EmitEvent emit);
    ~Pm2Platform() override;

    void start(Started done) override;
    unsigned serving() const override;
    unsigned wanted() const override { return wanted_; }
    void stop_all(std::function<void()> done) override;
    void kill_all() override;
    void on_logs_closed(std::function<void()> done) override;
    FleetResult result() override;
    std::string_view kind() const override { return "pm2"; }
    void operate(const FaultSpec& fault) override;

private:
    // A process PM2 forked: a worker of the app once its command line shows the app's script.
    struct Child {
        int64_t forked_ns = 0;
        int instance = -1;           // index into instances_, once it is known to be a worker
        bool alive = true;
    };
    struct Operation {
        std::unique_ptr<Supervisor> command;
        size_t window = 0;           // index into faults_
    };

    void on_trace(const TraceEvent& e);
    void on_daemon_exit(const ExitInfo& e);
    int identify(pid_t pid, Child& c);
    void watch_new_children();
    void check_started();
    void check_capacity();
    void on_stop_signal(ReplicaResult& r, const TraceEvent& e);
    void on_worker_exit(ReplicaResult& r, const TraceEvent& e);
    std::string stopped_by() const;
    std::unique_ptr<Supervisor> pm2_command(std::vector<std::string> args);
    void emit(EventType type, const ReplicaResult* r, std::string detail);

    boost::asio::io_context& io_;
    const RunClock& clock_;
    const RunPlan& plan_;
    const PlatformSpec& spec_;
    EmitEvent emit_;
    Pm2App app_;
    std::string home_;                       // PM2_HOME, removed at the end
    std::unique_ptr<Supervisor> daemon_;
    pid_t daemon_pid_ = 0;
    bool daemon_exited_ = false;
    std::map<pid_t, Child> children_;
    std::vector<ReplicaResult> instances_;
    std::vector<HeldConnections> held_;
    std::vector<FleetFaultWindow> faults_;
    std::vector<Operation> operations_;
    unsigned running_operations_ = 0;
    unsigned wanted_ = 0;
    Started started_;
    int64_t start_ns_ = 0;
    bool probing_ready_ = false, probing_capacity_ = false;
    std::function<void()> cancel_probe_;
    std::function<void()> all_stopped_;
    bool tearing_down_ = false;
    std::unique_ptr<Supervisor> kill_command_;
    boost::asio::steady_timer watch_timer_, teardown_timer_;
};

}  // namespace draincheck
