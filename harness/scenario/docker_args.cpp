#include "scenario/docker_args.h"

#include <algorithm>
#include <string_view>

namespace draincheck {
namespace {

struct Owned {
    std::string_view option;
    std::string_view why;
};

// Options draincheck sets itself, and the scenario key to use instead.
constexpr Owned kOwned[] = {
    {"--name", "draincheck names the container itself"},
    {"--rm", "draincheck removes the container itself, after reading its exit"},
    {"--detach", "draincheck runs the container detached itself"},
    {"--interactive", "the container gets no terminal or input"},
    {"--tty", "the container gets no terminal or input"},
    {"--attach", "draincheck reads the container's output itself"},
    {"--init", "use init = true"},
    {"--stop-signal", "use stop_signal"},
    {"--stop-timeout", "use kill_after"},
    {"--publish", "no ports are published: with --network host the service listens on the host's loopback directly"},
    {"--publish-all", "no ports are published: with --network host the service listens on the host's loopback directly"},
};

// The option's name without "=value".
std::string_view option_name(std::string_view arg) { return arg.substr(0, arg.find('=')); }

}  // namespace

std::optional<std::string> docker_args_problem(const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string_view name = option_name(arg);
        if (name == "--network" || name == "--net") {
            std::string_view value = arg.size() > name.size() ? arg.substr(name.size() + 1)
                                     : i + 1 < args.size()   ? std::string_view(args[i + 1])
                                                             : std::string_view();
            if (value != "host")
                return "\"" + std::string(arg) + "\": draincheck runs containers with --network host only, so that the "
                       "service listens on the host's loopback and no load goes to a container bridge address";
            continue;
        }
        for (const Owned& o : kOwned)
            if (name == o.option) return "\"" + std::string(arg) + "\": " + std::string(o.why);
        // Short options: -p/-P (publish) and the detach/terminal letters, alone or combined ("-it").
        if (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-') {
            if (arg[1] == 'p' || arg[1] == 'P')
                return "\"" + std::string(arg) + "\": no ports are published: with --network host the service listens "
                       "on the host's loopback directly";
            std::string_view letters = arg.substr(1);
            if (std::all_of(letters.begin(), letters.end(), [](char c) { return c == 'd' || c == 'i' || c == 't' || c == 'a'; }))
                return "\"" + std::string(arg) + "\": draincheck runs the container detached, without a terminal, and "
                       "reads its output itself";
        }
    }
    return std::nullopt;
}

}  // namespace draincheck
