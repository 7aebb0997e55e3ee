#include "runtimes/process_runtime.h"

#include <csignal>

namespace draincheck {
namespace {

class ProcessRuntime final : public TargetRuntime {
public:
    ProcessRuntime(boost::asio::io_context& io, const RunClock& clock, LaunchSpec launch)
        : process_(io, clock, std::move(launch)) {}

    void start(std::function<void(const ExitInfo&)> on_exit) override { process_.start(std::move(on_exit)); }
    pid_t pid() const override { return process_.pid(); }
    std::string describe() const override { return "pid " + std::to_string(process_.pid()); }
    bool exiting() const override { return process_.exiting(); }
    bool running() const override { return process_.running(); }
    void signal_group(int signo) override {
        if (process_.running()) ::kill(-process_.pid(), signo);   // it leads its own process group
    }
    bool send_signal(int signo) override { return process_.send_signal(signo); }
    void kill_after(std::chrono::nanoseconds grace, std::function<void(int64_t)> on_forced) override {
        process_.kill_after(grace, std::move(on_forced), [this] { read_tree_at_kill(); });
    }
    void kill_group() override { process_.kill_group(); }
    void on_logs_closed(std::function<void()> handler) override { process_.on_logs_closed(std::move(handler)); }
    const std::string& trace_error() const override { return process_.trace_error(); }
    std::vector<LogLine> log_tail() const override { return process_.log_tail(); }
    uint64_t log_lines_total() const override { return process_.log_lines_total(); }

private:
    Supervisor process_;
};

}  // namespace

std::unique_ptr<TargetRuntime> make_process_runtime(boost::asio::io_context& io, const RunClock& clock, LaunchSpec launch) {
    return std::make_unique<ProcessRuntime>(io, clock, std::move(launch));
}

}  // namespace draincheck
