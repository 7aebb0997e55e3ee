#pragma once
// What every assertion writer shares: an assertion started with its name and expectation, how times
// read, how much evidence a failure carries, and how a list of facts is cut short.
#include "common/duration.h"
#include "verifier/verdict.h"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace draincheck {

inline constexpr size_t kMaxEvidence = 10;   // requests attached to a failed assertion
inline constexpr size_t kMaxListed = 5;      // facts named in one reason line

inline Assertion named(std::string name, std::string expected) {
    Assertion a;
    a.name = std::move(name);
    a.expected = std::move(expected);
    return a;
}

// "850us", "12.3ms", "1.25s": readable at every scale, from a keep-alive race to a slow drain.
inline std::string secs(int64_t ns) { return format_duration(Nanos(ns)); }

// At most kMaxListed items joined by "; ", then "; and N more".
inline std::string listed(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < kMaxListed; ++i) out += (i ? "; " : "") + items[i];
    if (items.size() > kMaxListed) out += fmt::format("; and {} more", items.size() - kMaxListed);
    return out;
}

}  // namespace draincheck
