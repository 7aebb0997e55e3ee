#include "reports/junit_report.h"

#include "verifier/breakdown.h"

#include <fmt/format.h>


namespace draincheck {
namespace {

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        case '\n': out += "&#10;"; break;
        default:
            // XML 1.0 forbids most control characters, even escaped.
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r') out += ' ';
            else out += c;
        }
    }
    return out;
}

std::string cdata(const std::string& s) {
    std::string out = "<![CDATA[";
    for (size_t at = 0;;) {
        size_t end = s.find("]]>", at);
        if (end == std::string::npos) {
            out += s.substr(at);
            break;
        }
        out += s.substr(at, end - at) + "]]]]><![CDATA[>";
        at = end + 3;
    }
    return out + "]]>";
}

}  // namespace

std::string make_junit_xml(const std::vector<ScenarioOutcomeForJunit>& scenarios) {
    size_t tests = 0, failures = 0, errors = 0;
    std::string suites;
    for (const auto& s : scenarios) {
        std::string cases;
        size_t suite_tests = 0, suite_failures = 0, suite_errors = 0;
        if (!s.verdict) {
            suite_tests = suite_errors = 1;
            cases += fmt::format("    <testcase classname=\"{0}\" name=\"run\" time=\"{1:.3f}\">\n"
                                 "      <error message=\"{2}\" type=\"harness\">{2}</error>\n    </testcase>\n",
                                 xml_escape(s.name), s.seconds, xml_escape(s.error));
        } else {
            // What weakens the verdict, e.g. a load far below the one asked for: not a failure, but said.
            std::string warnings;
            for (const std::string& w : s.verdict->warnings)
                warnings += fmt::format("      <property name=\"warning\" value=\"{}\"/>\n", xml_escape(w));
            if (!warnings.empty()) cases += "    <properties>\n" + warnings + "    </properties>\n";
            if (s.repeat) {
                // --repeat: one test case per assertion, failed if it failed in any run, naming each run.
                for (const RepeatTally& t : s.repeat->assertions) {
                    ++suite_tests;
                    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\">\n", xml_escape(s.name),
                                         xml_escape(t.name));
                    if (t.failed) {
                        ++suite_failures;
                        std::string runs;
                        for (const RepeatFailure& f : t.failures) runs += fmt::format("\nrun {}: {}", f.run, f.reason);
                        cases += fmt::format("      <failure message=\"failed in {} of {} runs\" type=\"assertion\">held in {} of "
                                             "{} runs{}</failure>\n",
                                             t.failed, t.held + t.failed, t.held, t.held + t.failed, xml_escape(runs));
                    }
                    cases += "    </testcase>\n";
                }
            }
            for (const Assertion& a : s.repeat ? std::vector<Assertion>{} : s.verdict->assertions) {
                ++suite_tests;
                cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\">\n", xml_escape(s.name),
                                     xml_escape(a.name));
                if (!a.passed) {
                    ++suite_failures;
                    std::string kinds;
                    for (const std::string& kind : breakdown_lines(a.breakdown)) kinds += "\n" + kind;
                    cases += fmt::format("      <failure message=\"{}\" type=\"assertion\">expected {}, observed {}{}</failure>\n",
                                         xml_escape(a.reason), xml_escape(a.expected), xml_escape(a.observed),
                                         xml_escape(kinds));
                }
                cases += "    </testcase>\n";
            }
        }
        tests += suite_tests;
        failures += suite_failures;
        errors += suite_errors;
        suites += fmt::format("  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n{}"
                              "    <system-out>{}</system-out>\n  </testsuite>\n",
                              xml_escape(s.name), xml_escape(s.file), suite_tests, suite_failures, suite_errors, s.seconds,
                              cases, cdata(s.summary_text));
    }
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<testsuites name=\"draincheck\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n{}</testsuites>\n",
                       tests, failures, errors, suites);
}

}  // namespace draincheck
