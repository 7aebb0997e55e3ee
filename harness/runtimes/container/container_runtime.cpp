#include "runtimes/container/container_runtime.h"

#include "common/command_output.h"
#include "common/signals.h"
#include "proxy/socket_owner.h"
#include "supervisor/orphan_guard.h"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <optional>

namespace draincheck {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr auto kDockerTimeout = std::chrono::seconds(60);
// After PID 1 is gone, how long Docker may take to report its exit code before draincheck asks.
constexpr auto kDieEventWait = std::chrono::seconds(3);

std::string first_line(const std::string& text) {
    auto line = text.substr(0, text.find('\n'));
    return line.empty() ? text : line;
}

// docker inspect's State of a container: nullopt when Docker does not know it.
struct ContainerState {
    pid_t pid = 0;
    bool running = false;
    int exit_code = 0;
    bool oom_killed = false;
};

std::optional<ContainerState> inspect_state(const std::string& name) {
    CommandOutput r = run_command({"docker", "inspect", "--type", "container", "--format", "{{json .State}}", name},
                                  std::chrono::seconds(20));
    if (!r.ok()) return std::nullopt;
    auto state = nlohmann::json::parse(r.out, nullptr, false);
    if (!state.is_object()) return std::nullopt;
    ContainerState s;
    s.pid = state.value("Pid", 0);
    s.running = state.value("Running", false);
    s.exit_code = state.value("ExitCode", 0);
    s.oom_killed = state.value("OOMKilled", false);
    return s;
}

// Docker reports a death by signal n as 128 + n, as a shell would.
ExitInfo exit_from_code(int64_t at_ns, int code, bool forced) {
    ExitInfo e;
    e.exited = true;
    e.at_ns = at_ns;
    e.forced = forced;
    if (code > 128 && code <= 128 + 64) e.signal = code - 128;
    else e.code = code;
    return e;
}

LaunchSpec helper_spec(std::vector<std::string> argv, const LaunchSpec& target) {
    LaunchSpec spec;
    spec.argv = std::move(argv);
    spec.helper = true;
    spec.secrets = target.secrets;
    spec.log_tail_lines = target.log_tail_lines;
    spec.log_line_max_bytes = target.log_line_max_bytes;
    return spec;
}

class ContainerRuntime final : public TargetRuntime {
public:
    ContainerRuntime(asio::io_context& io, const RunClock& clock, const ContainerPlan& plan, LaunchSpec launch)
        : io_(io), clock_(clock), plan_(plan), launch_(std::move(launch)), grace_timer_(io), die_wait_(io) {}

    ~ContainerRuntime() override {
        kill_group();
        if (pidfd_) pidfd_->close();
        if (started_) run_command({"docker", "rm", "--force", "--volumes", plan_.name}, kDockerTimeout);
    }

    void start(std::function<void(const ExitInfo&)> on_exit) override {
        on_exit_ = std::move(on_exit);
        if (!program_in_path("docker"))
            throw LaunchError(LaunchError::Kind::missing_binary, "docker not found: install the docker.io package");
        follow_events();
        note_container_started();
        started_ = true;
        CommandOutput run = run_command(plan_.run_argv, kDockerTimeout);
        if (!run.ok())
            throw LaunchError(LaunchError::Kind::spawn_failed,
                              "docker run " + plan_.image + " failed: " + first_line(run.err.empty() ? run.out : run.err));
        follow_logs();
        auto state = inspect_state(plan_.name);
        if (!state) throw LaunchError(LaunchError::Kind::spawn_failed, "docker inspect " + plan_.name + " failed after docker run");
        if (!state->running || state->pid <= 0) {
            // Gone already (e.g. its command does not exist in the image): report what Docker says.
            int64_t at = clock_.now_ns();
            asio::post(io_, [this, at, code = state->exit_code] { report_exit(exit_from_code(at, code, false)); });
            return;
        }
        pid_ = state->pid;
        watch_pid();
    }

    pid_t pid() const override { return pid_; }
    std::string describe() const override {
        return "container " + plan_.name + " (" + plan_.image + "), PID 1 is host pid " + std::to_string(pid_);
    }
    bool exiting() const override { return exited_at_ || !pid_ || process_exiting(pid_); }
    bool running() const override { return pid_ > 0 && !exited_at_; }
    void signal_group(int signo) override {
        if (!running()) return;
        for (const ProcessInfo& p : read_process_tree(pid_)) ::kill(p.pid, signo);
    }

    bool send_signal(int signo) override {
        if (exited_at_ || pid_ <= 0) return false;
        return ::kill(pid_, signo) == 0;
    }

