#include "supervisor/orphan_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace draincheck {
namespace {

// Whether /proc/<pid>/environ holds exactly `marker` as one entry.
bool carries_marker(const char* pid, const std::string& marker) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%s/environ", pid);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::string env;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) env.append(buf, size_t(n));
    ::close(fd);
    for (size_t at = 0; at < env.size();) {
        size_t end = env.find('\0', at);
        if (env.compare(at, (end == std::string::npos ? env.size() : end) - at, marker) == 0) return true;
        if (end == std::string::npos) break;
        at = end + 1;
    }
    return false;
}

// SIGKILLs every marked process; returns how many it found.
int kill_marked(const std::string& marker) {
    int found = 0;
    DIR* proc = ::opendir("/proc");
    if (!proc) return 0;
    while (dirent* e = ::readdir(proc)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        pid_t pid = pid_t(std::atoi(e->d_name));
        if (pid == ::getpid() || !carries_marker(e->d_name, marker)) continue;
        ::kill(pid, SIGKILL);
        ++found;
    }
    ::closedir(proc);
    return found;
}

std::string run_marker(pid_t pid) { return std::string(kRunMarker) + "=" + std::to_string(pid); }
std::string temp_prefix(pid_t pid) { return "draincheck-" + std::to_string(pid) + "-"; }

// Removes the entries of `dir` whose names start with `prefix` (what a killed run left behind).
void remove_run_files(const std::filesystem::path& dir, const std::string& prefix) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename().string().starts_with(prefix)) std::filesystem::remove_all(it->path(), ec);
}

// The containers (and swarm services) a run started carry the label draincheck.run=<its pid>; once
// draincheck is gone, Docker is asked to remove them (their processes are gone already: they carry the run marker).
// Only when the run noted that it started one, so that other runs never wait on Docker.
void remove_run_containers(pid_t harness, const std::filesystem::path& temp_dir) {
    std::error_code ec;
    if (!std::filesystem::exists(temp_dir / (temp_prefix(harness) + kContainersNote), ec)) return;
    std::string label = std::string("label=draincheck.run=") + std::to_string(harness);
    // A swarm service first: it would start its tasks' containers again.
    std::string script = "sids=$(docker service ls --quiet --filter " + label + " 2>/dev/null); "
                         "[ -n \"$sids\" ] && docker service rm $sids; "
                         "ids=$(docker ps --all --quiet --filter " + label + ") && [ -n \"$ids\" ] && docker rm --force $ids";
    pid_t pid = ::fork();
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
        ::execlp("sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    if (pid > 0) ::waitpid(pid, nullptr, 0);
}

[[noreturn]] void guard(int pipe_read, pid_t harness, const std::filesystem::path& temp_dir) {
    ::prctl(PR_SET_NAME, "draincheck-guard");
    // Out of the terminal's process group and deaf to the signals meant for draincheck itself:
    // the guard has to outlive it.
    ::setpgid(0, 0);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(s, SIG_IGN);
    for (int fd = 0; fd < 1024; ++fd)
        if (fd != pipe_read) ::close(fd);
    char byte;
    while (::read(pipe_read, &byte, 1) != 0) {}   // returns 0 once draincheck is gone
    const std::string marker = run_marker(harness);
    // A process may fork while we kill; go round until a pass finds nobody (bounded).
    for (int round = 0; round < 50 && kill_marked(marker) > 0; ++round) ::usleep(10'000);
    remove_run_containers(harness, temp_dir);
    remove_run_files(temp_dir, temp_prefix(harness));
    ::_exit(0);
}

}  // namespace

std::string run_temp_prefix() { return temp_prefix(::getpid()); }

void note_container_started() {
    std::error_code ec;
    std::filesystem::path note = std::filesystem::temp_directory_path(ec) / (run_temp_prefix() + kContainersNote);
    if (!ec && !std::filesystem::exists(note, ec)) std::ofstream(note).put('\n');
}

int kill_marked_processes() { return kill_marked(run_marker(::getpid())); }

void start_orphan_guard() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;   // no guard; PDEATHSIG and group kills still apply
    pid_t harness = ::getpid();
    std::error_code ec;
    const std::filesystem::path temp_dir = std::filesystem::temp_directory_path(ec);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[1]);
        guard(fds[0], harness, temp_dir);
    }
    ::close(fds[0]);
    if (pid < 0) ::close(fds[1]);
    // fds[1] stays open, unused, for draincheck's whole life; O_CLOEXEC keeps it out of targets,
    // so only draincheck's own end closes the pipe.
}

}  // namespace draincheck
