#include "supervisor/supervisor.h"

#include "common/signals.h"

#include "supervisor/exit_tracer.h"
#include "supervisor/fd_limit.h"
#include "supervisor/log_capture.h"
#include "supervisor/orphan_guard.h"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/v2.hpp>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace draincheck {

std::string describe_exit(const ExitInfo& e) {
    if (e.signal) return "signal " + signal_name(*e.signal) + (e.forced ? " (forced)" : "");
    return "code " + std::to_string(e.code.value_or(-1));
}

namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace fs = std::filesystem;

namespace {

// Runs in the child between fork and exec: its own process group (so the whole tree can be
// killed at once), death with the harness, and a clean signal state (the harness ignores SIGPIPE
// and may block signals; exec keeps both, and the target must not inherit them).
struct ChildSetup {
    pid_t parent;
    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const bp::filesystem::path&, const char* const*&) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (rlim_t soft = inherited_fd_soft_limit(); soft != RLIM_INFINITY) {
            rlimit limit{};
            ::getrlimit(RLIMIT_NOFILE, &limit);
            limit.rlim_cur = soft;
            ::setrlimit(RLIMIT_NOFILE, &limit);
        }
        return {};
    }
};

fs::path resolve_program(const std::string& program, const std::string& cwd) {
    if (program.find('/') == std::string::npos) {
        auto found = bp::environment::find_executable(program);
        if (found.empty())
            throw LaunchError(LaunchError::Kind::missing_binary, "command not found: '" + program + "' (not in PATH)");
        return fs::path(found.string());
    }
    fs::path p(program);
    if (p.is_relative() && !cwd.empty()) p = fs::path(cwd) / p;
    if (!fs::exists(p)) throw LaunchError(LaunchError::Kind::missing_binary, "command not found: " + p.string());
    if (fs::is_directory(p) || ::access(p.c_str(), X_OK) != 0)
        throw LaunchError(LaunchError::Kind::not_executable, "command is not executable: " + p.string());
    return p;
}

}  // namespace

// Shared by the Supervisor and every handler it queues (exit wait, grace timer, pipe EOFs): each
// handler holds the Impl, so the Supervisor itself may be destroyed at any moment, even from inside
// one of its own callbacks. Once it is, `owner_gone` keeps every handler from calling back.
struct Supervisor::Impl {
    Impl(asio::io_context& io, RunClock clock, LaunchSpec spec)
        : io(io), clock(clock), spec(std::move(spec)),
          ring(std::make_shared<LogRing>(this->spec.log_tail_lines, this->spec.log_line_max_bytes, this->spec.secrets,
                                         this->spec.on_line)),
          out(std::make_shared<PipeReader>(io, clock, ring, false)),
          err(std::make_shared<PipeReader>(io, clock, ring, true)), grace(io) {}

    void on_pipe_eof() {
        if (++pipes_closed == 2 && logs_closed_handler) std::exchange(logs_closed_handler, nullptr)();
    }

    void kill_group() {
        if (pid > 0) ::kill(-pid, SIGKILL);
    }

    // The process has exited with wait status `status`.
    void exited(int status, const std::function<void(const ExitInfo&)>& on_exit, std::shared_ptr<Impl> self) {
        ExitInfo info;
        info.exited = true;
        info.at_ns = clock.now_ns();
        if (WIFSIGNALED(status)) info.signal = WTERMSIG(status);
        else info.code = WEXITSTATUS(status);
        info.forced = forced;
        running = false;
        grace.cancel();
        kill_group();   // children the target left behind go with it
        // The exit is known: let go of the process handle (a pidfd), as a long fleet run starts many.
        asio::post(io, [self] { self->process->detach(); });
        on_exit(info);
    }

    // A traced process is waited for by the tracer (its stops come through waitpid too), woken by
    // SIGCHLD; it goes on serving the processes the target forked after the target's own exit.
    void await_traced(std::function<void(const ExitInfo&)> on_exit, std::shared_ptr<Impl> self) {
        sigchld->async_wait([self, on_exit = std::move(on_exit)](const boost::system::error_code& ec, int) mutable {
            Impl& s = *self;
            if (ec || s.owner_gone || !s.tracer) return;
            bool was_running = s.running;
            std::optional<int> status = s.tracer->poll();
            if (was_running && status) s.exited(*status, on_exit, self);
            if (s.owner_gone || !s.tracer) return;   // on_exit may have destroyed the supervisor
            if (s.tracer->tracing()) s.await_traced(std::move(on_exit), std::move(self));
        });
    }

    asio::io_context& io;
    RunClock clock;
    LaunchSpec spec;
    std::shared_ptr<LogRing> ring;
    std::shared_ptr<PipeReader> out, err;
    asio::steady_timer grace;
    std::unique_ptr<bp::process> process;
    std::unique_ptr<asio::signal_set> sigchld;   // only while tracing
    std::unique_ptr<ExitTracer> tracer;
    std::string trace_error;
    pid_t pid = 0;
    bool running = false;
    bool forced = false;
    bool grace_armed = false;
    bool owner_gone = false;
    int pipes_closed = 0;
    std::function<void()> logs_closed_handler;
};

Supervisor::Supervisor(asio::io_context& io, const RunClock& clock, LaunchSpec spec)
    : impl_(std::make_shared<Impl>(io, clock, std::move(spec))) {}

