// draincheck report REPORT.json --html OUT.html: the HTML report again, from a JSON report alone.
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "reports/atomic_file.h"
#include "reports/html_report.h"
#include "reports/json_report.h"

#include <fmt/format.h>

#include <fstream>

namespace draincheck {

int report_command(const std::string& json_path, const std::string& html_path) {
    std::ifstream in(json_path);
    if (!in) {
        fmt::print(stderr, "draincheck report: cannot read {}\n", json_path);
        return exit_code::invalid;
    }
    nlohmann::json report = nlohmann::json::parse(in, nullptr, false);
    if (report.is_discarded() || !report.is_object()) {
        fmt::print(stderr, "draincheck report: {} is not JSON\n", json_path);
        return exit_code::invalid;
    }
    std::string schema = report.value("schema", std::string("(none)"));
    if (schema != kJsonSchema) {
        fmt::print(stderr, "draincheck report: {} has schema {}; this draincheck reads {}\n", json_path, schema, kJsonSchema);
        return exit_code::invalid;
    }
    try {
        write_text_file(html_path, make_html_report(report));
    } catch (const std::exception& e) {
        fmt::print(stderr, "draincheck report: {}\n", e.what());
        return exit_code::environment;
    }
    fmt::print("report: {}\n", html_path);
    return exit_code::pass;
}

}  // namespace draincheck
