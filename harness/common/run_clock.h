#pragma once
// One monotonic time base for a whole run. Every timestamp in records, events and reports is
// nanoseconds since the run started, so the verifier can compare them without conversions.
#include <chrono>
#include <cstdint>

namespace draincheck {

using SteadyClock = std::chrono::steady_clock;

class RunClock {
public:
    RunClock() : start_(SteadyClock::now()) {}
    explicit RunClock(SteadyClock::time_point start) : start_(start) {}

    SteadyClock::time_point start() const { return start_; }
    int64_t now_ns() const { return to_ns(SteadyClock::now()); }
    int64_t to_ns(SteadyClock::time_point t) const {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count();
    }
    SteadyClock::time_point at(int64_t ns) const { return start_ + std::chrono::nanoseconds(ns); }

private:
    SteadyClock::time_point start_;
};

}  // namespace draincheck
