#pragma once
// Signal names as scenarios write them ("TERM", "SIGTERM", "kill") and back.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

// Accepts "TERM", "SIGTERM", "term"; returns the signal number or nullopt.
std::optional<int> signal_from_name(std::string_view name);
// "TERM" for SIGTERM; "SIG<n>" for numbers without a name.
std::string signal_name(int signo);
// The names a scenario may use, for error messages.
const std::vector<std::string>& supported_signal_names();

}  // namespace draincheck
