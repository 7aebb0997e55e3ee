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
    std::vector<std::vector<uint32_t>> by_second;
    for (const RequestRecord& r : records) {
        Phase p = bounds.phase_of(r);
        stats.counts[size_t(p)][size_t(r.outcome)]++;
        int64_t second = std::max<int64_t>(0, (int64_t(r.started_us) * 1000 - load_started_ns) / 1'000'000'000);
        if (size_t(second) >= stats.per_second.size()) {
            for (int64_t s = int64_t(stats.per_second.size()); s <= second; ++s) stats.per_second.push_back({s, {}, 0, 0});
            by_second.resize(size_t(second) + 1);
        }
        stats.per_second[size_t(second)].by_outcome[size_t(r.outcome)]++;
        if (!is_complete(r)) continue;
        uint32_t l = latency_us(r);
        by_phase[size_t(p)].push_back(l);
        all.push_back(l);
        by_second[size_t(second)].push_back(l);
    }
    for (int p = 0; p < kPhaseCount; ++p) stats.latency[size_t(p)] = summarize(by_phase[size_t(p)]);
    stats.latency_all = summarize(all);
    for (size_t s = 0; s < by_second.size(); ++s) {
        LatencySummary l = summarize(by_second[s]);
        stats.per_second[s].p50_us = l.p50_us;
        stats.per_second[s].p99_us = l.p99_us;
    }
    return stats;
}

}  // namespace draincheck
