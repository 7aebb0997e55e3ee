#pragma once
// The verdict: one entry per [expect] key, each with what was expected, what was observed,
// and the requests that show it.
#include "verifier/load_delivery.h"

#include <cstdint>
#include <string>
#include <vector>

namespace draincheck {

// One kind of request an assertion judged, e.g. 53 of "http_error 503 in flight": how many, whether they
// count against the assertion (false: shown, but not held against it; docs/outcomes.md says why), and
// which requests they are.
struct Tally {
    std::string kind;                 // e.g. "dropped", "timeout in flight", "closed_idle on idempotent requests"
    uint64_t count = 0;
    bool counted = true;
    std::vector<size_t> requests;     // indices into RunResult::records, the first few (at most 10)
};

struct Assertion {
    std::string name;                 // the [expect] key, e.g. "dropped_inflight"
    std::string expected;             // human text, e.g. "0"
    std::string observed;             // human text, e.g. "37 (31 dropped, 6 truncated)"
    bool passed = false;
    std::string reason;               // one line for a failure, e.g. "37 requests dropped in flight ..."
    std::vector<size_t> evidence;     // indices into RunResult::records, at most 10
    std::vector<Tally> breakdown;     // what `observed` counts, kind by kind (dropped_inflight); may be empty
};

struct Verdict {
    bool passed = true;               // every assertion held
    std::vector<Assertion> assertions;
    std::string summary;              // one sentence: "PASS: ..." / "FAIL: ..."
    std::string cause;                // why the stop was not clean, named from /proc (shutdown_cause.h); "" if it was, or unknown
    std::vector<std::string> warnings;// things that weaken the verdict (e.g. nothing in flight at the signal)
    LoadDelivery load;                // the load delivered against the load asked for (its shortfalls are warnings)
};

}  // namespace draincheck
