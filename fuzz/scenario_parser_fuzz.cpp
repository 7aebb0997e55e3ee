// Any bytes given as a scenario file: the parser either returns a scenario or throws ScenarioError
// with a position. Anything else (a crash, another exception, a sanitizer report) is a bug.
#include "scenario/scenario_parser.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        draincheck::Scenario s = draincheck::parse_scenario_text(text, "fuzz.toml");
        // What the parser accepts must be usable: these are the invariants the engine relies on.
        // (An image target may leave its command empty: the image's CMD runs.)
        if ((s.target.command.empty() && !s.target.container) || s.load.duration.count() <= 0) __builtin_trap();
        for (const auto& f : s.faults)
            if (f.at >= s.load.duration) __builtin_trap();
    } catch (const draincheck::ScenarioError& e) {
        if (e.message().empty()) __builtin_trap();
    }
    return 0;
}
