#pragma once
// JUnit XML for CI systems: one <testsuite> per scenario, one <testcase> per assertion, the
// failure message is the assertion's one-line reason, the verdict's warnings are <property name="warning">
// entries of the suite, <system-out> the console summary.
#include "verifier/repeat_summary.h"
#include "verifier/verdict.h"

#include <optional>
#include <string>
#include <vector>

namespace draincheck {

struct ScenarioOutcomeForJunit {
    std::string name;
    std::string file;
    double seconds = 0;
    std::optional<Verdict> verdict;  // nullopt when the scenario could not run
    std::string error;               // why it could not run (invalid scenario, environment)
    std::string summary_text;        // what the console printed as the summary
    std::optional<RepeatSummary> repeat;   // --repeat: the verdict over every run (`verdict` is the worst run's)
};

std::string make_junit_xml(const std::vector<ScenarioOutcomeForJunit>& scenarios);

}  // namespace draincheck
