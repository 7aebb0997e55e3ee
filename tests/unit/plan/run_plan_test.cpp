// Planning: ports, placeholders, and what dependencies add to the target's environment.
#include "plan/run_plan.h"
#include "scenario/scenario_parser.h"

#include <gtest/gtest.h>

#include <set>

namespace draincheck {
namespace {

TEST(RunPlan, SubstitutesOnlyKnownPlaceholders) {
    EXPECT_EQ(substitute_placeholders("a{port}b{proxy_port}{x}{port", {{"port", "1"}, {"proxy_port", "2"}}), "a1b2{x}{port");
    EXPECT_EQ(substitute_placeholders("--port={port}", 8080), "--port=8080");
}

TEST(RunPlan, EachDependencyGetsItsOwnPortsAndTheTargetTheProxyAddress) {
    Scenario s = parse_scenario_text(R"(
[target]
command = ["x", "{port}"]
[load]
duration = "10s"
[[dependencies]]
name = "a"
command = ["redis-server", "--port", "{port}"]
ready = { command = ["redis-cli", "-p", "{port}", "ping"] }
env = { A_URL = "redis://127.0.0.1:{proxy_port}", A_DIRECT = "{direct_port}", A_PORT = "{port}" }
[[dependencies]]
name = "b"
command = ["b", "{port}"]
)", "t.toml");
    RunPlan plan = make_run_plan(s);
    ASSERT_EQ(plan.dependencies.size(), 2u);
    std::set<uint16_t> ports = {plan.port};
    for (const auto& d : plan.dependencies) {
        ports.insert(d.port);
        ports.insert(d.proxy_port);
    }
    EXPECT_EQ(ports.size(), 5u) << "every port is distinct";
    const DependencyPlan& a = plan.dependencies[0];
    EXPECT_EQ(a.launch.argv.back(), std::to_string(a.port));
    EXPECT_EQ(a.ready_argv[2], std::to_string(a.port));
    EXPECT_EQ(plan.launch.env.at("A_URL"), "redis://127.0.0.1:" + std::to_string(a.proxy_port));
    EXPECT_EQ(plan.launch.env.at("A_DIRECT"), std::to_string(a.port));
    EXPECT_EQ(plan.launch.env.at("A_PORT"), std::to_string(a.proxy_port));
    EXPECT_EQ(plan.launch.argv.back(), std::to_string(plan.port));
}

}  // namespace
}  // namespace draincheck
