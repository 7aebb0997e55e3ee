#include "load/outcome.h"

#include <array>

namespace draincheck {
namespace {

constexpr std::array<std::string_view, kOutcomeCount> kNames = {
    "ok", "http_error", "refused", "dropped", "truncated", "timeout", "closed_idle", "connect_error", "send_error",
};

}  // namespace

std::string_view outcome_name(Outcome o) { return kNames[size_t(o)]; }

std::optional<Outcome> outcome_from_name(std::string_view name) {
    for (size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i] == name) return Outcome(i);
    return std::nullopt;
}

bool is_inflight_drop(Outcome o) { return o == Outcome::dropped || o == Outcome::truncated; }

Outcome classify(const ClassifyInput& in) {
    bool raced_idle_close = in.reused_connection && in.response_bytes == 0 &&
                            (in.written_to_end_us <= in.closed_idle_window_us || in.reset_unread);
    switch (in.end) {
    case EndKind::complete: return in.status >= 500 ? Outcome::http_error : Outcome::ok;
    case EndKind::connect_refused: return Outcome::refused;
    case EndKind::connect_failed: return Outcome::connect_error;
    case EndKind::timed_out: return Outcome::timeout;
    case EndKind::write_failed: return raced_idle_close ? Outcome::closed_idle : Outcome::send_error;
    case EndKind::peer_closed:
        if (in.response_bytes > 0) return Outcome::truncated;
        return raced_idle_close ? Outcome::closed_idle : Outcome::dropped;
    }
    return Outcome::dropped;
}

}  // namespace draincheck
