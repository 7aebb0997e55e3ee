#include "dependencies/command_ready.h"

#include "common/signals.h"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

namespace draincheck {
namespace {

struct CommandWait : std::enable_shared_from_this<CommandWait> {
    CommandWait(boost::asio::io_context& io, const RunClock& clock, LaunchSpec spec, SteadyClock::time_point deadline,
                std::chrono::nanoseconds interval, std::function<void(bool, std::string)> done)
        : io(io), clock(clock), spec(std::move(spec)), deadline(deadline), interval(interval), timer(io),
          done(std::move(done)) {}

    void arm_deadline() {
        deadline_timer.expires_at(deadline);
        deadline_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->cancelled) return;
            if (self->process) self->process->kill_group();   // a probe that hangs is a failed probe
            // An attempt that has exited but whose output is still being read says what it can already.
            if (self->judging) self->last = self->with_last_line(*self->judging);
            self->finish(false, self->last.empty() ? "the command did not finish" : self->last);
        });
    }

    void attempt() {
        if (cancelled) return;
        process = std::make_unique<Supervisor>(io, clock, spec);
        try {
            process->start([self = shared_from_this()](const ExitInfo& e) { self->on_exit(e); });
        } catch (const LaunchError& e) {
            finish(false, e.what());
        }
    }

    void on_exit(const ExitInfo& e) {
        if (cancelled) return;
        if (e.code == 0) return finish(true, "exit 0");
        judging = e.signal ? "killed by " + signal_name(*e.signal) : "exit " + std::to_string(e.code.value_or(-1));
        // Judged once its output is read to the end: its last line usually says why it failed.
        process->on_logs_closed([self = shared_from_this()] { self->on_failed(); });
    }

    std::string with_last_line(const std::string& how) const {
        auto tail = process ? process->log_tail() : std::vector<LogLine>{};
        return tail.empty() ? how : how + ": " + tail.back().text;
    }

    void on_failed() {
        if (cancelled) return;
        last = with_last_line(*judging);
        judging.reset();
        if (SteadyClock::now() + interval >= deadline) return finish(false, last);
        timer.expires_after(interval);
        timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->attempt();
        });
    }

    void finish(bool ok, std::string detail) {
        if (cancelled) return;
        cancelled = true;
        timer.cancel();
        deadline_timer.cancel();
        process.reset();   // also from inside its own callback: the supervisor allows it
        done(ok, std::move(detail));
    }

    boost::asio::io_context& io;
    RunClock clock;
    LaunchSpec spec;
    SteadyClock::time_point deadline;
    std::chrono::nanoseconds interval;
    boost::asio::steady_timer timer, deadline_timer{io};
    std::string last;                      // how the last finished attempt ended
    std::optional<std::string> judging;    // how the attempt whose output is still being read ended
    std::function<void(bool, std::string)> done;
    std::unique_ptr<Supervisor> process;
    bool cancelled = false;
};

}  // namespace

std::function<void()> async_wait_command_ready(boost::asio::io_context& io, const RunClock& clock, LaunchSpec command,
                                               std::chrono::nanoseconds timeout, std::chrono::nanoseconds interval,
                                               std::function<void(bool ready, std::string last)> done) {
    command.log_tail_lines = 5;
    auto wait = std::make_shared<CommandWait>(io, clock, std::move(command), SteadyClock::now() + timeout, interval,
                                              std::move(done));
    wait->arm_deadline();
    wait->attempt();
    return [wait] {
        wait->cancelled = true;
        wait->timer.cancel();
        wait->deadline_timer.cancel();
        wait->process.reset();   // kills a command still running
    };
}

}  // namespace draincheck
