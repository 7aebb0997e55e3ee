// The docs stay honest: the gate line both CI examples in docs/ci.md run is the same, and it works as
// written; every test the README's bad-input table names exists.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> gate_lines() {
    std::ifstream in(fs::path(DRAINCHECK_SOURCE_DIR) / "docs" / "ci.md");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        auto marker = line.find("# draincheck gate");
        if (marker == std::string::npos) continue;
        auto start = line.find("./draincheck/");
        lines.push_back(line.substr(start, line.find_last_not_of(' ', marker - 1) - start + 1));
    }
    return lines;
}

}  // namespace

TEST(CiDocs, BothWorkflowsRunTheSameGateAndItWorks) {
    auto lines = gate_lines();
    ASSERT_EQ(lines.size(), 2u) << "one gate line per CI example";
    EXPECT_EQ(lines[0], lines[1]);

    // The user's repository: its scenarios in ci/draincheck/, draincheck built in draincheck/build/.
    TempDir repo;
    fs::create_directories(repo.path() / "ci" / "draincheck");
    localize_scenario("sigterm-graceful.toml", repo.path() / "ci" / "draincheck");
    localize_scenario("sigterm-exit-nonzero.toml", repo.path() / "ci" / "draincheck");
    fs::create_directories(repo.path() / "draincheck" / "build");
    fs::create_symlink(DRAINCHECK_EXE, repo.path() / "draincheck" / "build" / "draincheck");

    std::string cmd = "cd '" + repo.path().string() + "' && " + lines[0] + " >output.txt 2>&1";
    int status = std::system(cmd.c_str());
    std::ifstream log(repo.path() / "output.txt");
    std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_EQ(WEXITSTATUS(status), 1) << output;   // one scenario fails: the job must fail
    fs::path out = repo.path() / "draincheck-out";
    EXPECT_TRUE(fs::exists(out / "junit.xml")) << output;
    for (const char* name : {"sigterm-graceful", "sigterm-exit-nonzero"}) {
        EXPECT_TRUE(fs::exists(out / name / "report.html")) << name;
        EXPECT_TRUE(fs::exists(out / name / "report.json")) << name;
    }
}

// Each row of the README's "Bad input" table ends with `file_test` or `file_test: Name, Name…`: the file
// must exist under tests/, and hold each name (a trailing … means "starting with").
TEST(CiDocs, EveryTestTheBadInputTableNamesExists) {
    std::ifstream in(fs::path(DRAINCHECK_SOURCE_DIR) / "README.md");
    bool in_table = false;
    size_t rows = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("#")) in_table = line == "### Bad input";
        if (!in_table || !line.starts_with("| ") || line.starts_with("| input |")) continue;
        ++rows;
        std::string cell = line.substr(0, line.find_last_not_of(" |") + 1);
        cell = cell.substr(cell.rfind('|') + 2);
        std::string file = cell.substr(0, cell.find(':'));
        fs::path source;
        for (const auto& e : fs::recursive_directory_iterator(fs::path(DRAINCHECK_SOURCE_DIR) / "tests"))
            if (e.path().filename() == file + ".cpp") source = e.path();
        ASSERT_FALSE(source.empty()) << "no tests/**/" << file << ".cpp for the row: " << line;
        if (cell.find(':') == std::string::npos) continue;
        std::ifstream code_in(source);
        std::stringstream code;
        code << code_in.rdbuf();
        std::stringstream names(cell.substr(cell.find(':') + 1));
        for (std::string name; std::getline(names, name, ',');) {
            name = std::regex_replace(name, std::regex("^ +| +$|…$"), "");
            EXPECT_NE(code.str().find(name), std::string::npos) << file << " has no " << name << " (row: " << line << ")";
        }
    }
    EXPECT_GE(rows, 40u) << "the table was not found whole";
}
