#include "verifier/load_delivery.h"

#include "verifier/assertion_text.h"
#include "verifier/run_result.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace draincheck {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

// Requests an open-loop schedule of `rate` req/s has in its second `k`: those n with n / rate in [k, k+1).
uint64_t scheduled_in_second(double rate, int64_t k) {
    return uint64_t(std::ceil(double(k + 1) * rate) - std::ceil(double(k) * rate));
}

int64_t started_ns(const RequestRecord& r) { return int64_t(r.started_us) * 1000; }

// Whole seconds of the schedule, from the load's start until its duration ended or it stopped sending:
// how many went out in each, and the ones below kMinRateShare of the rate.
void hold_seconds_to_rate(const RunResult& run, LoadDelivery& d) {
    int64_t end = std::min(run.load_started_ns + d.requested_duration_ns, run.load_sending_stopped_ns);
    if (end <= run.load_started_ns) return;
    d.whole_seconds = uint64_t((end - run.load_started_ns) / kSecondNs);
    std::vector<uint64_t> sent(d.whole_seconds);
    for (const RequestRecord& r : run.records) {
        if (r.never_sent()) continue;
        int64_t k = std::max<int64_t>(0, started_ns(r) - run.load_started_ns) / kSecondNs;
        if (k < int64_t(sent.size())) ++sent[size_t(k)];
    }
    for (int64_t k = 0; k < int64_t(sent.size()); ++k) {
        uint64_t requested = scheduled_in_second(d.requested_rate, k);
        if (double(sent[size_t(k)]) < kMinRateShare * double(requested))
            d.seconds_below_rate.push_back({k, sent[size_t(k)], requested});
    }
}

// Requests that waited for a free connection, and the ones that went out late without waiting.
void measure_waits_and_lateness(const RunResult& run, LoadDelivery& d) {
    d.waited_for_connection = d.never_sent = run.requests_not_sent;
    for (const RequestRecord& r : run.records) {
        int64_t after_intended = (int64_t(r.started_us) - int64_t(r.intended_us)) * 1000;
        if (r.has(kWaitedForConnection)) {
            ++d.waited_for_connection;
            d.never_sent += r.never_sent() ? 1 : 0;
            int64_t waited = r.never_sent() ? int64_t(r.end_us) * 1000 : after_intended;
            d.longest_wait_ns = std::max(d.longest_wait_ns, waited);
            continue;
        }
        d.latest_start_ns = std::max(d.latest_start_ns, after_intended);
        d.sent_late += after_intended > std::chrono::nanoseconds(kLateSendBound).count() ? 1 : 0;
    }
}

}  // namespace

std::string format_rate(double per_second) {
    return per_second >= 100 ? fmt::format("{:.0f}", per_second) : fmt::format("{:.3g}", per_second);
}

LoadDelivery measure_load_delivery(const RunResult& run) {
    const LoadSpec& spec = run.scenario.load;
    LoadDelivery d;
    d.open_loop = spec.mode == LoadSpec::Mode::rate;
    d.requested_rate = d.open_loop ? spec.rate : 0;
    d.requested_duration_ns = spec.duration.count();
    d.max_connections = spec.max_connections;
    d.sent = uint64_t(std::count_if(run.records.begin(), run.records.end(),
                                    [](const RequestRecord& r) { return !r.never_sent(); }));
    d.sending_ns = std::max<int64_t>(0, run.load_sending_stopped_ns - run.load_started_ns);
    d.achieved_rate = d.sending_ns > 0 ? double(d.sent) * 1e9 / double(d.sending_ns) : 0;
    d.overrun_ns = std::max<int64_t>(0, d.sending_ns - d.requested_duration_ns);
    if (d.open_loop) {
        hold_seconds_to_rate(run, d);
        measure_waits_and_lateness(run, d);
    }
    return d;
}

std::vector<std::string> load_shortfall_warnings(const LoadDelivery& d) {
    std::vector<std::string> out;
    if (!d.seconds_below_rate.empty()) {
        std::vector<std::string> seconds;
        for (const SecondBelowRate& s : d.seconds_below_rate)
            seconds.push_back(fmt::format("{}-{}s: {} sent of {}", s.second, s.second + 1, s.sent, s.requested));
        out.push_back(fmt::format("the load fell below {:.0f}% of the requested {} req/s in {} of {} whole seconds ({}); "
                                  "achieved {} req/s: the verdict was reached under less load than asked for",
                                  kMinRateShare * 100, format_rate(d.requested_rate), d.seconds_below_rate.size(),
                                  d.whole_seconds, listed(seconds), format_rate(d.achieved_rate)));
    }
    if (d.waited_for_connection) {
        std::string never = d.never_sent ? fmt::format("; {} of them were never sent", d.never_sent) : "";
        out.push_back(fmt::format("{} requests waited for a free connection (max_connections = {} were open), the longest "
                                  "{}{}",
                                  d.waited_for_connection, d.max_connections, secs(d.longest_wait_ns), never));
    }
    if (d.sent_late)
        out.push_back(fmt::format("{} requests were sent more than {} after their scheduled time, the latest {} late: "
                                  "the load generator did not keep to its schedule",
                                  d.sent_late, secs(std::chrono::nanoseconds(kLateSendBound).count()),
                                  secs(d.latest_start_ns)));
    if (d.overrun_ns > std::chrono::nanoseconds(kOverrunTolerance).count())
        out.push_back(fmt::format("the load overran its {} duration: it was still sending new requests {} after it",
                                  secs(d.requested_duration_ns), secs(d.overrun_ns)));
    return out;
}

}  // namespace draincheck
