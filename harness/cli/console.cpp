#include "cli/console.h"

#include "common/duration.h"
#include "common/signals.h"
#include "load/outcome.h"
#include "verifier/breakdown.h"
#include "verifier/dependency_checks.h"

#include <fmt/format.h>

namespace draincheck {
namespace {

std::string seconds(int64_t ns) { return fmt::format("+{:.3f}s", double(ns) / 1e9); }
std::string ms(uint32_t us) { return fmt::format("{:.1f}", double(us) / 1000.0); }

std::string join_argv(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        out += a.find(' ') == std::string::npos ? a : "'" + a + "'";
    }
    return out;
}

constexpr size_t kEvidenceShown = 3;

// One line a person can check: which request, when, on which connection, and how it ended.
std::string describe_request(const RunResult& run, const PhaseBounds& bounds, size_t index) {
    const RequestRecord& r = run.records[index];
    const RequestTemplate& t = run.scenario.load.template_at(r.template_index);
    std::string how = r.has(kPeerReset) ? (r.has(kPeerEof) ? "closed (FIN, then RST)" : "reset (RST)")
                      : r.has(kPeerEof) ? "closed (FIN)" : r.has(kLocalTimeout) ? "timed out" : "ended";
    return fmt::format("#{} {} {} started {} ({}), connection {} ({}), {} bytes, {} at {} -> {}", index, t.method, t.path,
                       seconds(int64_t(r.started_us) * 1000), phase_name(bounds.phase_of(r)), r.connection_id,
                       r.has(kReusedConnection) ? "reused" : "new", r.response_bytes, how,
                       seconds(int64_t(r.ended_at_us()) * 1000),
                       std::string(outcome_name(r.outcome)) + (r.status ? " " + std::to_string(r.status) : ""));
}

// The load asked for against the load delivered (verdict.load).
std::string load_delivered(const RunResult& run, const LoadDelivery& d) {
    const LoadSpec& l = run.scenario.load;
    std::string asked = d.open_loop ? format_rate(d.requested_rate) + " req/s" : fmt::format("{} connections", l.connections);
    return fmt::format("  load: requested {} for {}; sent {} requests in {:.3f}s, {} req/s", asked,
                       format_duration(l.duration), d.sent, double(d.sending_ns) / 1e9, format_rate(d.achieved_rate));
}

}  // namespace

void Console::begin(const RunPlan& plan) {
    if (verbosity_ == Verbosity::quiet) return;
    const Scenario& s = plan.scenario;
    fmt::print(out_, "scenario {} ({})\n", s.name, s.source_path);
    if (s.fleet)
        fmt::print(out_, "fleet    {} replicas of {}  behind the {} load balancer on {}:{}\n", s.fleet->replicas,
                   join_argv(s.target.command), s.fleet->lb == FleetSpec::Balancer::haproxy ? "haproxy" : "built-in",
                   plan.host, plan.port);
    else if (s.platform && s.platform->kind == PlatformSpec::Kind::pm2)
        fmt::print(out_, "platform PM2: {} {} instance(s) of {}  on {}:{}\n", s.platform->instances,
                   s.platform->exec_mode == PlatformSpec::ExecMode::cluster ? "cluster" : "fork",
                   join_argv(plan.shown_argv), plan.host, plan.port);
    else if (s.platform)
        fmt::print(out_, "platform Docker Swarm: {} task(s) of {}  behind the {} load balancer on {}:{}\n",
                   s.platform->replicas, s.target.container ? s.target.container->image : join_argv(plan.shown_argv),
                   s.platform->lb == FleetSpec::Balancer::haproxy ? "haproxy" : "built-in", plan.host, plan.port);
    else
        fmt::print(out_, "target   {}  on {}:{}\n", join_argv(plan.shown_argv), plan.host, plan.port);
    const LoadSpec& l = s.load;
    if (l.mode == LoadSpec::Mode::rate)
        fmt::print(out_, "load     {} req/s for {}, {} request kind(s)\n", l.rate, format_duration(l.duration),
                   l.mix.empty() ? 1 : l.mix.size());
    else
        fmt::print(out_, "load     {} connections for {}, {} request kind(s)\n", l.connections,
                   format_duration(l.duration), l.mix.empty() ? 1 : l.mix.size());
    std::fflush(out_);
}

void Console::clear_progress_line() {
    if (tty_ && progress_shown_) {
        std::fputs("\r\033[K", out_);
        progress_shown_ = false;
    }
}

