#pragma once
// Durations as users write them in scenarios: "250ms", "10s", "1m", "1.5s", "2m30s".
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace draincheck {

using Nanos = std::chrono::nanoseconds;

// Parses a duration string. Returns nullopt on syntax errors; negative values are rejected
// by the grammar (no sign is accepted). Units: ns, us, ms, s, m, h.
std::optional<Nanos> parse_duration(std::string_view text);

// Formats a duration compactly for humans: "850us", "12.3ms", "1.25s", "2m05s".
std::string format_duration(Nanos d);

}  // namespace draincheck
