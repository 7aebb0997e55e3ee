#include "common/signals.h"

#include <algorithm>
#include <csignal>

namespace draincheck {
namespace {

struct Named { const char* name; int signo; };
constexpr Named kSignals[] = {
    {"TERM", SIGTERM}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"HUP", SIGHUP}, {"KILL", SIGKILL},
    {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

}  // namespace

std::optional<int> signal_from_name(std::string_view name) {
    std::string upper(name);
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    if (upper.rfind("SIG", 0) == 0) upper = upper.substr(3);
    for (const auto& s : kSignals)
        if (upper == s.name) return s.signo;
    return std::nullopt;
}

std::string signal_name(int signo) {
    for (const auto& s : kSignals)
        if (s.signo == signo) return s.name;
    return "SIG" + std::to_string(signo);
}

const std::vector<std::string>& supported_signal_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& s : kSignals) v.emplace_back(s.name);
        return v;
    }();
    return names;
}

}  // namespace draincheck
