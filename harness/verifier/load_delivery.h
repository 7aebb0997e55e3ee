#pragma once
// The load as it was delivered, against the load the scenario asked for: how many requests went out
// and at what rate, second by second; which of them waited for a free connection or went out late;
// whether the load kept sending past its duration. Pure maths over the records. A verdict reached
// under far less load than asked for says so in its warnings (load_shortfall_warnings).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace draincheck {

struct RunResult;

// Open loop: a whole second of the load in which fewer than this share of the requested rate went out
// falls short.
inline constexpr double kMinRateShare = 0.95;
// Open loop: a request that started more than this after its intended time (without waiting for a
// connection) went out late: the load generator stalled or fell behind its schedule. Well beyond what
// scheduling alone does on a busy machine: on 2 shared cores at a load average of 5-6 (two scenarios at
// once beside a build), the bundled scenarios' load threads started requests up to 181 ms late (median
// 0.1 ms), so a bound of 10 ms would have warned in half of those healthy runs.
inline constexpr std::chrono::milliseconds kLateSendBound{500};
// The load kept sending new requests more than this past its duration: it overran. The end of the
// schedule may slip as far as one request may.
inline constexpr std::chrono::milliseconds kOverrunTolerance = kLateSendBound;

// One whole second of an open-loop load below kMinRateShare of the requested rate.
struct SecondBelowRate {
    int64_t second = 0;                 // from the load's start: 0 is its first second
    uint64_t sent = 0;                  // requests started in it
    uint64_t requested = 0;             // requests the schedule had for it
};

struct LoadDelivery {
    bool open_loop = true;              // rate mode; closed loop has no requested rate
    double requested_rate = 0;          // req/s (open loop)
    int64_t requested_duration_ns = 0;
    unsigned max_connections = 0;       // open loop: the cap on open connections
    uint64_t sent = 0;                  // requests that went out (started on a connection)
    int64_t sending_ns = 0;             // from the load's start until it stopped sending new requests
    double achieved_rate = 0;           // sent per second of sending (0 when nothing was sent)
    uint64_t whole_seconds = 0;         // open loop: whole seconds of the schedule held to the rate
    std::vector<SecondBelowRate> seconds_below_rate;
    uint64_t waited_for_connection = 0; // open loop: requests due while max_connections were open
    int64_t longest_wait_ns = 0;        // the longest such wait, among those recorded
    uint64_t never_sent = 0;            // of those, never sent: their timeout passed, or the load stopped first
    uint64_t sent_late = 0;             // open loop: started more than kLateSendBound after their intended time
    int64_t latest_start_ns = 0;        // the latest start after an intended time, among requests that did not wait
    int64_t overrun_ns = 0;             // new requests were sent this long past the duration (0: none were)
};

LoadDelivery measure_load_delivery(const RunResult& run);

// A rate for people: "10000000", "200", "12.5", "0.5" (req/s).
std::string format_rate(double per_second);

// One warning per way the load fell short: a whole second below the rate, waits for a connection,
// late sends, an overrun. None when the load was delivered as asked.
std::vector<std::string> load_shortfall_warnings(const LoadDelivery& load);

}  // namespace draincheck
