// The process tree as /proc shows it, read from real processes: the tree's order, command lines, and
// which signals each process catches or ignores. Every process started here runs in a process group
// of its own and is killed and reaped at the end (the test is their subreaper, so grandchildren
// orphaned on the way are reaped too). Nothing waits a fixed time: each test polls /proc for the
// state it expects, up to a bound.
#include "supervisor/process_tree.h"

#include <gtest/gtest.h>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <functional>
#include <thread>

using namespace draincheck;
using namespace std::chrono_literals;

namespace {

// Polls `fact` until it holds, for up to 10 s.
bool eventually(const std::function<bool()>& fact) {
    auto limit = std::chrono::steady_clock::now() + 10s;
    while (!fact()) {
        if (std::chrono::steady_clock::now() > limit) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

// A process started with execv in a process group of its own; killed with its group and reaped,
// with every orphan of the group, when it goes out of scope.
class Started {
public:
    explicit Started(std::vector<std::string> argv) {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::setpgid(pid_, pid_);   // either side may run first
    }
    ~Started() {
        ::kill(-pid_, SIGKILL);
        if (!reaped_) ::waitpid(pid_, nullptr, 0);
        while (::waitpid(-pid_, nullptr, 0) > 0) {}
    }
    pid_t pid() const { return pid_; }
    // The exit status of the process itself, once it has ended.
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        return status;
    }

private:
    pid_t pid_ = 0;
    bool reaped_ = false;
};

// The tree, once `ready` holds for it (a shell has forked its children and they have exec'd: until
// then a child shows the shell's name and handlers).
std::vector<ProcessInfo> tree_when(pid_t root, const std::function<bool(const std::vector<ProcessInfo>&)>& ready) {
    std::vector<ProcessInfo> tree;
    eventually([&] {
        tree = read_process_tree(root);
        return ready(tree);
    });
    return tree;
}

// `size` processes, `sleeps` of them already running sleep: named so, and with its arguments in place
// (during an exec the new name can show before the new command line does).
auto sleeping(size_t size, size_t sleeps) {
    return [=](const std::vector<ProcessInfo>& tree) {
        return tree.size() == size && size_t(std::count_if(tree.begin(), tree.end(), [](auto& p) {
                   return p.comm == "sleep" && !p.argv.empty() && p.argv[0] == "/bin/sleep";
               })) == sleeps;
    };
}

}  // namespace

TEST(ProcessTree, AShellThatIgnoresTermAndItsChildThatInheritsIt) {
    Started sh({"/bin/sh", "-c", "trap '' TERM; /bin/sleep 30 & wait"});
    auto tree = tree_when(sh.pid(), sleeping(2, 1));
    ASSERT_EQ(tree.size(), 2u);
    EXPECT_EQ(tree[0].pid, sh.pid());
    EXPECT_EQ(tree[0].ppid, ::getpid());
    EXPECT_EQ(tree[0].argv, (std::vector<std::string>{"/bin/sh", "-c", "trap '' TERM; /bin/sleep 30 & wait"}));
    EXPECT_TRUE(tree[0].ignores(SIGTERM));
    EXPECT_FALSE(tree[0].catches(SIGTERM));
    EXPECT_EQ(tree[1].ppid, sh.pid());
    EXPECT_EQ(tree[1].comm, "sleep");
    EXPECT_EQ(command_line(tree[1]), "/bin/sleep 30");
    EXPECT_TRUE(tree[1].ignores(SIGTERM));   // SIG_IGN survives fork and exec
    EXPECT_FALSE(tree[1].ignores(SIGUSR1));
    EXPECT_EQ(tree[1].ns_pid, tree[1].pid);   // no pid namespace of its own here

    ::kill(sh.pid(), SIGTERM);   // ignored: still there
    EXPECT_TRUE(is_alive(sh.pid()));
}

TEST(ProcessTree, ABashTrapIsACaughtSignalItsChildDoesNotInherit) {
    Started bash({"/bin/bash", "-c", "trap 'exit 0' TERM; /bin/sleep 30 & wait"});
    auto tree = tree_when(bash.pid(), [](auto& t) { return sleeping(2, 1)(t) && t[0].catches(SIGTERM); });
    ASSERT_EQ(tree.size(), 2u);
    EXPECT_EQ(tree[0].comm, "bash");
    EXPECT_TRUE(tree[0].catches(SIGTERM));
    EXPECT_FALSE(tree[0].ignores(SIGTERM));
    EXPECT_FALSE(tree[0].catches(SIGUSR2));
    EXPECT_EQ(tree[1].comm, "sleep");
    EXPECT_FALSE(tree[1].catches(SIGTERM));   // exec resets handlers to the default
    EXPECT_FALSE(tree[1].ignores(SIGTERM));

    ::kill(bash.pid(), SIGTERM);   // the trap runs: `exit 0`
    int status = bash.wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ProcessTree, RootFirstThenBreadthFirst) {
    Started sh({"/bin/sh", "-c", "/bin/sh -c '/bin/sleep 30 & /bin/sleep 31 & wait' & /bin/sleep 32 & wait"});
    auto tree = tree_when(sh.pid(), sleeping(5, 3));
    ASSERT_EQ(tree.size(), 5u);
    EXPECT_EQ(tree[0].pid, sh.pid());
    // The root's two children, by pid, then the inner shell's two.
    EXPECT_EQ(tree[1].ppid, sh.pid());
    EXPECT_EQ(tree[2].ppid, sh.pid());
    EXPECT_LT(tree[1].pid, tree[2].pid);
    const ProcessInfo& inner = tree[1].comm == "sh" ? tree[1] : tree[2];
    EXPECT_EQ(command_line(inner), "/bin/sh -c /bin/sleep 30 & /bin/sleep 31 & wait");
    EXPECT_EQ(tree[3].ppid, inner.pid);
    EXPECT_EQ(tree[4].ppid, inner.pid);
    EXPECT_EQ(command_line(tree[3]) + "|" + command_line(tree[4]), "/bin/sleep 30|/bin/sleep 31");
}

TEST(ProcessTree, ArgumentsWithSpacesStaySeparate) {
    Started sh({"/bin/sh", "-c", "/bin/sleep 30 & wait", "my name", "", "last"});
    auto tree = tree_when(sh.pid(), sleeping(2, 1));
    ASSERT_FALSE(tree.empty());
    EXPECT_EQ(tree[0].argv, (std::vector<std::string>{"/bin/sh", "-c", "/bin/sleep 30 & wait", "my name", "", "last"}));
}

TEST(ProcessTree, AZombieOrAGoneProcessHasNoTree) {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ASSERT_TRUE(eventually([&] { return !is_alive(child); }));
    EXPECT_EQ(::access(("/proc/" + std::to_string(child)).c_str(), F_OK), 0);   // a zombie, not gone
    EXPECT_TRUE(read_process_tree(child).empty());
    ::waitpid(child, nullptr, 0);
    EXPECT_FALSE(is_alive(child));
    EXPECT_TRUE(read_process_tree(child).empty());
    EXPECT_FALSE(is_alive(0));
    EXPECT_FALSE(is_alive(-1));
}

TEST(ProcessTree, ThisProcessIsAlive) {
    EXPECT_TRUE(is_alive(::getpid()));
    auto tree = read_process_tree(::getpid());
    ASSERT_FALSE(tree.empty());
    EXPECT_EQ(tree[0].pid, ::getpid());
    EXPECT_FALSE(tree[0].argv.empty());
}

TEST(ProcessTree, SignalBitsAreOneBelowTheSignalNumber) {
    ProcessInfo p;
    p.caught = 1ull << (SIGTERM - 1);
    p.ignored = 1ull << 63;   // signal 64
    EXPECT_TRUE(p.catches(SIGTERM));
    EXPECT_FALSE(p.catches(SIGTERM - 1));
    EXPECT_FALSE(p.catches(SIGTERM + 1));
    EXPECT_TRUE(p.ignores(64));
    EXPECT_FALSE(p.ignores(0));
    EXPECT_FALSE(p.ignores(65));
}

TEST(ProcessTree, CommandLineFallsBackToComm) {
    ProcessInfo p;
    p.comm = "kworker/0:1";
    EXPECT_EQ(command_line(p), "kworker/0:1");
    p.argv = {"/bin/sh", "-c", "node app.js"};
    EXPECT_EQ(command_line(p), "/bin/sh -c node app.js");
}
