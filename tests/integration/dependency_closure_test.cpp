// Did the target close its dependency connections before it exited? Judged by fact: the target is
// traced, and the moment it (or a process it forked) begins to exit, the connections its process
// group still holds are the ones it left to the kernel. Real redis-server, real Node targets
// (targets/node/dependency-client.js), one way of ending the connection each; the expected
// verdicts are in that file's header.
#include "cli_harness.h"

#include <gtest/gtest.h>

using namespace draincheck::testing;

namespace {

// The dependency-client target against a real Redis, TERM at 1 s under keep-alive load: it exits when
// the load ends, moments before draincheck stops Redis.
CliRun run_mode(const TempDir& dir, const std::string& mode) {
    std::string text =
        "[[dependencies]]\nname = \"redis\"\n"
        "command = [\"redis-server\", \"--port\", \"{port}\", \"--bind\", \"127.0.0.1\", \"--save\", \"\", \"--appendonly\", \"no\"]\n"
        "ready = { command = [\"redis-cli\", \"-p\", \"{port}\", \"ping\"] }\n"
        "env = { REDIS_URL = \"redis://127.0.0.1:{proxy_port}\" }\n"
        "[target]\ncommand = [\"node\", \"" DRAINCHECK_SOURCE_DIR "/targets/node/dependency-client.js\", \"--port\", \"{port}\", "
        "\"--close\", \"" + mode + "\"]\n"
        "ready = { http = \"/healthz\", timeout = \"10s\" }\nkill_after = \"10s\"\n"
        "[load]\nrate = 100\nduration = \"2s\"\ntimeout = \"5s\"\npath = \"/work?ms=200\"\n"
        "[[faults]]\nat = \"1s\"\naction = \"signal\"\nsignal = \"TERM\"\n"
        "[expect]\nexit_code = 0\ndependency_closed_before_exit = true\n";
    auto json = dir.path() / "r.json";
    return run_cli({"run", write_file(dir.path(), "s.toml", text).string(), "--json", json.string()}, json);
}

const nlohmann::json& assertion(const CliRun& r, const std::string& name) {
    for (const auto& a : r.report["assertions"])
        if (a["name"] == name) return a;
    static const nlohmann::json none;
    return none;
}

std::vector<std::string> hows(const CliRun& r) {
    std::vector<std::string> out;
    for (const auto& c : r.report["dependencies"][0]["connections"]) out.push_back(c["how"].get<std::string>());
    return out;
}

// The target's exit was seen as it began: the verdict rests on the fact, not on the weaker rule.
void expect_judged_by_fact(const CliRun& r) {
    EXPECT_TRUE(r.report["verdict"]["warnings"].empty()) << r.report["verdict"]["warnings"].dump();
    bool seen = false;
    for (const auto& e : r.report["events"])
        seen = seen || e["detail"].get<std::string>().find("the target " + std::to_string(r.report["target"]["pid"].get<int>()) +
                                                            " began to exit") != std::string::npos;
    EXPECT_TRUE(seen) << r.output;
}

}  // namespace

TEST(DependencyClosure, AConnectionNeverWrittenNorClosedFailsEvenWhenTheExitEndsTheLoad) {
    TempDir dir;
    CliRun r = run_mode(dir, "never");
    ASSERT_EQ(r.exit_code, 1) << r.output;
    EXPECT_FALSE(assertion(r, "dependency_closed_before_exit")["passed"].get<bool>()) << r.output;
    ASSERT_EQ(hows(r).size(), 1u);
    EXPECT_NE(hows(r)[0].find("still open when the target began to exit"), std::string::npos) << hows(r)[0];
    EXPECT_NE(hows(r)[0].find("never wrote to it"), std::string::npos) << hows(r)[0];
    expect_judged_by_fact(r);
}

TEST(DependencyClosure, AResetIsTheTargetClosingItsConnection) {
    TempDir dir;
    CliRun r = run_mode(dir, "reset");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_EQ(hows(r).size(), 1u);
    EXPECT_EQ(hows(r)[0], "closed by the target before it began to exit");
    expect_judged_by_fact(r);
}

TEST(DependencyClosure, QuitAndExitAtOnceIsAGoodbyeTheDependencyAnswers) {
    TempDir dir;
    CliRun r = run_mode(dir, "quit-exit");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(assertion(r, "dependency_closed_before_exit")["passed"].get<bool>()) << r.output;
    expect_judged_by_fact(r);
}

// A child that inherited the socket still holds it when the target begins to exit, and outlives it by
// 200 ms: the group held it, so the target did not close it.
TEST(DependencyClosure, AForkedChildHoldingTheSocketIsJudgedWithTheGroup) {
    TempDir dir;
    CliRun r = run_mode(dir, "fork-inherit");
    ASSERT_EQ(r.exit_code, 1) << r.output;
    ASSERT_EQ(hows(r).size(), 1u);
    EXPECT_NE(hows(r)[0].find("still open when the target began to exit (held by pid " +
                              std::to_string(r.report["target"]["pid"].get<int>()) + ", "),
              std::string::npos)
        << hows(r)[0];
    expect_judged_by_fact(r);
}

TEST(DependencyClosure, ASecondConnectionOpenedDuringTheDrainAndForgottenIsNamed) {
    TempDir dir;
    CliRun r = run_mode(dir, "second-forgotten");
    ASSERT_EQ(r.exit_code, 1) << r.output;
    const auto& a = assertion(r, "dependency_closed_before_exit");
    EXPECT_FALSE(a["passed"].get<bool>());
    EXPECT_NE(a["reason"].get<std::string>().find("redis #2"), std::string::npos) << a.dump();
    EXPECT_EQ(a["reason"].get<std::string>().find("redis #1"), std::string::npos) << a.dump();
    ASSERT_EQ(hows(r).size(), 2u);
    EXPECT_EQ(hows(r)[0], "closed by the target before it began to exit");
    expect_judged_by_fact(r);
}
