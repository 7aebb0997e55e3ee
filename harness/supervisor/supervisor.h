#pragma once
// Runs one target process and watches it: own process group, dies with the harness
// (PR_SET_PDEATHSIG), stdout/stderr captured with timestamps into a bounded tail, exit detected
// by an asynchronous wait on a pidfd (no polling), SIGKILL to the whole group after a grace.
#include "common/run_clock.h"
#include "supervisor/exit_tracer.h"
#include "verifier/run_events.h"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include <sys/types.h>

namespace draincheck {

struct LogLine {
    int64_t at_ns = 0;          // since run start
    bool is_stderr = false;
    std::string text;           // without the newline
};

struct LaunchSpec {
    std::vector<std::string> argv;             // argv[0] is looked up in PATH unless it has a '/'
    std::string cwd;                           // empty = the harness's cwd
    std::map<std::string, std::string> env;    // set on top of the inherited environment
    bool env_clear = false;                    // start from an empty environment instead
    std::vector<std::string> secrets;          // values masked as *** in captured output
    size_t log_tail_lines = 200;               // lines kept per run (stdout and stderr together)
    size_t log_line_max_bytes = 4096;          // longer lines are cut (and marked)
    std::function<void(const LogLine&)> on_line;  // each captured line as it arrives (optional)
    // When set, the process and the processes it forks are traced (exit_tracer.h): this runs, on the
    // io thread, the moment each of them begins to exit, while its descriptors are still open.
    std::function<void(pid_t pid)> on_exit_stop;
    // When set, the process and what it forks are traced too, and this hears every fork, every signal
    // on its way to one of them (and who sent it) and every exit, with its wait status (exit_tracer.h).
    std::function<void(const TraceEvent&)> on_trace;
    // A tool draincheck runs for itself (the docker CLI following a container's output or events):
    // not marked as part of the target (orphan_guard.h), so that the end of a run, which kills what
    // the target left behind, does not cut it short; it dies with draincheck (PR_SET_PDEATHSIG).
    bool helper = false;
};

struct LaunchError : std::runtime_error {
    enum class Kind { missing_binary, not_executable, spawn_failed };
    LaunchError(Kind k, const std::string& what) : std::runtime_error(what), kind(k) {}
    Kind kind;
};


// "code 0", "signal TERM", "signal KILL (forced)": how a process ended, for events and messages.
std::string describe_exit(const ExitInfo& e);

class Supervisor {
public:
    // All callbacks run on `io`'s thread. The supervisor may be destroyed at any moment, also from
    // inside one of its callbacks: it then kills the process group, and no callback of it runs again.
    Supervisor(boost::asio::io_context& io, const RunClock& clock, LaunchSpec spec);
    ~Supervisor();  // kills the process group if it is still alive
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Spawns the process. Throws LaunchError. `on_exit` is called once, when the process has
    // exited, with the exact exit time (ns since run start) and code or signal.
    void start(std::function<void(const ExitInfo&)> on_exit);

    pid_t pid() const;
    bool running() const;
    // True from the moment the kernel starts tearing the process down (PF_EXITING, or a zombie),
    // which can be a little before the exit is reported; also true once it is gone.
    bool exiting() const;

    // Sends `signo` to the process (not the group), like `docker stop` / `kill PID`.
    // Returns false if the process is already gone.
    bool send_signal(int signo);

    // Arms the grace timer: if the process has not exited `kill_after` from now, SIGKILL its whole
    // process group and mark the exit as forced. Calls `on_forced(at_ns)` when it fires.
    // A second call does not extend an armed timer. `before_kill`, if set, runs just before the SIGKILL.
    void kill_after(std::chrono::nanoseconds grace, std::function<void(int64_t at_ns)> on_forced,
                    std::function<void()> before_kill = nullptr);

    // SIGKILL to the whole process group now (also reaps stragglers after the main process exit).
    void kill_group();

    // Calls `handler` (on the io thread) once stdout and stderr have both reached EOF; at once if
    // they already have.
    void on_logs_closed(std::function<void()> handler);

    // With LaunchSpec::on_exit_stop: why the process could not be traced (empty if it is).
    const std::string& trace_error() const;

    // Output captured so far (bounded tail), in arrival order, and counters.
    std::vector<LogLine> log_tail() const;
    uint64_t log_lines_total() const;
    uint64_t log_bytes_total() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;   // shared with the handlers it queues
};

}  // namespace draincheck
