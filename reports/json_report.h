#pragma once
// The JSON report, schema "draincheck/1" (documented in docs/json-report.md).
#include "verifier/run_result.h"
#include "verifier/repeat_summary.h"
#include "verifier/run_stats.h"
#include "verifier/verdict.h"

#include <nlohmann/json.hpp>

#include <string>

namespace draincheck {

inline constexpr const char* kJsonSchema = "draincheck/1";

nlohmann::json make_json_report(const RunResult& run, const Verdict& verdict, const RunStats& stats,
                                const std::string& draincheck_version);

// `repeat`: the summary of `draincheck run --repeat N`, added to the worst run's report.
nlohmann::json repeat_json(const RepeatSummary& summary);

// The report as written to disk: indented, invalid UTF-8 replaced.
std::string json_report_text(const nlohmann::json& report);

// Writes atomically (temp file + rename); invalid UTF-8 in logs is replaced, never fatal.
// Throws std::runtime_error naming the path on failure.
void write_json_report(const std::string& path, const nlohmann::json& report);

}  // namespace draincheck
