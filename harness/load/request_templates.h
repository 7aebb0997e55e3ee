#pragma once
// The requests the load generator sends, serialized once before the run, and the weighted,
// deterministic choice of which one the n-th request uses.
#include "scenario/scenario.h"

#include <cstdint>
#include <string>
#include <vector>

namespace draincheck {

struct SerializedRequest {
    std::string bytes;        // the whole HTTP/1.1 request, ready to write
    bool head = false;        // a HEAD request: the response has no body
};

class RequestTemplates {
public:
    // `host_header` is "host:port" as sent in the Host header.
    RequestTemplates(const LoadSpec& load, const std::string& host_header);

    size_t size() const { return requests_.size(); }
    const SerializedRequest& at(size_t i) const { return requests_[i]; }
    // Which template the n-th request of the run uses: a pure function of (seed, n) so that every
    // run of a scenario sends the same sequence, whatever the thread count.
    uint8_t pick(uint64_t n) const;

private:
    std::vector<SerializedRequest> requests_;
    std::vector<double> cumulative_;   // normalised cumulative weights
    uint64_t seed_;
};

}  // namespace draincheck
