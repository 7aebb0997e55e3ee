#include "cli_harness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace draincheck::testing {
namespace {

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

std::set<std::string> assertions_where(const nlohmann::json& report, bool passed) {
    std::set<std::string> out;
    if (!report.contains("assertions")) return out;
    for (const auto& a : report["assertions"])
        if (a["passed"].get<bool>() == passed) out.insert(a["name"].get<std::string>());
    return out;
}

}  // namespace

std::set<std::string> CliRun::failed_assertions() const { return assertions_where(report, false); }
std::set<std::string> CliRun::passed_assertions() const { return assertions_where(report, true); }

TempDir::TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("draincheck-test-" + std::to_string(rd()) + std::to_string(::getpid()));
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
}

std::string sample_service() { return SAMPLE_SERVICE_EXE; }

std::string sample_service_scenario(const std::string& load, const std::string& expect) {
    return "[target]\ncommand = [\"" + sample_service() + "\", \"--port\", \"{port}\"]\nready = { http = \"/healthz\" }\n"
           "[load]\n" + load + "[expect]\n" + expect;
}

fs::path write_file(const fs::path& dir, const std::string& name, const std::string& text) {
    fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

fs::path localize_scenario(const std::string& bundled_name, const fs::path& dir) {
    std::string text = read_all(fs::path(DRAINCHECK_SOURCE_DIR) / "scenarios" / bundled_name);
    EXPECT_FALSE(text.empty()) << "no bundled scenario " << bundled_name;
    replace_all(text, "\"../build/targets/sample_service\"", "\"" + sample_service() + "\"");
    replace_all(text, "\"../targets/", "\"" + std::string(DRAINCHECK_SOURCE_DIR) + "/targets/");
    return write_file(dir, bundled_name, text);
}

CliRun run_cli(const std::vector<std::string>& args, const fs::path& json) {
    std::string cmd = shell_quote(DRAINCHECK_EXE);
    for (const auto& a : args) cmd += " " + shell_quote(a);
    TempDir out;
    fs::path log = out.path() / "output.txt";
    cmd += " >" + shell_quote(log.string()) + " 2>&1 </dev/null";
    int status = std::system(cmd.c_str());
    CliRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.output = read_all(log);
    if (!json.empty() && fs::exists(json)) run.report = nlohmann::json::parse(read_all(json));
    return run;
}

// Starts draincheck with stdout and stderr into a pipe; returns its pid and the pipe's read end.
std::pair<int, FILE*> spawn_draincheck(const std::vector<std::string>& args) {
    std::vector<std::string> argv_storage = {DRAINCHECK_EXE};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    pid_t pid;
    EXPECT_EQ(posix_spawn(&pid, DRAINCHECK_EXE, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    return {pid, fdopen(fds[0], "r")};
}

// Reads draincheck's output until a line contains `needle` (events are printed as they happen).
bool read_until(FILE* out, const std::string& needle) {
    char line[4096];
    while (fgets(line, sizeof line, out))
        if (std::string(line).find(needle) != std::string::npos) return true;
    return false;
}

std::vector<int> processes_with_env(const std::string& marker) {
    std::vector<int> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string env = read_all(entry.path() / "environ");
        std::string_view view(env);
        for (size_t at = 0; at < view.size();) {
            size_t end = view.find('\0', at);
            if (view.substr(at, end - at) == marker) found.push_back(std::stoi(name));
            if (end == std::string_view::npos) break;
            at = end + 1;
        }
    }
    return found;
}

CliRun run_expecting(const VerdictExpectation& e, const std::filesystem::path& dir) {
    auto scenario = localize_scenario(e.scenario, dir);
    auto json = dir / "report.json";
    CliRun run = run_cli({"run", scenario.string(), "--json", json.string()}, json);
    EXPECT_EQ(run.exit_code, e.exit_code) << run.output;
    EXPECT_FALSE(run.report.is_null()) << run.output;
    if (run.report.is_null()) return run;
    EXPECT_EQ(run.report["schema"], "draincheck/1");
    auto failed = run.failed_assertions();
    auto passed = run.passed_assertions();
    for (const auto& name : e.must_fail) EXPECT_TRUE(failed.count(name)) << name << " should fail\n" << run.output;
    for (const auto& name : e.must_pass) EXPECT_TRUE(passed.count(name)) << name << " should hold\n" << run.output;
    if (e.exit_code == 0) EXPECT_TRUE(failed.empty()) << run.output;
    // A failure must come with evidence: the requests or facts that show it.
    for (const auto& a : run.report["assertions"])
        if (!a["passed"].get<bool>()) EXPECT_FALSE(a["reason"].get<std::string>().empty()) << a.dump();
    return run;
}

std::optional<std::string> docker_unavailable() {
    if (std::system("command -v docker >/dev/null 2>&1") != 0) return "docker is not installed (./setup.sh installs docker.io)";
    if (std::system("docker info >/dev/null 2>&1") != 0) return "the Docker daemon is not reachable (./setup.sh starts dockerd)";
    return std::nullopt;
}

}  // namespace draincheck::testing
