#pragma once
// Readers for the scenario's array sections, each in its own file: [[dependencies]] and [[faults]].
#include "scenario/scenario.h"
#include "scenario/table_reader.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

// Absolute and normalized, without a trailing separator.
std::string absolute_directory(const std::filesystem::path& dir);

// [[dependencies]]: names unique, commands present, env names not set twice.
void read_dependencies(const TableReader& top, const std::filesystem::path& scenario_dir, const TargetSpec& target,
                       std::vector<DependencySpec>& out);

// [[faults]], sorted by `at`; dependency names are checked against `dependencies`.
void read_faults(const TableReader& top, const LoadSpec& load, const std::vector<DependencySpec>& dependencies,
                 std::vector<FaultSpec>& out);

}  // namespace draincheck
