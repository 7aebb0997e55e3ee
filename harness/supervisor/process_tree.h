#pragma once
// A target and every process it started, as the host's /proc shows them: who is whose child, the
// command line, and what each does with each signal (catches, ignores, blocks). Read just before a
// stop signal and again at a forced kill, it is the evidence for naming why a shutdown went wrong
// (verifier/shutdown_cause.h). A container's processes are in the host's /proc too, under host pids.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace draincheck {

struct ProcessInfo {
    pid_t pid = 0;                   // as the host sees it
    pid_t ppid = 0;
    std::string comm;                // /proc/PID/comm (what the program named itself, 15 bytes at most)
    std::vector<std::string> argv;   // /proc/PID/cmdline (a program that rewrote it may show one string)
    // Bit masks from /proc/PID/status, bit n-1 = signal n: SigCgt (a handler is installed), SigIgn
    // (SIG_IGN), SigBlk (blocked by its main thread).
    uint64_t caught = 0, ignored = 0, blocked = 0;
    pid_t ns_pid = 0;                // its pid in its own pid namespace (last NSpid); == pid outside one

    bool catches(int signo) const;
    bool ignores(int signo) const;
};

// `root` and every descendant (found by the parent pids of /proc), root first, then breadth-first,
// brothers by pid. Processes that vanish while being read, and zombies, are left out. Empty if root
// is gone or a zombie.
std::vector<ProcessInfo> read_process_tree(pid_t root);

// argv joined with spaces, e.g. "/bin/sh -c node app.js"; comm if argv is empty.
std::string command_line(const ProcessInfo& p);

// The process exists and is not a zombie.
bool is_alive(pid_t pid);

}  // namespace draincheck
