#include "common/duration.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

namespace draincheck {

std::optional<Nanos> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    double total_ns = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t start = i;
        while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
        if (i == start) return std::nullopt;
        std::string number(text.substr(start, i - start));
        if (number.find('.') != number.rfind('.') || number.front() == '.' || number.back() == '.') return std::nullopt;
        size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        std::string_view unit = text.substr(unit_start, i - unit_start);
        double scale;
        if (unit == "ns") scale = 1;
        else if (unit == "us") scale = 1e3;
        else if (unit == "ms") scale = 1e6;
        else if (unit == "s") scale = 1e9;
        else if (unit == "m") scale = 60e9;
        else if (unit == "h") scale = 3600e9;
        else return std::nullopt;
        total_ns += std::stod(number) * scale;
    }
    if (total_ns > 9e18) return std::nullopt;
    return Nanos(int64_t(std::llround(total_ns)));
}

std::string format_duration(Nanos d) {
    int64_t ns = d.count();
    double abs = std::fabs(double(ns));
    if (abs < 1e3) return fmt::format("{}ns", ns);
    if (abs < 1e6) return fmt::format("{:g}us", std::round(ns / 1e1) / 1e2);
    if (abs < 1e9) return fmt::format("{:g}ms", std::round(ns / 1e4) / 1e2);
    if (abs < 60e9) return fmt::format("{:g}s", std::round(ns / 1e7) / 1e2);
    int64_t total_s = ns / 1'000'000'000;
    return fmt::format("{}m{:02}s", total_s / 60, total_s % 60);
}

}  // namespace draincheck
