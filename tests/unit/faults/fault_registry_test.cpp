// Every action the scenario parser accepts has a fault behind it, and no other.
#include "faults/fault.h"
#include "scenario/scenario_parser.h"

#include <gtest/gtest.h>

namespace draincheck {
namespace {

TEST(FaultRegistry, ImplementsExactlyTheActionsTheParserAccepts) {
    std::vector<std::string> registered, accepted;
    for (const auto& [name, factory] : fault_registry()) registered.push_back(name);
    for (auto name : fault_action_names()) accepted.emplace_back(name);
    EXPECT_EQ(registered, accepted);
}

TEST(FaultRegistry, UnknownActionIsRefused) {
    FaultSpec spec;
    spec.action = "flood";
    EXPECT_THROW(make_fault(spec), std::invalid_argument);
}

}  // namespace
}  // namespace draincheck
