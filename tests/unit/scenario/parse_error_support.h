#pragma once
// What the parser tests share: the error a scenario text gives, and a check of its position and message.
#include "scenario/scenario_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace draincheck {

// The ScenarioError parsing `text` (as "t.toml") throws; a test failure if it parses.
inline ScenarioError error_of(const std::string& text) {
    try {
        parse_scenario_text(text, "t.toml");
    } catch (const ScenarioError& e) {
        return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return ScenarioError("t.toml", 0, 0, "");
}

// The error is at line:column, its message contains `message`, and its text starts "t.toml:LINE:COL: ".
inline ::testing::AssertionResult fails_with(const std::string& text, int line, int column, const std::string& message) {
    ScenarioError e = error_of(text);
    if (e.line() != line || e.column() != column)
        return ::testing::AssertionFailure() << "at " << e.line() << ":" << e.column() << ", not " << line << ":" << column
                                             << ": " << e.what();
    if (e.message().find(message) == std::string::npos)
        return ::testing::AssertionFailure() << "no \"" << message << "\" in: " << e.what();
    if (std::string(e.what()).find("t.toml:" + std::to_string(line) + ":" + std::to_string(column) + ": ") != 0)
        return ::testing::AssertionFailure() << "no position prefix in: " << e.what();
    return ::testing::AssertionSuccess();
}

}  // namespace draincheck
