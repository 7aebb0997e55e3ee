#include "verifier/breakdown.h"

#include "verifier/assertion_text.h"

#include <fmt/format.h>

#include <algorithm>

namespace draincheck {

Tally& Breakdown::kind(int order, const std::string& kind, bool counted) {
    Tally& t = kinds_[{order, kind}];
    t.kind = kind;
    t.counted = counted;
    return t;
}

void Breakdown::add(int order, const std::string& name, bool counted, size_t record) {
    Tally& t = kind(order, name, counted);
    ++t.count;
    if (record != kNoRecord && t.requests.size() < kMaxEvidence) t.requests.push_back(record);
}

void Breakdown::show(int order, const std::string& name) { kind(order, name, true); }

uint64_t Breakdown::counted() const {
    uint64_t n = 0;
    for (const auto& [key, t] : kinds_) n += t.counted ? t.count : 0;
    return n;
}

std::string Breakdown::counted_list() const {
    std::string out;
    for (const auto& [key, t] : kinds_)
        if (t.counted) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", t.count, t.kind);
    return out;
}

std::string Breakdown::not_counted_list() const {
    std::string out;
    for (const auto& [key, t] : kinds_)
        if (!t.counted && t.count) out += fmt::format("; {} {}: not counted", t.count, t.kind);
    return out;
}

std::vector<size_t> Breakdown::evidence() const {
    std::vector<size_t> out;
    for (size_t round = 0; out.size() < kMaxEvidence; ++round) {
        bool more = false;
        for (const auto& [key, t] : kinds_) {
            if (!t.counted || round >= t.requests.size()) continue;
            more = true;
            if (out.size() < kMaxEvidence) out.push_back(t.requests[round]);
        }
        if (!more) break;
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<Tally> Breakdown::tallies() const {
    std::vector<Tally> out;
    for (const auto& [key, t] : kinds_) out.push_back(t);
    return out;
}

std::vector<std::string> breakdown_lines(const std::vector<Tally>& breakdown) {
    std::vector<std::string> out;
    for (const Tally& t : breakdown) {
        if (!t.count) continue;
        std::string line = fmt::format("{} {}{}", t.count, t.kind, t.counted ? "" : ": not counted");
        for (size_t i = 0; i < t.requests.size(); ++i) line += fmt::format("{}#{}", i ? ", " : ": ", t.requests[i]);
        if (!t.requests.empty() && t.count > t.requests.size()) line += ", …";
        out.push_back(std::move(line));
    }
    return out;
}

}  // namespace draincheck
