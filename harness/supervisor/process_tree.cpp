#include "supervisor/process_tree.h"

#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

namespace draincheck {
namespace {

std::string proc_path(pid_t pid, const char* file) { return "/proc/" + std::to_string(pid) + "/" + file; }

// The whole file (cmdline holds NUL bytes); nullopt if it cannot be opened (the process is gone).
std::optional<std::string> read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct StatLine {
    char state = '?';
    pid_t ppid = 0;
};

// /proc/PID/stat: "pid (comm) state ppid ...", where comm may itself hold spaces and ')'.
std::optional<StatLine> read_stat(pid_t pid) {
    auto text = read_whole(proc_path(pid, "stat"));
    if (!text) return std::nullopt;
    auto paren = text->rfind(')');
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream rest(text->substr(paren + 1));
    StatLine s;
    if (!(rest >> s.state >> s.ppid)) return std::nullopt;
    return s;
}

bool is_zombie(const StatLine& s) { return s.state == 'Z' || s.state == 'X'; }

// Every live process's parent, from one pass over /proc.
std::multimap<pid_t, pid_t> children_by_parent() {
    std::multimap<pid_t, pid_t> children;
    DIR* proc = ::opendir("/proc");
    if (!proc) return children;
    while (dirent* entry = ::readdir(proc)) {
        pid_t pid = 0;
        const char* name = entry->d_name;
        const char* end = name + std::char_traits<char>::length(name);
        auto [last, ec] = std::from_chars(name, end, pid);
        if (ec != std::errc{} || last != end) continue;
        if (auto s = read_stat(pid); s && !is_zombie(*s)) children.insert({s->ppid, pid});
    }
    ::closedir(proc);
    return children;
}

uint64_t hex_mask(const std::string& value) {
    uint64_t mask = 0;
    std::from_chars(value.data(), value.data() + value.size(), mask, 16);
    return mask;
}

// NSpid lists the pid in each namespace, outermost first: the last is the process's own.
pid_t innermost_pid(const std::string& value) {
    std::istringstream in(value);
    pid_t pid = 0;
    for (pid_t p; in >> p;) pid = p;
    return pid;
}

std::vector<std::string> split_cmdline(const std::string& raw) {
    std::vector<std::string> argv;
    std::string arg;
    for (char c : raw) {
        if (c) arg += c;
        else argv.push_back(std::exchange(arg, {}));
    }
    if (!arg.empty()) argv.push_back(arg);
    // A program that rewrote its title leaves the rest of the area NUL-filled.
    while (!argv.empty() && argv.back().empty()) argv.pop_back();
    return argv;
}

std::optional<ProcessInfo> read_process(pid_t pid) {
    auto stat = read_stat(pid);
    auto status = read_whole(proc_path(pid, "status"));
    auto comm = read_whole(proc_path(pid, "comm"));
    auto cmdline = read_whole(proc_path(pid, "cmdline"));
    if (!stat || is_zombie(*stat) || !status || !comm || !cmdline) return std::nullopt;
    ProcessInfo p;
    p.pid = pid;
    p.ppid = stat->ppid;
    p.comm = comm->substr(0, comm->find('\n'));
    p.argv = split_cmdline(*cmdline);
    p.ns_pid = pid;
    std::istringstream lines(*status);
    for (std::string line; std::getline(lines, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon), value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        if (key == "SigCgt") p.caught = hex_mask(value);
        else if (key == "SigIgn") p.ignored = hex_mask(value);
        else if (key == "SigBlk") p.blocked = hex_mask(value);
        else if (key == "NSpid") p.ns_pid = innermost_pid(value);
    }
    return p;
}

bool bit_for(uint64_t mask, int signo) { return signo >= 1 && signo <= 64 && (mask >> (signo - 1)) & 1; }

}  // namespace

bool ProcessInfo::catches(int signo) const { return bit_for(caught, signo); }
bool ProcessInfo::ignores(int signo) const { return bit_for(ignored, signo); }

std::vector<ProcessInfo> read_process_tree(pid_t root) {
    std::vector<ProcessInfo> tree;
    if (!is_alive(root)) return tree;
    const auto children = children_by_parent();
    std::deque<pid_t> queue{root};
    while (!queue.empty()) {
        pid_t pid = queue.front();
        queue.pop_front();
        auto p = read_process(pid);
        if (!p) {
            if (pid == root) return {};
            continue;
        }
        tree.push_back(std::move(*p));
        auto [first, last] = children.equal_range(pid);
        std::vector<pid_t> kids;
        for (auto it = first; it != last; ++it) kids.push_back(it->second);
        std::sort(kids.begin(), kids.end());
        queue.insert(queue.end(), kids.begin(), kids.end());
    }
    return tree;
}

std::string command_line(const ProcessInfo& p) {
    if (p.argv.empty()) return p.comm;
    std::string line = p.argv[0];
    for (size_t i = 1; i < p.argv.size(); ++i) line += " " + p.argv[i];
    return line;
}

bool is_alive(pid_t pid) {
    if (pid <= 0) return false;
    auto s = read_stat(pid);
    return s && !is_zombie(*s);
}

}  // namespace draincheck