void Console::on_event(const RunEvent& e) {
    if (verbosity_ == Verbosity::quiet) return;
    clear_progress_line();
    fmt::print(out_, "  {:>9}  {}{}{}{}\n", seconds(e.at_ns), e.subject.empty() ? "" : e.subject + ": ",
               event_type_name(e.type), e.detail.empty() ? "" : "  ", e.detail);
    std::fflush(out_);
}

void Console::on_progress(const LiveStatus& s) {
    if (verbosity_ == Verbosity::quiet) return;
    std::string line = fmt::format("[{:5.1f}s] {:<8} {:>7.0f} req/s  in-flight {:>5}  errors {:>6}  done {:>8}",
                                   s.elapsed_s, s.phase, s.requests_per_s, s.load.in_flight(), s.load.errors,
                                   s.load.completed);
    if (tty_) {
        fmt::print(out_, "\r\033[K{}", line);
        progress_shown_ = true;
    } else if (++ticks_ % 4 == 0) {
        fmt::print(out_, "  {}\n", line);   // once a second, plain, for CI logs
    }
    std::fflush(out_);
}

std::string summary_text(const RunResult& run, const Verdict& verdict, const RunStats& stats) {
    std::string out;
    auto line = [&out](std::string text) { out += text + "\n"; };
    PhaseBounds bounds = phase_bounds(run);
    for (const Assertion& a : verdict.assertions) {
        line(fmt::format("  {} {:<31} expected {:<12} observed {}", a.passed ? "ok  " : "FAIL", a.name, a.expected, a.observed));
        if (!a.passed)
            for (const std::string& kind : breakdown_lines(a.breakdown)) line("         " + kind);
        for (size_t i = 0; i < a.evidence.size() && i < kEvidenceShown; ++i)
            line("         " + describe_request(run, bounds, a.evidence[i]));
        if (a.evidence.size() > kEvidenceShown)
            line(fmt::format("         … {} more in the report", a.evidence.size() - kEvidenceShown));
    }
    for (const std::string& w : verdict.warnings) line("  warning: " + w);
    line("\n" + load_delivered(run, verdict.load));

    // A fleet run's middle phase is the time its faults ran (see phase_bounds).
    auto label = [&run](Phase p) { return run.fleet && p == Phase::draining ? std::string_view("faults") : phase_name(p); };
    line(fmt::format("\n  {:<14}{:>10}{:>10}{:>10}", "outcome", label(Phase::before), label(Phase::draining),
                     label(Phase::after)));
    for (int o = 0; o < kOutcomeCount; ++o) {
        uint64_t row = stats.counts[0][o] + stats.counts[1][o] + stats.counts[2][o];
        if (row == 0) continue;
        line(fmt::format("  {:<14}{:>10}{:>10}{:>10}", outcome_name(Outcome(o)), stats.counts[0][o], stats.counts[1][o],
                         stats.counts[2][o]));
    }
    line(fmt::format("\n  {:<14}{:>10}{:>10}{:>10}{:>10}{:>10}", "latency ms", "count", "p50", "p90", "p99", "max"));
    for (int p = 0; p < kPhaseCount; ++p) {
        const LatencySummary& l = stats.latency[p];
        if (l.count == 0) continue;
        line(fmt::format("  {:<14}{:>10}{:>10}{:>10}{:>10}{:>10}", label(Phase(p)), l.count, ms(l.p50_us),
                         ms(l.p90_us), ms(l.p99_us), ms(l.max_us)));
    }
    const ExitInfo& e = run.exit;
    if (e.exited) {
        std::string how = e.signal ? "killed by " + signal_name(*e.signal) : "exit code " + std::to_string(*e.code);
        if (e.forced) how += " (forced after " + format_duration(run.scenario.target.kill_after) + ")";
        if (run.stop_signal_ns)
            how += fmt::format(", {:.3f}s after {}", double(e.at_ns - *run.stop_signal_ns) / 1e9, signal_name(*run.stop_signal));
        line("\n  target: " + how);
    }
    if (run.fleet) {
        const auto& attempts = run.fleet->attempts;
        size_t failed = 0, retries = 0;
        for (const BackendAttempt& b : attempts) {
            failed += b.outcome != BackendOutcome::ok;
            retries += b.retry;
        }
        if (!run.fleet->balancer.empty())
            line(fmt::format("\n  {} load balancer: {} backend attempts, {} failed, {} retries", run.fleet->balancer,
                             attempts.size(), failed, retries));
        else
            line(fmt::format("\n  {}: {} request(s) in flight at instances when they were signalled, {} not answered well",
                             run.fleet->platform, attempts.size(), failed));
        const bool platform = !run.fleet->platform.empty();
        const bool by_pid = run.fleet->balancer.empty();   // no balancer (PM2's cluster): instances share a port
        for (const ReplicaResult& r : run.fleet->replicas) {
            std::string how = r.exit.exited ? describe_exit(r.exit) : "still running";
            if (r.signalled_ns && r.exit.exited)
                how += fmt::format(", {:.3f}s after {}", double(r.exit.at_ns - *r.signalled_ns) / 1e9,
                                   r.signal ? signal_name(*r.signal) : "its signal");
            size_t served = 0;
            for (const RequestRecord& rec : run.records) served += rec.replica_index() == r.index;
            line(fmt::format("  {} {} ({} {}): {} {} requests; {}{}", platform ? "instance" : "replica", r.index,
                             by_pid ? "pid" : "port", by_pid ? r.pid : r.port, by_pid ? "held" : "served", served,
                             r.stopped_by.empty() ? "" : "stopped by " + r.stopped_by + ", ", how));
        }
    }
    for (const DependencyResult& d : run.dependencies) {
        size_t closed = 0;
        for (const ProxyConnection& c : d.connections) closed += judge_connection(c, run).ok ? 1 : 0;
        line(fmt::format("  {}: {} connection{} through the proxy, {} closed before the target exited; {} outage{}", d.name,
                         d.connections.size(), d.connections.size() == 1 ? "" : "s", closed, d.outages.size(),
                         d.outages.size() == 1 ? "" : "s"));
    }
    line("\n" + verdict.summary);
    return out;
}

