#pragma once
// The kinds of requests an assertion judged, counted kind by kind in a fixed order, and what that
// reads as: the counted kinds in one list, the kinds shown but not counted after it, and evidence
// drawn from every counted kind in turn, so that no kind hides behind a more numerous one.
#include "verifier/verdict.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace draincheck {

class Breakdown {
public:
    // One request of `kind` (`record`: its index in RunResult::records, or kNoRecord for what is not a
    // record, e.g. a balancer's backend attempt). Kinds are listed by `order`, then by name.
    static constexpr size_t kNoRecord = SIZE_MAX;
    void add(int order, const std::string& kind, bool counted, size_t record = kNoRecord);
    // A counted kind listed even when no request was of it ("0 truncated").
    void show(int order, const std::string& kind);

    uint64_t counted() const;
    // "47 dropped, 7 truncated": every counted kind, with its count.
    std::string counted_list() const;
    // "; 2 closed_idle on idempotent requests: not counted" for each kind seen but not counted.
    std::string not_counted_list() const;
    // At most kMaxEvidence requests of the counted kinds, a request of each kind in turn, by index.
    std::vector<size_t> evidence() const;
    std::vector<Tally> tallies() const;

private:
    Tally& kind(int order, const std::string& kind, bool counted);
    std::map<std::pair<int, std::string>, Tally> kinds_;
};

// One line per kind seen, for text reports: "53 http_error 503 in flight: #41, #42, #50, …", with
// ": not counted" before the requests of a kind shown but not counted.
std::vector<std::string> breakdown_lines(const std::vector<Tally>& breakdown);

}  // namespace draincheck
