#include "verifier/phase.h"

namespace draincheck {

std::string_view phase_name(Phase p) {
    switch (p) {
    case Phase::before: return "before";
    case Phase::draining: return "draining";
    case Phase::after: return "after";
    }
    return "?";
}

Phase PhaseBounds::phase_of(const RequestRecord& r) const {
    int64_t started = int64_t(r.started_us) * 1000;
    if (!stop_signal_ns || started < *stop_signal_ns) return Phase::before;
    if (exit_ns && started >= *exit_ns) return Phase::after;
    return Phase::draining;
}

}  // namespace draincheck
