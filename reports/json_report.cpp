#include "reports/json_report.h"

#include "reports/atomic_file.h"

#include "common/signals.h"
#include "load/outcome.h"
#include "verifier/dependency_checks.h"
#include "verifier/fleet_checks.h"
#include "verifier/phase.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace draincheck {

using nlohmann::json;

namespace {

double seconds(int64_t ns) { return double(ns) / 1e9; }
json offset_ms(uint32_t us) { return us == RequestRecord::kNever ? json(nullptr) : json(double(us) / 1000.0); }

json outcome_counts(const std::array<uint64_t, kOutcomeCount>& counts) {
    json j = json::object();
    for (int o = 0; o < kOutcomeCount; ++o) j[std::string(outcome_name(Outcome(o)))] = counts[size_t(o)];
    return j;
}

json latency(const LatencySummary& l) {
    return {{"count", l.count}, {"p50", l.p50_us}, {"p90", l.p90_us}, {"p99", l.p99_us}, {"max", l.max_us}};
}

json request(const RunResult& run, const PhaseBounds& bounds, size_t index) {
    const RequestRecord& r = run.records[index];
    const RequestTemplate& t = run.scenario.load.template_at(r.template_index);
    return {
        {"index", index},
        {"phase", phase_name(bounds.phase_of(r))},
        {"outcome", outcome_name(r.outcome)},
        {"method", t.method},
        {"path", t.path},
        {"intended_s", double(r.intended_us) / 1e6},
        {"started_s", double(r.started_us) / 1e6},
        {"connected_ms", offset_ms(r.connected_us)},
        {"written_ms", offset_ms(r.written_us)},
        {"first_byte_ms", offset_ms(r.first_byte_us)},
        {"ended_ms", offset_ms(r.end_us)},
        {"latency_ms", double(latency_us(r)) / 1000.0},
        {"status", r.status},
        {"response_bytes", r.response_bytes},
        {"connection_id", r.connection_id},
        {"reused_connection", r.has(kReusedConnection)},
        {"peer_reset", r.has(kPeerReset)},
        {"peer_eof", r.has(kPeerEof)},
        {"replica", r.replica_index() >= 0 ? json(r.replica_index()) : json(nullptr)},
        {"lb_retries", r.lb_retries},
    };
}

json log_tail_json(const std::vector<LogLine>& lines) {
    json tail = json::array();
    for (const LogLine& l : lines)
        tail.push_back({{"at_s", seconds(l.at_ns)}, {"stream", l.is_stderr ? "stderr" : "stdout"}, {"text", l.text}});
    return tail;
}

json optional_s(const std::optional<int64_t>& ns) { return ns ? json(seconds(*ns)) : json(nullptr); }

json exit_json(const ExitInfo& x) {
    return {{"exited", x.exited}, {"at_s", x.exited ? json(seconds(x.at_ns)) : json(nullptr)},
            {"code", x.code ? json(*x.code) : json(nullptr)},
            {"signal", x.signal ? json(signal_name(*x.signal)) : json(nullptr)}, {"forced", x.forced},
            {"known_after_s", x.exited ? json(seconds(std::max<int64_t>(0, (x.known_ns ? x.known_ns : x.at_ns) - x.at_ns)))
                                       : json(nullptr)}};
}

// The load asked for and the load delivered (verdict.load): the facts behind its load warnings.
json load_json(const RunResult& run, const LoadDelivery& d) {
    json j = {{"started_s", seconds(run.load_started_ns)},
              {"sending_stopped_s", seconds(run.load_sending_stopped_ns)},
              {"stopped_s", seconds(run.load_stopped_ns)},
              {"mode", d.open_loop ? "rate" : "connections"},
              {"requested_duration_s", seconds(d.requested_duration_ns)},
              {"sent", d.sent},
              {"sending_s", seconds(d.sending_ns)},
              {"achieved_rate", d.achieved_rate},
              {"overrun_s", seconds(d.overrun_ns)},
              // Closed loop has no requested rate, so no schedule to fall behind.
              {"requested_rate", nullptr},
              {"seconds_below_rate", nullptr},
              {"waited_for_connection", nullptr},
              {"sent_late", nullptr}};
    if (!d.open_loop) return j;
    j["requested_rate"] = d.requested_rate;
    j["seconds_below_rate"] = json::array();
    for (const SecondBelowRate& s : d.seconds_below_rate)
        j["seconds_below_rate"].push_back({{"second", s.second}, {"sent", s.sent}, {"requested", s.requested}});
    j["waited_for_connection"] = {{"count", d.waited_for_connection}, {"longest_s", seconds(d.longest_wait_ns)},
                                  {"never_sent", d.never_sent}};
    j["sent_late"] = {{"count", d.sent_late}, {"bound_s", seconds(std::chrono::nanoseconds(kLateSendBound).count())},
                      {"latest_s", seconds(d.latest_start_ns)}};
    return j;
}

}  // namespace

