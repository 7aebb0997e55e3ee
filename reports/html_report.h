#pragma once
// The self-contained HTML report: one file, no network at view time. The page is the template in
// reports/report_template.html with the JSON report and uPlot (from npm) inlined at build time;
// it renders everything in the browser, so a report re-renders from its JSON alone.
#include <nlohmann/json.hpp>

#include <string>

namespace draincheck {

std::string make_html_report(const nlohmann::json& report);

}  // namespace draincheck
