#include "common/duration.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>

namespace draincheck {
namespace {

struct Unit { std::string_view name; double ns; };
// Largest first: the components of a duration must follow this order ("2m30s", not "30s2m").
constexpr Unit kUnits[] = {{"h", 3600e9}, {"m", 60e9}, {"s", 1e9}, {"ms", 1e6}, {"us", 1e3}, {"ns", 1}};
constexpr size_t kNoUnit = std::size(kUnits);

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Index in kUnits, or kNoUnit.
size_t unit_index(std::string_view name) {
    for (size_t i = 0; i < kNoUnit; ++i)
        if (kUnits[i].name == name) return i;
    return kNoUnit;
}

}  // namespace

std::optional<Nanos> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    double total_ns = 0;
    size_t previous_unit = 0;   // the next unit must come after this one in kUnits
    bool first = true;
    size_t i = 0;
    while (i < text.size()) {
        // A number: digits, optionally a '.' and more digits (no sign, no exponent, no bare '.').
        size_t number_start = i;
        while (i < text.size() && is_digit(text[i])) ++i;
        if (i == number_start) return std::nullopt;
        if (i < text.size() && text[i] == '.') {
            size_t fraction_start = ++i;
            while (i < text.size() && is_digit(text[i])) ++i;
            if (i == fraction_start) return std::nullopt;
        }
        double value = 0;
        // from_chars, unlike stod, ignores the locale's decimal separator.
        if (std::from_chars(text.data() + number_start, text.data() + i, value).ec != std::errc{}) return std::nullopt;

        size_t unit_start = i;
        while (i < text.size() && is_letter(text[i])) ++i;
        size_t unit = unit_index(text.substr(unit_start, i - unit_start));
        if (unit == kNoUnit || (!first && unit <= previous_unit)) return std::nullopt;
        previous_unit = unit;
        first = false;
        total_ns += value * kUnits[unit].ns;
    }
    // Nanos holds up to ~9.2e18 ns (292 years); anything near that is a typo.
    if (total_ns > 9e18) return std::nullopt;
    return Nanos(std::llround(total_ns));
}

std::string format_duration(Nanos d) {
    if (d < Nanos::zero()) return "-" + format_duration(d == Nanos::min() ? Nanos::max() : -d);
    const int64_t ns = d.count();
    if (ns < 1000) return fmt::format("{}ns", ns);
    // Up to two decimals in the largest unit below its limit; rounding may carry into the next
    // unit (999.996us is "1ms", 59.999s is "1m00s").
    struct Scale { const char* name; double ns; double limit; };
    for (const Scale& s : {Scale{"us", 1e3, 1000}, Scale{"ms", 1e6, 1000}, Scale{"s", 1e9, 60}}) {
        double value = std::round(double(ns) / s.ns * 100) / 100;
        if (value < s.limit) return fmt::format("{:g}{}", value, s.name);
    }
    // Rounded to the nearest second without overflowing near Nanos::max().
    const int64_t seconds = ns / 1'000'000'000 + (ns % 1'000'000'000 >= 500'000'000 ? 1 : 0);
    if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
    return fmt::format("{}h{:02}m{:02}s", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

}  // namespace draincheck