json dependencies_json(const RunResult& run) {
    json list = json::array();
    for (const DependencyResult& d : run.dependencies) {
        json connections = json::array();
        for (const ProxyConnection& c : d.connections) {
            ConnectionJudgement j = judge_connection(c, run);
            connections.push_back({{"id", c.id},
                                   {"target_port", c.target_port},
                                   {"opened_s", seconds(c.opened_ns)},
                                   {"closed_s", optional_s(c.closed_ns)},
                                   {"closed_by", c.closed_by ? json(closer_name(*c.closed_by)) : json(nullptr)},
                                   {"close_detail", c.close_detail},
                                   {"bytes_up", c.bytes_up},
                                   {"bytes_down", c.bytes_down},
                                   {"owner_pid", c.owner_pid ? json(*c.owner_pid) : json(nullptr)},
                                   {"owner_name", c.owner_name},
                                   {"owner_exiting_at_close", c.owner_exiting_at_close},
                                   {"dependency_closed_by_itself", c.dependency_closed_by_itself},
                                   {"closed_before_exit", j.ok},
                                   {"how", j.how}});
        }
        json outages = json::array();
        for (const Outage& o : d.outages)
            outages.push_back({{"down_s", seconds(o.down_ns)}, {"up_s", optional_s(o.up_ns)}, {"how", o.how}});
        list.push_back({{"name", d.name}, {"command", d.argv}, {"port", d.port}, {"proxy_port", d.proxy_port},
                        {"connections", connections}, {"outages", outages}, {"log_tail", log_tail_json(d.log_tail)}});
    }
    return list;
}

json repeat_json(const RepeatSummary& summary) {
    json assertions = json::array();
    for (const RepeatTally& t : summary.assertions) {
        json failures = json::array();
        for (const RepeatFailure& f : t.failures)
            failures.push_back({{"run", f.run}, {"reason", f.reason}, {"observed", f.observed},
                                {"report", f.report.empty() ? json(nullptr) : json(f.report)}});
        assertions.push_back({{"name", t.name}, {"held", t.held}, {"failed", t.failed}, {"failures", failures}});
    }
    return {{"asked", summary.asked},         {"runs", summary.ran},         {"until_fail", summary.until_fail},
            {"passed", summary.passed},       {"failed", summary.failed},    {"not_judged", summary.not_judged},
            {"worst_exit_code", summary.worst_exit_code}, {"worst_run", summary.worst_run},
            {"assertions", assertions},       {"warnings", summary.warnings}, {"line", repeat_line(summary)}};
}

json exit_stops_json(const RunResult& run) {
    json stops = json::array();
    for (const ExitStop& s : run.exit_stops) {
        json held = json::array();
        for (const HeldConnection& h : s.held)
            held.push_back({{"proxy_port", h.proxy_port}, {"target_port", h.target_port}, {"holders", h.holders}});
        stops.push_back({{"pid", s.pid}, {"at_s", seconds(s.at_ns)}, {"target", s.target}, {"held", held}});
    }
    return stops;
}

