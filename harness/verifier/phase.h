#pragma once
// Which part of the run a request belongs to, by the moment it was started.
#include "load/request_record.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace draincheck {

enum class Phase : uint8_t {
    before,    // started before the stop signal
    draining,  // started between the stop signal and the target's exit
    after,     // started after the target exited
};
inline constexpr int kPhaseCount = 3;
std::string_view phase_name(Phase p);

// The two instants that split a run into phases (ns since run start). Without a stop signal
// every request is `before`; without an exit, nothing is `after`.
struct PhaseBounds {
    std::optional<int64_t> stop_signal_ns;
    std::optional<int64_t> exit_ns;
    Phase phase_of(const RequestRecord& r) const;
};

}  // namespace draincheck
