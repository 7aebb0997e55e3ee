#pragma once
// Files inlined into the binary at build time (generated html_assets.cpp, see CMakeLists.txt).
#include <string_view>

namespace draincheck::html_assets {

extern const std::string_view report_template;  // reports/report_template.html
extern const std::string_view uplot_js;         // uPlot's minified IIFE build, from npm
extern const std::string_view uplot_css;

}  // namespace draincheck::html_assets
