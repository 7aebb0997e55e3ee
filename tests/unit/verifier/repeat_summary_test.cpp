// The verdict over repeated runs, from the runs' own verdicts.
#include "verifier/repeat_summary.h"

#include <gtest/gtest.h>

using namespace draincheck;

namespace {

int worse(int a, int b) { return b > a ? b : a; }   // enough for 0 (pass), 1 (fail), 3 (environment)

Assertion assertion(const std::string& name, bool passed, const std::string& reason = "") {
    Assertion a;
    a.name = name;
    a.passed = passed;
    a.reason = reason;
    a.observed = passed ? "fine" : "not fine";
    return a;
}

RepeatRun run(unsigned index, bool dropped_ok, bool exit_ok, std::vector<std::string> warnings = {}) {
    Verdict v;
    v.assertions = {assertion("dropped_inflight", dropped_ok, "1 request dropped in flight"),
                    assertion("exit_code", exit_ok, "exited with code 1, expected 0")};
    v.passed = dropped_ok && exit_ok;
    v.warnings = std::move(warnings);
    return RepeatRun{index, v.passed ? 0 : 1, v, "run-" + std::to_string(index) + "/report.json"};
}

}  // namespace

TEST(RepeatSummary, CountsEachAssertionAndNamesTheFailingRuns) {
    auto s = summarize_repeats({run(1, true, true), run(2, false, true), run(3, true, true), run(4, false, false)}, 4, false,
                               worse);
    EXPECT_EQ(s.ran, 4u);
    EXPECT_EQ(s.passed, 2u);
    EXPECT_EQ(s.failed, 2u);
    ASSERT_EQ(s.assertions.size(), 2u);
    EXPECT_EQ(s.assertions[0].name, "dropped_inflight");
    EXPECT_EQ(s.assertions[0].held, 2u);
    EXPECT_EQ(s.assertions[0].failed, 2u);
    ASSERT_EQ(s.assertions[0].failures.size(), 2u);
    EXPECT_EQ(s.assertions[0].failures[0].run, 2u);
    EXPECT_EQ(s.assertions[0].failures[1].run, 4u);
    EXPECT_EQ(s.assertions[0].failures[1].report, "run-4/report.json");
    EXPECT_EQ(s.assertions[1].held, 3u);
    EXPECT_EQ(s.worst_exit_code, 1);
    EXPECT_EQ(s.worst_run, 2u);   // the first run that gave the worst exit code
    EXPECT_EQ(repeat_line(s), "4 runs: 2 passed, 2 failed; dropped_inflight held in 2 of 4 (failed in runs 2, 4); "
                              "exit_code held in 3 of 4 (failed in run 4)");
}

TEST(RepeatSummary, ARunThatCouldNotBeMadeIsTheWorstAndNotJudged) {
    RepeatRun broken{2, 3, std::nullopt, ""};
    auto s = summarize_repeats({run(1, true, true), broken}, 5, true, worse);
    EXPECT_EQ(s.ran, 2u);
    EXPECT_EQ(s.not_judged, 1u);
    EXPECT_EQ(s.passed, 1u);
    EXPECT_EQ(s.worst_exit_code, 3);
    EXPECT_EQ(s.worst_run, 2u);
    EXPECT_EQ(repeat_line(s), "2 runs of 5: 1 passed, 0 failed, 1 could not be run");
}

TEST(RepeatSummary, EachWarningOnceWithTheRunsItCameWith) {
    auto s = summarize_repeats({run(1, true, true, {"no request was in flight"}), run(2, true, true),
                                run(3, true, true, {"no request was in flight"})},
                               3, false, worse);
    ASSERT_EQ(s.warnings.size(), 1u);
    EXPECT_EQ(s.warnings[0], "no request was in flight (runs 1, 3)");
}
