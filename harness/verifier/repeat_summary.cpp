#include "verifier/repeat_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace draincheck {

RepeatSummary summarize_repeats(const std::vector<RepeatRun>& runs, unsigned asked, bool until_fail,
                                int (*worse)(int, int)) {
    RepeatSummary s;
    s.asked = asked;
    s.until_fail = until_fail;
    s.ran = unsigned(runs.size());
    std::map<std::string, std::vector<unsigned>> warned;   // warning text -> runs
    std::vector<std::string> warning_order;
    for (const RepeatRun& r : runs) {
        if (s.worst_run == 0 || (r.exit_code != s.worst_exit_code && worse(s.worst_exit_code, r.exit_code) == r.exit_code)) {
            s.worst_exit_code = r.exit_code;
            s.worst_run = r.index;
        }
        if (!r.verdict) {
            ++s.not_judged;
            continue;
        }
        ++(r.verdict->passed ? s.passed : s.failed);
        for (const Assertion& a : r.verdict->assertions) {
            auto it = std::find_if(s.assertions.begin(), s.assertions.end(), [&](const RepeatTally& t) { return t.name == a.name; });
            if (it == s.assertions.end()) it = s.assertions.insert(s.assertions.end(), RepeatTally{a.name});
            if (a.passed) {
                ++it->held;
                continue;
            }
            ++it->failed;
            it->failures.push_back({r.index, a.reason, a.observed, r.report});
        }
        for (const std::string& w : r.verdict->warnings) {
            auto [at, fresh] = warned.try_emplace(w);
            if (fresh) warning_order.push_back(w);
            at->second.push_back(r.index);
        }
    }
    for (const std::string& w : warning_order) {
        const auto& in = warned[w];
        std::string list;
        for (unsigned i : in) list += (list.empty() ? "" : ", ") + std::to_string(i);
        s.warnings.push_back(fmt::format("{} (run{} {})", w, in.size() == 1 ? "" : "s", list));
    }
    return s;
}

std::string repeat_line(const RepeatSummary& s) {
    std::string line = fmt::format("{} run{}{}: {} passed, {} failed", s.ran, s.ran == 1 ? "" : "s",
                                   s.ran < s.asked ? fmt::format(" of {}", s.asked) : "", s.passed, s.failed);
    if (s.not_judged) line += fmt::format(", {} could not be run", s.not_judged);
    for (const RepeatTally& t : s.assertions) {
        if (!t.failed) continue;
        std::string runs;
        for (const RepeatFailure& f : t.failures) runs += (runs.empty() ? "" : ", ") + std::to_string(f.run);
        line += fmt::format("; {} held in {} of {} (failed in run{} {})", t.name, t.held, t.held + t.failed,
                            t.failures.size() == 1 ? "" : "s", runs);
    }
    return line;
}

}  // namespace draincheck
