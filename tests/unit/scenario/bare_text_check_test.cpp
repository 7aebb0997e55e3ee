#include "scenario/bare_text_check.h"
#include "scenario/scenario_parser.h"

#include <gtest/gtest.h>

using namespace draincheck;

TEST(BareTextCheck, NonAsciiInsideStringsAndCommentsIsFine) {
    EXPECT_FALSE(find_bare_non_ascii("name = \"ünïcødé ✓\" # ţ comment\n").has_value());
    EXPECT_FALSE(find_bare_non_ascii("a = 'ţ'\nb = \"\"\"x\nţ\n\"\"\"\nc = '''ţ\n'''\nd = \"\\\"ţ\"\n").has_value());
}

TEST(BareTextCheck, NonAsciiElsewhereIsFoundWithItsPosition) {
    auto at = find_bare_non_ascii("a = \"é\"\n  ţ = 1\n");
    ASSERT_TRUE(at.has_value());
    EXPECT_EQ(at->line, 2);
    EXPECT_EQ(at->column, 3);
    auto after_string = find_bare_non_ascii("x = \"é\" ţ\n");
    ASSERT_TRUE(after_string.has_value());
    EXPECT_EQ(after_string->column, 9);   // "é" counts as one column
}

TEST(BareTextCheck, TheParserReportsItInsteadOfReachingTomlpp) {
    // These two bytes made toml++ 3.3 execute __builtin_unreachable (found by the fuzzer).
    try {
        parse_scenario_text("\xc5\xa3", "f.toml");
        FAIL() << "accepted";
    } catch (const ScenarioError& e) {
        EXPECT_EQ(std::string(e.what()), "f.toml:1:1: invalid TOML: a non-ASCII character outside a string or a comment");
    }
}
