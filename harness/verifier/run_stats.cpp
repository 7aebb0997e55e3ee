#include "verifier/run_stats.h"

#include <algorithm>

namespace draincheck {
namespace {

bool is_complete(const RequestRecord& r) { return r.outcome == Outcome::ok || r.outcome == Outcome::http_error; }

// Nearest-rank percentile of sorted values.
uint32_t percentile(const std::vector<uint32_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    size_t rank = size_t(p / 100.0 * double(sorted.size()) + 0.999999);
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

LatencySummary summarize(std::vector<uint32_t>& v) {
    std::sort(v.begin(), v.end());
    LatencySummary s;
    s.count = v.size();
    s.p50_us = percentile(v, 50);
    s.p90_us = percentile(v, 90);
    s.p99_us = percentile(v, 99);
    s.max_us = v.empty() ? 0 : v.back();
    return s;
}

}  // namespace

// Requests by the bucket (of `width_ns`, from load start) in which they started.
static std::vector<SecondBucket> buckets(const std::vector<RequestRecord>& records, int64_t load_started_ns, int64_t width_ns) {
    std::vector<SecondBucket> out;
    std::vector<std::vector<uint32_t>> latencies;
    for (const RequestRecord& r : records) {
        int64_t index = std::max<int64_t>(0, (int64_t(r.started_us) * 1000 - load_started_ns) / width_ns);
        for (int64_t i = int64_t(out.size()); i <= index; ++i) out.push_back({i, {}, 0, 0});
        latencies.resize(out.size());
        out[size_t(index)].by_outcome[size_t(r.outcome)]++;
        if (is_complete(r)) latencies[size_t(index)].push_back(latency_us(r));
    }
    for (size_t i = 0; i < out.size(); ++i) {
        LatencySummary l = summarize(latencies[i]);
        out[i].p50_us = l.p50_us;
        out[i].p99_us = l.p99_us;
    }
    return out;
}

uint32_t latency_us(const RequestRecord& r) {
    if (r.end_us == RequestRecord::kNever) return 0;
    uint64_t end = uint64_t(r.started_us) + r.end_us;
    return end > r.intended_us ? uint32_t(std::min<uint64_t>(end - r.intended_us, UINT32_MAX)) : 0;
}

RunStats compute_stats(const std::vector<RequestRecord>& records, const PhaseBounds& bounds, int64_t load_started_ns) {
    RunStats stats;
    stats.total = records.size();
    std::array<std::vector<uint32_t>, kPhaseCount> by_phase;
    std::vector<uint32_t> all;
    for (const RequestRecord& r : records) {
        Phase p = bounds.phase_of(r);
        stats.counts[size_t(p)][size_t(r.outcome)]++;
        if (!is_complete(r)) continue;
        uint32_t l = latency_us(r);
        by_phase[size_t(p)].push_back(l);
        all.push_back(l);
    }
    for (int p = 0; p < kPhaseCount; ++p) stats.latency[size_t(p)] = summarize(by_phase[size_t(p)]);
    stats.latency_all = summarize(all);
    stats.per_second = buckets(records, load_started_ns, 1'000'000'000);
    stats.per_100ms = buckets(records, load_started_ns, 100'000'000);
    return stats;
}

}  // namespace draincheck
