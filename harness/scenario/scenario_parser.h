#pragma once
// Reads a TOML scenario file into a validated Scenario. Every problem is reported with the
// file, line and column of the offending key or value, what was expected, and a
// "did you mean" suggestion for misspelled keys.
#include "scenario/scenario.h"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

class ScenarioError : public std::runtime_error {
public:
    ScenarioError(std::string file, int line, int column, std::string message)
        : std::runtime_error(format(file, line, column, message)),
          file_(std::move(file)), line_(line), column_(column), message_(std::move(message)) {}

    const std::string& file() const { return file_; }
    int line() const { return line_; }       // 0 when the problem has no position (e.g. missing file)
    int column() const { return column_; }
    const std::string& message() const { return message_; }  // without the position prefix

private:
    static std::string format(const std::string& file, int line, int column, const std::string& msg) {
        if (line <= 0) return file + ": " + msg;
        return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + msg;
    }
    std::string file_;
    int line_, column_;
    std::string message_;
};

// The fault actions a scenario may name, in documentation order.
std::vector<std::string_view> fault_action_names();

// Throws ScenarioError.
Scenario parse_scenario_file(const std::string& path);
// For tests and fuzzing: `source_name` is used in error positions.
Scenario parse_scenario_text(std::string_view toml_text, const std::string& source_name);

}  // namespace draincheck
