// What the target's environment is, and that secrets given through it stay out of every output.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string target_printing(const std::string& shell) {
    return "[target]\ncommand = [\"/bin/sh\", \"-c\", \"" + shell + "; exec " + sample_service() + " --port {port}\"]\n"
           "ready = { http = \"/healthz\" }\n";
}

const std::string kLoad = "[load]\nrate = 20\nduration = \"300ms\"\n";

}  // namespace

TEST(Environment, InheritedByDefaultClearedOnRequest) {
    TempDir dir;
    ::setenv("DRAINCHECK_TEST_INHERITED", "from-harness", 1);
    auto inherit = write_file(dir.path(), "inherit.toml",
        target_printing("echo inherited=$DRAINCHECK_TEST_INHERITED given=$GIVEN port=$PORT") + "env = { GIVEN = \"yes\" }\n" + kLoad);
    CliRun a = run_cli({"run", inherit.string(), "--verbose"});
    EXPECT_EQ(a.exit_code, 0) << a.output;
    EXPECT_NE(a.output.find("inherited=from-harness given=yes port="), std::string::npos) << a.output;

    auto cleared = write_file(dir.path(), "cleared.toml",
        target_printing("echo inherited=$DRAINCHECK_TEST_INHERITED given=$GIVEN home=$HOME run=$DRAINCHECK_RUN") +
        "env = { GIVEN = \"yes\" }\nenv_clear = true\n" + kLoad);
    CliRun b = run_cli({"run", cleared.string(), "--verbose"});
    ::unsetenv("DRAINCHECK_TEST_INHERITED");
    EXPECT_EQ(b.exit_code, 0) << b.output;
    EXPECT_NE(b.output.find("inherited= given=yes home= run="), std::string::npos) << b.output;
    EXPECT_EQ(b.output.find("run= "), std::string::npos) << "the run marker must still be set";
}

TEST(Environment, MaskedSecretsNeverReachOutputOrReports) {
    TempDir dir;
    const std::string secret = "s3cr3t-token-4242";
    ::setenv("DRAINCHECK_TEST_INHERITED_SECRET", "inherited-secret-77", 1);
    auto s = write_file(dir.path(), "secret.toml",
        "[target]\ncommand = [\"/bin/sh\", \"-c\", \"echo key=$API_KEY other=$DRAINCHECK_TEST_INHERITED_SECRET; exec " + sample_service() +
        " --port {port}\", \"--token=" + secret + "\"]\nready = { http = \"/healthz\" }\n"
        "env = { API_KEY = \"" + secret + "\" }\nmask_env = [\"API_KEY\", \"DRAINCHECK_TEST_INHERITED_SECRET\"]\n" + kLoad);
    auto out = dir.path() / "out";
    CliRun r = run_cli({"run", s.string(), "--verbose", "--out", out.string()});
    ::unsetenv("DRAINCHECK_TEST_INHERITED_SECRET");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("key=*** other=***"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--token=***"), std::string::npos) << r.output;
    for (const auto& text : {r.output, slurp(out / "report.json"), slurp(out / "report.html")}) {
        EXPECT_EQ(text.find(secret), std::string::npos);
        EXPECT_EQ(text.find("inherited-secret-77"), std::string::npos);
    }
}
