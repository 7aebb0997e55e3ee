#include "common/signals.h"

#include <csignal>

namespace draincheck {
namespace {

struct NamedSignal { std::string_view name; int signo; };
// The signals a scenario may send; numbers differ between platforms, names do not.
constexpr NamedSignal kSignals[] = {
    {"TERM", SIGTERM}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"HUP", SIGHUP}, {"KILL", SIGKILL},
    {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c; }

}  // namespace

std::optional<int> signal_from_name(std::string_view name) {
    std::string upper;
    for (char c : name) upper += ascii_upper(c);
    std::string_view bare = upper;
    if (bare.starts_with("SIG")) bare.remove_prefix(3);
    for (const auto& s : kSignals)
        if (bare == s.name) return s.signo;
    return std::nullopt;
}

std::string signal_name(int signo) {
    for (const auto& s : kSignals)
        if (s.signo == signo) return std::string(s.name);
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
