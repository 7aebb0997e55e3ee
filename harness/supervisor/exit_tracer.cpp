#include "supervisor/exit_tracer.h"

#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace draincheck {

namespace {

constexpr long kOptions = PTRACE_O_TRACEEXIT | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_EXITKILL;

bool is_stopping_signal(int sig) { return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

pid_t wait_for(pid_t pid, int* status, int flags) {
    pid_t r;
    do r = ::waitpid(pid, status, flags | __WALL);
    while (r < 0 && errno == EINTR);
    return r;
}

}  // namespace

std::unique_ptr<ExitTracer> ExitTracer::seize(pid_t pid, OnEvent on_event, std::string& why) {
    if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(kOptions)) != 0) {
        why = std::string("ptrace(PTRACE_SEIZE) failed: ") + std::strerror(errno);
        return nullptr;
    }
    std::unique_ptr<ExitTracer> tracer(new ExitTracer(pid, std::move(on_event)));
    tracer->traced_.insert(pid);
    return tracer;
}

ExitTracer::~ExitTracer() {
    // Still-traced processes are let go: a stopped one goes on, a running one is detached at its
    // next stop by the kernel when this process exits (PTRACE_O_EXITKILL kills them then).
    for (pid_t pid : traced_) ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
}

bool ExitTracer::handle(pid_t pid, int status) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        traced_.erase(pid);
        awaiting_start_.erase(pid);
        if (pid == main_) main_status_ = status;
        return true;
    }
    if (!WIFSTOPPED(status)) return false;
    const int event = status >> 16;
    const int sig = WSTOPSIG(status);
    int deliver = 0;
    switch (event) {
    case PTRACE_EVENT_EXIT: {
        unsigned long exit_status = 0;   // the wait status it will exit with
        ::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &exit_status);
        report({TraceEvent::Kind::exiting, pid, 0, 0, 0, int(exit_status)});   // its descriptors are all still open
        break;
    }
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK: {
        unsigned long child = 0;
        if (::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &child) == 0 && child > 0) {
            traced_.insert(pid_t(child));
            awaiting_start_.insert(pid_t(child));
            report({TraceEvent::Kind::forked, pid, pid_t(child), 0, 0, 0});
        }
        break;
    }
    case PTRACE_EVENT_STOP:
        if (awaiting_start_.erase(pid)) break;   // an auto-attached child's first stop
        if (is_stopping_signal(sig)) {
            ::ptrace(PTRACE_LISTEN, pid, nullptr, nullptr);   // a group stop: stay stopped until SIGCONT
            return false;
        }
        break;
    case 0: {
        deliver = sig;   // a signal on its way to the process: let it through
        siginfo_t info{};
        pid_t sender = ::ptrace(PTRACE_GETSIGINFO, pid, nullptr, &info) == 0 && info.si_code <= 0 ? info.si_pid : 0;
        report({TraceEvent::Kind::signalled, pid, 0, sig, sender, 0});
        break;
    }
    default: break;
    }
    ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(long(deliver)));
    return false;
}

std::optional<int> ExitTracer::poll() {
    for (bool progress = true; progress;) {
        progress = false;
        // A copy: handle() adds children and removes the dead.
        for (pid_t pid : std::set<pid_t>(traced_)) {
            int status = 0;
            pid_t r = wait_for(pid, &status, WNOHANG);
            if (r == pid) {
                handle(pid, status);
                progress = true;
            } else if (r < 0 && errno == ECHILD) {
                traced_.erase(pid);   // no longer ours to wait for (e.g. reaped by its own parent)
                awaiting_start_.erase(pid);
            }
        }
    }
    return main_status_;
}

std::optional<int> ExitTracer::reap_killed() {
    std::optional<int> reaped;
    for (pid_t pid : std::set<pid_t>(traced_)) {
        if (pid != main_ && ::getpgid(pid) != main_) continue;
        for (;;) {
            int status = 0;
            if (wait_for(pid, &status, 0) != pid) {
                traced_.erase(pid);
                break;
            }
            if (handle(pid, status)) {
                if (pid == main_) reaped = status;
                break;
            }
        }
    }
    return reaped;
}

}  // namespace draincheck
