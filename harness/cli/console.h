#pragma once
// What a person (or a CI log) sees: the timeline as it happens, a live progress line on a terminal
// (plain periodic lines otherwise), and the summary with the verdict.
#include "run/scenario_runner.h"
#include "verifier/repeat_summary.h"
#include "verifier/run_stats.h"
#include "verifier/verdict.h"

#include <cstdio>
#include <string>

namespace draincheck {

// The end-of-run summary: assertions with evidence, outcome × phase counts, latency, exit, verdict.
std::string summary_text(const RunResult& run, const Verdict& verdict, const RunStats& stats);

class Console : public RunObserver {
public:
    enum class Verbosity { quiet, normal, verbose };
    Console(std::FILE* out, bool is_tty, Verbosity v) : out_(out), tty_(is_tty), verbosity_(v) {}

    void begin(const RunPlan& plan);
    void on_event(const RunEvent& e) override;
    void on_progress(const LiveStatus& s) override;
    void on_log(const LogLine& l) override;
    // Prints the text made by summary_text (or only the verdict line when quiet).
    void summary(const std::string& scenario_name, const Verdict& verdict, const std::string& text);
    // After `run --repeat N`: per assertion, how many runs held and which failed, and why.
    void repeat_summary(const std::string& scenario_name, const RepeatSummary& summary);
    void harness_error(const std::string& scenario, const std::string& message, const std::vector<LogLine>& tail);

private:
    void clear_progress_line();
    std::FILE* out_;
    bool tty_;
    Verbosity verbosity_;
    bool progress_shown_ = false;
    int ticks_ = 0;
};

}  // namespace draincheck