Supervisor::~Supervisor() {
    Impl& s = *impl_;
    s.owner_gone = true;
    s.logs_closed_handler = nullptr;
    s.ring->stop_forwarding();
    s.grace.cancel();
    s.out->close();
    s.err->close();
    if (!s.process) return;
    s.kill_group();
    if (s.tracer) {
        if (s.running) s.tracer->reap_killed();   // SIGKILL was sent: this returns promptly
        s.running = false;
        s.tracer.reset();
        s.sigchld.reset();
    }
    if (s.running) {
        int status;
        while (::waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {}   // SIGKILL was sent: prompt
        s.running = false;
    }
    // The exit wait, if still queued, completes with an error and finds owner_gone.
    s.process->detach();
}

void Supervisor::start(std::function<void(const ExitInfo&)> on_exit) {
    Impl& s = *impl_;
    if (s.spec.argv.empty()) throw LaunchError(LaunchError::Kind::spawn_failed, "empty command");
    if (!s.spec.cwd.empty() && !fs::is_directory(s.spec.cwd))
        throw LaunchError(LaunchError::Kind::spawn_failed, "cwd is not a directory: " + s.spec.cwd);
    fs::path program = resolve_program(s.spec.argv.front(), s.spec.cwd);
    std::vector<std::string> args(s.spec.argv.begin() + 1, s.spec.argv.end());

    // The inherited environment, the scenario's additions, and the marker every child carries.
    std::map<std::string, std::string> env;
    for (char** e = environ; *e && !s.spec.env_clear; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : s.spec.env) env[k] = v;
    if (!s.spec.helper) env[kRunMarker] = std::to_string(::getpid());
    std::vector<std::string> env_list;
    for (const auto& [k, v] : env) env_list.push_back(k + "=" + v);

    auto cwd = s.spec.cwd.empty() ? fs::current_path().string() : s.spec.cwd;
    // Before the spawn, so that no SIGCHLD of the traced process can be missed.
    const bool traced = s.spec.on_exit_stop || s.spec.on_trace;
    if (traced) s.sigchld = std::make_unique<asio::signal_set>(s.io, SIGCHLD);
    try {
        s.process = std::make_unique<bp::process>(
            s.io.get_executor(), bp::filesystem::path(program.string()), args,
            bp::process_stdio{nullptr, s.out->pipe(), s.err->pipe()}, bp::process_start_dir{cwd},
            bp::process_environment{env_list}, ChildSetup{::getpid()});
    } catch (const boost::system::system_error& e) {
        s.sigchld.reset();
        throw LaunchError(LaunchError::Kind::spawn_failed, "cannot start " + program.string() + ": " + e.code().message());
    }
    s.pid = s.process->id();
    s.running = true;
    std::weak_ptr<Impl> weak = impl_;
    auto pipe_eof = [weak] {
        if (auto self = weak.lock(); self && !self->owner_gone) self->on_pipe_eof();
    };
    s.out->start(pipe_eof);
    s.err->start(pipe_eof);

    if (traced) {
        s.tracer = ExitTracer::seize(s.pid, [weak](const TraceEvent& e) {
            auto self = weak.lock();
            if (!self || self->owner_gone) return;
            if (e.kind == TraceEvent::Kind::exiting && self->spec.on_exit_stop) self->spec.on_exit_stop(e.pid);
            if (self->spec.on_trace) self->spec.on_trace(e);
        }, s.trace_error);
        if (s.tracer) return s.await_traced(std::move(on_exit), impl_);
        s.sigchld.reset();   // not traced: waited for like any other process
    }
    s.process->async_wait([self = impl_, on_exit = std::move(on_exit)](boost::system::error_code, int) {
        Impl& s = *self;
        if (s.owner_gone) return;   // the destructor killed and reaped the process
        s.exited(s.process->native_exit_code(), on_exit, self);
    });
}

pid_t Supervisor::pid() const { return impl_->pid; }

bool Supervisor::exiting() const {
    if (!impl_->running) return true;
    std::ifstream stat("/proc/" + std::to_string(impl_->pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return true;
    std::istringstream fields(text.substr(close + 2));
    std::string state;
    fields >> state;
    unsigned long flags = 0;
    std::string skip;
    for (int i = 0; i < 5; ++i) fields >> skip;   // ppid pgrp session tty_nr tpgid
    fields >> flags;
    constexpr unsigned long kPfExiting = 0x4;
    return state == "Z" || state == "X" || (flags & kPfExiting);
}
bool Supervisor::running() const { return impl_->running; }

bool Supervisor::send_signal(int signo) {
    if (!impl_->running) return false;
    return ::kill(impl_->pid, signo) == 0;
}

void Supervisor::kill_after(std::chrono::nanoseconds grace, std::function<void(int64_t)> on_forced,
                            std::function<void()> before_kill) {
    Impl& s = *impl_;
    if (s.grace_armed || !s.running) return;
    s.grace_armed = true;
    s.grace.expires_after(grace);
    s.grace.async_wait([self = impl_, on_forced = std::move(on_forced),
                        before_kill = std::move(before_kill)](const boost::system::error_code& ec) {
        Impl& s = *self;
        if (ec || s.owner_gone || !s.running) return;
        if (before_kill) before_kill();
        s.forced = true;
        s.kill_group();
        on_forced(s.clock.now_ns());
    });
}

void Supervisor::kill_group() { impl_->kill_group(); }

void Supervisor::on_logs_closed(std::function<void()> handler) {
    if (impl_->pipes_closed == 2) return handler();
    impl_->logs_closed_handler = std::move(handler);
}

const std::string& Supervisor::trace_error() const { return impl_->trace_error; }

std::vector<LogLine> Supervisor::log_tail() const { return impl_->ring->tail(); }
uint64_t Supervisor::log_lines_total() const { return impl_->ring->lines_total(); }
uint64_t Supervisor::log_bytes_total() const { return impl_->ring->bytes_total(); }

}  // namespace draincheck
