#pragma once
// Runs a short command to completion and returns what it printed: for the few synchronous questions
// draincheck asks other tools (`docker image inspect`, `docker run -d`), never for a target.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace draincheck {

struct CommandOutput {
    bool started = false;          // false: the program could not be run (not found, not executable)
    std::optional<int> code;       // exit code; nullopt when killed (or it timed out)
    bool timed_out = false;
    std::string out, err;          // all of stdout and stderr
    bool ok() const { return code == 0; }
};

// argv[0] is looked up in PATH. stdin is /dev/null. Killed (SIGKILL) after `timeout`.
CommandOutput run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// Whether `program` is found in PATH (or, with a '/', exists and is executable).
bool program_in_path(const std::string& program);

}  // namespace draincheck
