#pragma once
// Follows a process, and the processes it forks, with ptrace so that each one stops at the moment it
// begins to exit (PTRACE_EVENT_EXIT) -- before the kernel closes its file descriptors. The owner looks
// at what it still holds then, and the process goes on exiting; the owner also hears of each fork and
// each signal on its way (who sent it), while the process waits. Signals and group stops pass through
// unchanged. Everything runs on the thread that seized the process (ptrace's rule).
//
// A traced child's stops are reported by waitpid() like exits, so the owner must not wait for the
// main process by other means: poll() reaps it and hands back its wait status.
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace draincheck {

// What a traced process did. Each is reported while the process is stopped, before it goes on.
struct TraceEvent {
    enum class Kind {
        forked,      // it forked `child`, which is traced from now on
        signalled,   // `signal` is on its way to it (sent by `sender`; 0 for the kernel)
        exiting,     // it begins to exit with wait status `status`: its descriptors are all still open
    };
    Kind kind = Kind::exiting;
    pid_t pid = 0;
    pid_t child = 0;
    int signal = 0;
    pid_t sender = 0;
    int status = 0;
};

class ExitTracer {
public:
    using OnEvent = std::function<void(const TraceEvent&)>;

    // Seizes `pid` (the process must be this process's child). Returns nullptr and says why in `why`
    // when ptrace is not allowed (e.g. the target is already traced, or a seccomp policy forbids it).
    static std::unique_ptr<ExitTracer> seize(pid_t pid, OnEvent on_event, std::string& why);
    ~ExitTracer();

    // Handles every stop pending for the traced processes (call it on SIGCHLD). Returns the main
    // process's wait status once it has exited; it is reaped then.
    std::optional<int> poll();

    // After SIGKILL to the main process's group: lets every traced process of that group finish dying,
    // and reaps the main one (blocking; SIGKILL makes it prompt). Processes that left the group (a
    // daemon's setsid) are not waited for. Returns the main process's wait status, if reaped here.
    std::optional<int> reap_killed();

    // Whether any process is still traced (the main one, or processes it forked).
    bool tracing() const { return !traced_.empty(); }

private:
    ExitTracer(pid_t pid, OnEvent on_event) : main_(pid), on_event_(std::move(on_event)) {}
    void report(TraceEvent e) const {
        if (on_event_) on_event_(e);
    }
    // One stop or exit of `pid` with wait status `status`; true if `pid` is gone.
    bool handle(pid_t pid, int status);

    pid_t main_;
    OnEvent on_event_;
    std::set<pid_t> traced_;         // every process still traced, the main one included
    std::set<pid_t> awaiting_start_; // auto-attached children before their first stop
    std::optional<int> main_status_;
};

}  // namespace draincheck