    void kill_after(std::chrono::nanoseconds grace, std::function<void(int64_t)> on_forced) override {
        if (grace_armed_ || exited_at_) return;
        grace_armed_ = true;
        grace_timer_.expires_after(grace);
        grace_timer_.async_wait([this, on_forced = std::move(on_forced)](const error_code& ec) {
            if (ec || exited_at_ || pid_ <= 0) return;
            read_tree_at_kill();
            forced_ = true;
            ::kill(pid_, SIGKILL);   // PID 1 gone: the kernel kills every process of the container
            on_forced(clock_.now_ns());
        });
    }

    void kill_group() override {
        if (pid_ > 0 && !exited_at_) ::kill(pid_, SIGKILL);
    }

    void on_logs_closed(std::function<void()> handler) override {
        if (logs_) logs_->on_logs_closed(std::move(handler));
        else asio::post(io_, std::move(handler));
    }

    const std::string& trace_error() const override { return trace_error_; }
    bool in_container() const override { return true; }
    std::vector<LogLine> log_tail() const override { return logs_ ? logs_->log_tail() : std::vector<LogLine>{}; }
    uint64_t log_lines_total() const override { return logs_ ? logs_->log_lines_total() : 0; }

private:
    // Docker's own account of the container: started before `docker run`, and replayed from a second
    // before, so that no event of this (uniquely named) container is missed.
    void follow_events() {
        auto since = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()) -
                     std::chrono::seconds(1);
        LaunchSpec spec = helper_spec({"docker", "events", "--since", std::to_string(since.count()), "--filter",
                                       "type=container", "--filter", "container=" + plan_.name, "--format", "{{json .}}"},
                                      launch_);
        spec.on_line = [this](const LogLine& l) { on_docker_event(l.text); };
        events_ = std::make_unique<Supervisor>(io_, clock_, std::move(spec));
        events_->start([](const ExitInfo&) {});
    }

    void on_docker_event(const std::string& line) {
        auto event = nlohmann::json::parse(line, nullptr, false);
        if (!event.is_object()) return;
        std::string action = event.value("Action", event.value("status", ""));
        const auto& attributes = event.contains("Actor") ? event["Actor"].value("Attributes", nlohmann::json::object())
                                                         : nlohmann::json::object();
        if (action == "oom") oom_ = true;
        if (action != "die") return;
        int code = std::atoi(attributes.value("exitCode", "0").c_str());
        die_code_ = code;
        if (exited_at_) finish_exit();
    }

    void follow_logs() {
        LaunchSpec spec = helper_spec({"docker", "logs", "--follow", plan_.name}, launch_);
        spec.on_line = launch_.on_line;
        logs_ = std::make_unique<Supervisor>(io_, clock_, std::move(spec));
        logs_->start([](const ExitInfo&) {});
    }

    // PID 1's end, to the microsecond: a pidfd becomes readable when the process exits.
    void watch_pid() {
        int fd = int(::syscall(SYS_pidfd_open, pid_, 0));
        if (fd < 0) {
            trace_error_ = "cannot watch the container's PID 1 (pidfd_open: " + std::string(std::strerror(errno)) +
                           "): its exit time is Docker's report";
            return;
        }
        pidfd_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
        pidfd_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
            if (ec) return;
            exited_at_ = clock_.now_ns();
            if (die_code_) return finish_exit();
            die_wait_.expires_after(kDieEventWait);
            die_wait_.async_wait([this](const error_code& ec) {
                if (ec || reported_) return;
                auto state = inspect_state(plan_.name);
                die_code_ = state ? state->exit_code : 137;
                finish_exit();
            });
        });
    }

    void finish_exit() {
        die_wait_.cancel();
        report_exit(exit_from_code(*exited_at_, *die_code_, forced_));
    }

    void report_exit(ExitInfo e) {
        if (reported_) return;
        reported_ = true;
        e.known_ns = clock_.now_ns();
        if (!exited_at_) exited_at_ = e.at_ns;
        grace_timer_.cancel();
        if (on_exit_) on_exit_(e);
    }

    asio::io_context& io_;
    const RunClock& clock_;
    ContainerPlan plan_;
    LaunchSpec launch_;
    std::function<void(const ExitInfo&)> on_exit_;
    std::unique_ptr<Supervisor> events_, logs_;
    std::unique_ptr<asio::posix::stream_descriptor> pidfd_;
    asio::steady_timer grace_timer_, die_wait_;
    pid_t pid_ = 0;
    bool started_ = false, grace_armed_ = false, forced_ = false, reported_ = false, oom_ = false;
    std::optional<int64_t> exited_at_;
    std::optional<int> die_code_;
    std::string trace_error_ = "the target runs in a container: its exits are not traced";
};

}  // namespace

std::unique_ptr<TargetRuntime> make_container_runtime(boost::asio::io_context& io, const RunClock& clock,
                                                      const ContainerPlan& plan, LaunchSpec launch) {
    return std::make_unique<ContainerRuntime>(io, clock, plan, std::move(launch));
}

}  // namespace draincheck
