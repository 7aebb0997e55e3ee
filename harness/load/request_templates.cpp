#include "load/request_templates.h"

#include <algorithm>

namespace draincheck {
namespace {

std::string serialize(const RequestTemplate& t, const std::string& host_header, bool keep_alive) {
    std::string out;
    out.reserve(128 + t.body.size());
    out += t.method;
    out += ' ';
    out += t.path;
    out += " HTTP/1.1\r\nHost: ";
    out += host_header;
    out += "\r\nUser-Agent: draincheck\r\n";
    bool has_content_length = false;
    for (const auto& [name, value] : t.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (lower == "content-length") has_content_length = true;
    }
    if (!keep_alive) out += "Connection: close\r\n";
    if (!t.body.empty() && !has_content_length)
        out += "Content-Length: " + std::to_string(t.body.size()) + "\r\n";
    out += "\r\n";
    out += t.body;
    return out;
}

// splitmix64: a well-mixed hash of the request number, so the mix is spread evenly over time.
uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

RequestTemplates::RequestTemplates(const LoadSpec& load, const std::string& host_header)
    : seed_(load.seed) {
    std::vector<RequestTemplate> templates = load.mix;
    if (templates.empty()) templates.push_back(load.request);
    double total = 0;
    for (const auto& t : templates) total += t.weight;
    double running = 0;
    for (const auto& t : templates) {
        requests_.push_back({serialize(t, host_header, load.keep_alive), t.method == "HEAD"});
        running += t.weight;
        cumulative_.push_back(running / total);
    }
    cumulative_.back() = 1.0;
}

uint8_t RequestTemplates::pick(uint64_t n) const {
    if (requests_.size() == 1) return 0;
    double u = double(mix64(seed_ * 0x100000001b3ULL ^ n) >> 11) * 0x1.0p-53;
    auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
    return uint8_t(std::min<size_t>(it - cumulative_.begin(), requests_.size() - 1));
}

}  // namespace draincheck