json fleet_json(const RunResult& run) {
    if (!run.fleet) return nullptr;
    const FleetResult& f = *run.fleet;
    std::vector<uint64_t> served(f.replicas.size()), failed(f.replicas.size());
    for (const RequestRecord& r : run.records)
        if (r.replica_index() >= 0 && size_t(r.replica_index()) < served.size()) {
            ++served[size_t(r.replica_index())];
            failed[size_t(r.replica_index())] += r.outcome != Outcome::ok;
        }
    json replicas = json::array();
    for (const ReplicaResult& r : f.replicas)
        replicas.push_back({{"index", r.index}, {"requests", served[size_t(r.index)]},
                            {"requests_failed", failed[size_t(r.index)]}, {"port", r.port}, {"pid", r.pid}, {"command", r.argv},
                            {"spawned_s", seconds(r.spawned_ns)}, {"ready_s", optional_s(r.ready_ns)},
                            {"in_lb_s", optional_s(r.in_lb_ns)}, {"out_lb_s", optional_s(r.out_lb_ns)},
                            {"signalled_s", optional_s(r.signalled_ns)},
                            {"signal", r.signal ? json(signal_name(*r.signal)) : json(nullptr)},
                            {"stopped_by", r.stopped_by}, {"exit", exit_json(r.exit)},
                            {"log_tail", log_tail_json(r.log_tail)}});
    json health = json::array();
    for (const HealthChange& h : f.health)
        health.push_back({{"at_s", seconds(h.at_ns)}, {"replica", h.replica}, {"healthy", h.healthy}, {"detail", h.detail}});
    json attempts = json::array();
    for (const BackendAttempt& b : f.attempts)
        attempts.push_back({{"request", b.request}, {"replica", b.replica}, {"started_s", seconds(b.started_ns)},
                            {"ended_s", seconds(b.ended_ns)}, {"status", b.status},
                            {"outcome", backend_outcome_name(b.outcome)}, {"retry", b.retry}, {"reused", b.reused}});
    json faults = json::array();
    for (const FleetFaultWindow& w : f.faults)
        faults.push_back({{"action", w.action}, {"started_s", seconds(w.started_ns)}, {"done_s", optional_s(w.done_ns)},
                          {"capacity_restored_s", optional_s(w.capacity_restored_ns)},
                          {"wanted_replicas", w.wanted_replicas}});
    json state = json::array();
    for (const StateCheck& c : f.state_checks)
        state.push_back({{"at_s", seconds(c.at_ns)}, {"when", c.when}, {"created_on", c.created_on},
                         {"read_on", c.read_on}, {"status", c.status}, {"ok", c.ok}, {"detail", c.detail}});
    json dropped = json::array();
    for (const BackendAttempt* b : failed_by_stopping_replicas(run))
        dropped.push_back({{"request", b->request}, {"replica", b->replica}, {"ended_s", seconds(b->ended_ns)},
                           {"outcome", backend_outcome_name(b->outcome)}, {"status", b->status}});
    // Each stop with the attempts in flight at it when it was signalled, judged as dropped_inflight judges them.
    json stops = json::array();
    for (const StopWaterfall& w : stop_waterfalls(run)) {
        const ReplicaResult& r = *std::find_if(f.replicas.begin(), f.replicas.end(),
                                               [&](const ReplicaResult& x) { return x.index == w.replica; });
        json in_flight = json::array();
        for (const InFlightAttempt& a : w.in_flight)
            in_flight.push_back({{"request", a.attempt.request}, {"started_s", seconds(a.attempt.started_ns)},
                                 {"ended_s", seconds(a.attempt.ended_ns)}, {"status", a.attempt.status},
                                 {"outcome", backend_outcome_name(a.attempt.outcome)}, {"retry", a.attempt.retry},
                                 {"end", in_flight_end_name(a.end)}, {"counted", a.counted}});
        stops.push_back({{"replica", w.replica}, {"signalled_s", seconds(w.signalled_ns)},
                         {"signal", r.signal ? json(signal_name(*r.signal)) : json(nullptr)}, {"stopped_by", r.stopped_by},
                         {"judged", w.judged}, {"exit", exit_json(r.exit)}, {"in_flight", in_flight}});
    }
    json held = json::array();
    for (const HeldConnections& h : f.held_at_signal)
        held.push_back({{"replica", h.replica}, {"at_s", seconds(h.at_ns)}, {"client_ports", h.client_ports}});
    return {{"platform", f.platform}, {"balancer", f.balancer}, {"port", f.lb_port}, {"replicas", replicas},
            {"health", health}, {"faults", faults}, {"state_checks", state}, {"backend_attempts", attempts},
            {"dropped_by_stopping_replicas", dropped}, {"stops", stops}, {"held_at_signal", held},
            {"platform_log", log_tail_json(f.platform_log)}};
}