void Console::summary(const std::string& scenario_name, const Verdict& verdict, const std::string& text) {
    clear_progress_line();
    if (verbosity_ == Verbosity::quiet) fmt::print(out_, "{}: {}\n", scenario_name, verdict.summary);
    else fmt::print(out_, "\n{}", text);
    std::fflush(out_);
}

void Console::repeat_summary(const std::string& scenario_name, const RepeatSummary& r) {
    clear_progress_line();
    if (verbosity_ == Verbosity::quiet) {
        fmt::print(out_, "{}: repeat: {}\n", scenario_name, repeat_line(r));
        std::fflush(out_);
        return;
    }
    constexpr size_t kFailuresShown = 10;
    std::string text = fmt::format("\n{} repeated: {}{}\n", scenario_name, repeat_line(r).substr(0, repeat_line(r).find(';')),
                                   r.until_fail && r.ran < r.asked ? " (stopped at the first failure)" : "");
    text += fmt::format("  {:<32} {:>5} {:>7}\n", "assertion", "held", "failed");
    for (const RepeatTally& t : r.assertions) {
        text += fmt::format("  {:<32} {:>5} {:>7}\n", t.name, t.held, t.failed);
        for (size_t i = 0; i < t.failures.size() && i < kFailuresShown; ++i)
            text += fmt::format("      run {}: {}\n", t.failures[i].run, t.failures[i].reason);
        if (t.failures.size() > kFailuresShown)
            text += fmt::format("      … and {} more failing runs\n", t.failures.size() - kFailuresShown);
    }
    for (const std::string& w : r.warnings) text += "  warning: " + w + "\n";
    text += fmt::format("worst: run {} (exit code {})\n", r.worst_run, r.worst_exit_code);
    fmt::print(out_, "{}", text);
    std::fflush(out_);
}

void Console::on_log(const LogLine& l) {
    if (verbosity_ != Verbosity::verbose) return;
    clear_progress_line();
    fmt::print(out_, "  {:>9}  {} {}\n", seconds(l.at_ns), l.is_stderr ? "err|" : "out|", l.text);
    std::fflush(out_);
}

void Console::harness_error(const std::string& scenario, const std::string& message, const std::vector<LogLine>& tail) {
    clear_progress_line();
    fmt::print(stderr, "draincheck: {}: {}\n", scenario, message);
    if (!tail.empty()) {
        fmt::print(stderr, "last lines of the target's output:\n");
        size_t from = tail.size() > 20 ? tail.size() - 20 : 0;
        for (size_t i = from; i < tail.size(); ++i)
            fmt::print(stderr, "  {} {}\n", tail[i].is_stderr ? "err|" : "out|", tail[i].text);
    }
    std::fflush(stderr);
}

}  // namespace draincheck
