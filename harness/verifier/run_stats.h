#pragma once
// Counts and latency percentiles of a run, by outcome and phase. Pure maths over records.
#include "load/request_record.h"
#include "verifier/phase.h"

#include <array>
#include <cstdint>
#include <vector>

namespace draincheck {

struct LatencySummary {
    uint64_t count = 0;               // requests with a complete response (ok + http_error)
    uint32_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
};

struct SecondBucket {
    int64_t second = 0;               // index since load started, in bucket widths
    std::array<uint64_t, kOutcomeCount> by_outcome{};
    uint32_t p50_us = 0, p99_us = 0;  // of complete responses ended in this second
};

struct RunStats {
    uint64_t total = 0;
    std::array<std::array<uint64_t, kOutcomeCount>, kPhaseCount> counts{};  // [phase][outcome]
    std::array<LatencySummary, kPhaseCount> latency{};                       // per phase
    LatencySummary latency_all;
    std::vector<SecondBucket> per_second;
    std::vector<SecondBucket> per_100ms;  // the same at a finer grain, for timelines of short drains
};

// Latency is measured from the intended send time (open loop) to the end of the response.
uint32_t latency_us(const RequestRecord& r);

RunStats compute_stats(const std::vector<RequestRecord>& records, const PhaseBounds& bounds,
                       int64_t load_started_ns);

}  // namespace draincheck
