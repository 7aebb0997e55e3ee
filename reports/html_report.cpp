#include "reports/html_report.h"

#include "reports/html_assets.h"

namespace draincheck {
namespace {

void replace_once(std::string& text, std::string_view marker, std::string_view value) {
    auto at = text.find(marker);
    if (at != std::string::npos) text.replace(at, marker.size(), value);
}

}  // namespace

std::string make_html_report(const nlohmann::json& report) {
    std::string json = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Inside <script>, "</script>" or "<!--" in a log line would end or bend the element: '<' only
    // occurs inside JSON strings, where \u003c means the same character.
    std::string safe;
    safe.reserve(json.size());
    for (char c : json) {
        if (c == '<') safe += "\\u003c";
        else safe += c;
    }
    std::string html(html_assets::report_template);
    replace_once(html, "/*@UPLOT_CSS@*/", html_assets::uplot_css);
    replace_once(html, "/*@REPORT_JSON@*/", safe);
    replace_once(html, "/*@UPLOT_JS@*/", html_assets::uplot_js);
    return html;
}

}  // namespace draincheck