json make_json_report(const RunResult& run, const Verdict& verdict, const RunStats& stats, const std::string& version) {
    PhaseBounds bounds = phase_bounds(run);
    json j;
    j["schema"] = kJsonSchema;
    j["draincheck_version"] = version;
    j["scenario"] = {{"name", run.scenario.name}, {"description", run.scenario.description}, {"file", run.scenario.source_path}};
    j["target"] = {{"command", run.argv}, {"host", run.host}, {"port", run.port}, {"pid", run.pid}};
    j["verdict"] = {{"passed", verdict.passed}, {"summary", verdict.summary}, {"warnings", verdict.warnings},
                    {"cause", verdict.cause}};
    if (run.in_container) j["target"]["stop_signal_source"] = run.stop_signal_source;

    json assertions = json::array();
    for (const Assertion& a : verdict.assertions) {
        json evidence = json::array();
        for (size_t i : a.evidence) evidence.push_back(request(run, bounds, i));
        json breakdown = json::array();
        for (const Tally& t : a.breakdown)
            breakdown.push_back({{"kind", t.kind}, {"count", t.count}, {"counted", t.counted}, {"requests", t.requests}});
        assertions.push_back({{"name", a.name}, {"expected", a.expected}, {"observed", a.observed}, {"passed", a.passed},
                              {"reason", a.reason}, {"evidence", evidence}, {"breakdown", breakdown}});
    }
    j["assertions"] = assertions;

    std::array<uint64_t, kOutcomeCount> totals{};
    json by_phase;
    for (int p = 0; p < kPhaseCount; ++p) {
        by_phase[std::string(phase_name(Phase(p)))] = outcome_counts(stats.counts[size_t(p)]);
        for (int o = 0; o < kOutcomeCount; ++o) totals[size_t(o)] += stats.counts[size_t(p)][size_t(o)];
    }
    j["counts"] = {{"total", stats.total}, {"by_phase", by_phase}, {"by_outcome", outcome_counts(totals)}};
    j["latency_us"] = {{"all", latency(stats.latency_all)}};
    for (int p = 0; p < kPhaseCount; ++p) j["latency_us"][std::string(phase_name(Phase(p)))] = latency(stats.latency[size_t(p)]);

    const ExitInfo& x = run.exit;
    j["exit"] = exit_json(x);
    j["exit"]["after_stop_signal_s"] =
        x.exited && run.stop_signal_ns ? json(seconds(x.at_ns - *run.stop_signal_ns)) : json(nullptr);
    j["stop_signal"] = run.stop_signal_ns ? json{{"name", signal_name(*run.stop_signal)}, {"at_s", seconds(*run.stop_signal_ns)}}
                                          : json(nullptr);
    j["load"] = load_json(run, verdict.load);

    json events = json::array();
    for (const RunEvent& e : run.events)
        events.push_back({{"type", event_type_name(e.type)}, {"at_s", seconds(e.at_ns)}, {"detail", e.detail},
                          {"subject", e.subject.empty() ? "target" : e.subject}});
    j["events"] = events;
    json probes = json::array();
    for (const DrainProbe& p : run.drain_probes)
        probes.push_back({{"at_s", seconds(p.at_ns)}, {"ready", p.ready}, {"detail", p.detail}});
    j["drain_probes"] = probes;
    json outage_probes = json::array();
    for (const DrainProbe& p : run.outage_probes)
        outage_probes.push_back({{"at_s", seconds(p.at_ns)}, {"ready", p.ready}, {"detail", p.detail}});
    j["outage_probes"] = outage_probes;
    j["dependencies"] = dependencies_json(run);
    j["exit_stops"] = exit_stops_json(run);
    j["exit_trace_error"] = run.exit_trace_error;
    j["fleet"] = fleet_json(run);

    auto bucket_list = [](const std::vector<SecondBucket>& buckets, const char* index_name, double width_s) {
        json list = json::array();
        for (const SecondBucket& b : buckets) {
            json s = outcome_counts(b.by_outcome);
            if (width_s == 1.0) s[index_name] = b.second;
            else s[index_name] = double(b.second) * width_s;
            s["p50_us"] = b.p50_us;
            s["p99_us"] = b.p99_us;
            list.push_back(s);
        }
        return list;
    };
    j["per_second"] = bucket_list(stats.per_second, "second", 1.0);
    j["per_100ms"] = bucket_list(stats.per_100ms, "start_s", 0.1);

    json tail = json::array();
    for (const LogLine& l : run.log_tail)
        tail.push_back({{"at_s", seconds(l.at_ns)}, {"stream", l.is_stderr ? "stderr" : "stdout"}, {"text", l.text}});
    j["log"] = {{"lines_total", run.log_lines_total}, {"tail", tail}};
    j["aborted"] = run.aborted;
    j["requests_not_recorded"] = run.requests_not_recorded;
    return j;
}

std::string json_report_text(const json& report) {
    return report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void write_json_report(const std::string& path, const json& report) { write_text_file(path, json_report_text(report)); }

}  // namespace draincheck
