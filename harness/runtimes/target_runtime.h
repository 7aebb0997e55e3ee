#pragma once
// How the target runs: the interface the run drives it through, whatever runs it. A runtime starts
// the target, signals it as its platform would, force-kills it after a grace, reports its exit
// exactly once and keeps its output. Each runtime is one file or folder here, listed in
// runtime_registry.cpp:
//   process    a command draincheck launches itself (supervisor/supervisor.h)
//   container  an image, run by Docker on the host's network (container/container_runtime.h)
#include "common/run_clock.h"
#include "plan/run_plan.h"
#include "supervisor/process_tree.h"
#include "supervisor/supervisor.h"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace draincheck {

class TargetRuntime {
public:
    virtual ~TargetRuntime() = default;   // kills whatever is still running

    // Starts the target; throws LaunchError. `on_exit` is called once, on the io thread, when the
    // target's main process has exited.
    virtual void start(std::function<void(const ExitInfo&)> on_exit) = 0;
    // The host pid of the target's main process (a container's PID 1); 0 before it is known.
    virtual pid_t pid() const = 0;
    // "pid 1234", "container draincheck-1-2 (app:1.4), pid 1234": for the timeline's spawned event.
    virtual std::string describe() const = 0;
    virtual bool exiting() const = 0;
    // Started, and its main process not gone yet.
    virtual bool running() const = 0;
    // `signo` to every process of it (its process group; every process of the container), e.g. to
    // freeze it (SIGSTOP) or thaw it (SIGCONT).
    virtual void signal_group(int signo) = 0;
    // Sends `signo` to the main process, as the platform does (`kill PID`, `docker kill -s`).
    // False if it is already gone.
    virtual bool send_signal(int signo) = 0;
    // The platform's grace: SIGKILL (to the process group, the container) if it is still running
    // `grace` from now; `on_forced(at_ns)` when that happens. A second call does not extend it.
    virtual void kill_after(std::chrono::nanoseconds grace, std::function<void(int64_t at_ns)> on_forced) = 0;
    virtual void kill_group() = 0;
    virtual void on_logs_closed(std::function<void()> handler) = 0;
    // Why its exits could not be traced for dependency checks ("" when they are).
    virtual const std::string& trace_error() const = 0;
    virtual std::vector<LogLine> log_tail() const = 0;
    virtual uint64_t log_lines_total() const = 0;
    // Whether the target is a container (PID 1 rules apply to its main process).
    virtual bool in_container() const { return false; }

    // The evidence that names why a stop was not clean (verifier/shutdown_cause.h): the target's
    // processes as /proc showed them just before a stop signal (read by whoever sends it, before it
    // takes the signal's time: a few ms of /proc), and just before the forced SIGKILL (empty if none).
    void read_tree_before_signal() { before_signal_ = read_process_tree(pid()); }
    const std::vector<ProcessInfo>& tree_before_signal() const { return before_signal_; }
    const std::vector<ProcessInfo>& tree_at_kill() const { return at_kill_; }

protected:
    void read_tree_at_kill() { at_kill_ = read_process_tree(pid()); }

private:
    std::vector<ProcessInfo> before_signal_, at_kill_;
};

// A command, or with `container` an image, launched as `launch` says.
std::unique_ptr<TargetRuntime> make_runtime(boost::asio::io_context& io, const RunClock& clock, LaunchSpec launch,
                                            const std::optional<ContainerPlan>& container);

// The runtime the plan asks for. `launch` is the plan's, with the run's callbacks set; or, for a
// fleet's replica (`replica` >= 0), that replica's (target_launch).
std::unique_ptr<TargetRuntime> make_target_runtime(boost::asio::io_context& io, const RunClock& clock,
                                                   const RunPlan& plan, LaunchSpec launch, int replica = -1);

}  // namespace draincheck
