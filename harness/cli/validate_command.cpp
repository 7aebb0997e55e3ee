#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "scenario/scenario_parser.h"

#include <fmt/format.h>

namespace draincheck {

int validate_command(const std::vector<std::string>& scenarios) {
    int code = exit_code::pass;
    for (const auto& path : scenarios) {
        try {
            parse_scenario_file(path);
        } catch (const ScenarioError& e) {
            fmt::print(stderr, "{}\n", e.what());
            code = exit_code::invalid;
        }
    }
    return code;
}

}  // namespace draincheck
