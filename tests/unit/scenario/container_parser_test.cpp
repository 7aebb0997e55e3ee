// [target] image: a container target, its options, what docker_args may not say, and action = "stop".
#include "scenario/docker_args.h"
#include "scenario/scenario_parser.h"
#include "parse_error_support.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>

namespace draincheck {
namespace {

const std::string kLoad = "[load]\nduration = \"10s\"\n";

std::string image_target(const std::string& more) {
    return "[target]\nimage = \"app:1.4\"\n" + more + kLoad;   // more starts at line 3
}

TEST(ContainerParser, AnImageTargetNeedsNoCommand) {
    Scenario s = parse_scenario_text(image_target("init = true\ndocker_args = [\"--memory\", \"256m\"]\n"), "t.toml");
    ASSERT_TRUE(s.target.container);
    EXPECT_EQ(s.target.container->image, "app:1.4");
    EXPECT_TRUE(s.target.container->init);
    EXPECT_EQ(s.target.container->docker_args, (std::vector<std::string>{"--memory", "256m"}));
    EXPECT_TRUE(s.target.command.empty());
    EXPECT_FALSE(s.target.stop_signal_given);   // the image's STOPSIGNAL decides, at plan time
}

TEST(ContainerParser, ACommandReplacesTheImagesCmd) {
    Scenario s = parse_scenario_text(image_target("command = [\"node\", \"app.js\", \"{port}\"]\nstop_signal = \"INT\"\n"), "t.toml");
    EXPECT_EQ(s.target.command, (std::vector<std::string>{"node", "app.js", "{port}"}));
    EXPECT_TRUE(s.target.stop_signal_given);
    EXPECT_EQ(s.target.stop_signal, SIGINT);
}

TEST(ContainerParser, WithoutAnImageACommandIsRequired) {
    EXPECT_TRUE(fails_with("[target]\nready = { tcp = true }\n" + kLoad, 1, 1, "or image = \"app:1.4\""));
}

TEST(ContainerParser, ContainerOptionsNeedAnImage) {
    EXPECT_TRUE(fails_with("[target]\ncommand = [\"x\"]\ninit = true\n" + kLoad, 3, 8, "set target.image too"));
}

TEST(ContainerParser, ProcessOnlyOptionsAreRefusedForAnImage) {
    EXPECT_TRUE(fails_with(image_target("cwd = \"/srv\"\n"), 3, 7, "not to an image"));
}

TEST(ContainerParser, AnotherNetworkIsRefusedWithItsPosition) {
    EXPECT_TRUE(fails_with(image_target("docker_args = [\"--network\", \"bridge\"]\n"), 3, 15, "--network host only"));
    EXPECT_TRUE(fails_with(image_target("docker_args = [\"--net=mynet\"]\n"), 3, 15, "--network host only"));
}

TEST(ContainerParser, PublishedPortsAreRefused) {
    EXPECT_TRUE(fails_with(image_target("docker_args = [\"-p\", \"8080:8080\"]\n"), 3, 15, "no ports are published"));
}

TEST(DockerArgs, WhatDraincheckDoesItselfIsRefusedAndNamed) {
    EXPECT_EQ(docker_args_problem({"--memory", "1g", "--network=host", "-e", "A=1", "--cpus", "1"}), std::nullopt);
    EXPECT_EQ(docker_args_problem({"--network", "host"}), std::nullopt);
    for (std::vector<std::string> bad : {std::vector<std::string>{"--name", "x"}, {"--rm"}, {"-d"}, {"-it"}, {"--init"},
                                         {"--stop-signal", "QUIT"}, {"--stop-timeout=3"}, {"--publish", "80:80"},
                                         {"-P"}, {"-p8080:80"}, {"--network", "none"}, {"--net"}})
        EXPECT_NE(docker_args_problem(bad), std::nullopt) << bad.front();
    EXPECT_NE(docker_args_problem({"--stop-signal", "QUIT"})->find("use stop_signal"), std::string::npos);
}

TEST(ContainerParser, StopIsAFaultForAProcessAndAContainerAlike) {
    Scenario s = parse_scenario_text(image_target("") + "[[faults]]\nat = \"1s\"\naction = \"stop\"\n"
                                                       "[expect]\nexit_within = \"5s\"\n", "t.toml");
    ASSERT_EQ(s.faults.size(), 1u);
    EXPECT_EQ(s.faults[0].action, "stop");
    EXPECT_TRUE(fails_with(image_target("") + "[[faults]]\nat = \"1s\"\naction = \"stop\"\nsignal = \"TERM\"\n", 8, 10,
                           "not used by action \"stop\""));
}

TEST(ContainerParser, ADependencyMayBeAnImage) {
    Scenario s = parse_scenario_text("[[dependencies]]\nname = \"redis\"\nimage = \"redis:7\"\n"
                                     "command = [\"redis-server\", \"--port\", \"{port}\"]\n"
                                     "[target]\ncommand = [\"x\"]\n" + kLoad, "t.toml");
    ASSERT_EQ(s.dependencies.size(), 1u);
    ASSERT_TRUE(s.dependencies[0].container);
    EXPECT_EQ(s.dependencies[0].container->image, "redis:7");
    EXPECT_TRUE(fails_with("[[dependencies]]\nname = \"redis\"\nimage = \"redis:7\"\ndocker_args = [\"-p\", \"6379:6379\"]\n"
                           "[target]\ncommand = [\"x\"]\n" + kLoad, 4, 15, "no ports are published"));
    EXPECT_TRUE(fails_with("[[dependencies]]\nname = \"redis\"\n[target]\ncommand = [\"x\"]\n" + kLoad, 1, 1,
                           "or image = \"redis:7\""));
}

}  // namespace
}  // namespace draincheck
