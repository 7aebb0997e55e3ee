#include "verifier/shutdown_cause.h"

#include "common/signals.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace draincheck {
namespace {

// Every text a rule writes, in one place. {who} reads "node (pid 7, host pid 1207)"; {sig} "SIGTERM";
// {t} "0.60 s" or "10.0 s".
namespace text {
constexpr char shell_form[] =
    "{role} is `{command}` (shell-form CMD): it does not pass {sig} on; {who} {fate} — use the exec form "
    "(CMD [\"{program}\", …]) or `exec` in the script";
constexpr char npm[] =
    "{role} is npm: it {ended} and {who} was killed with it — run {program} directly (exec form: CMD [\"{program}\", …])";
constexpr char wrong_signal[] =
    "the stop signal is {sig}{source}, but {who} handles {handled}, not {sig}{consequence} — stop it with {handled} or "
    "handle {sig}";
constexpr char pid1_no_handler[] =
    "PID 1 is {name} (host pid {pid}) with no {sig} handler: the kernel ignores the signal for PID 1 (it was killed {t} "
    "later) — add a handler that drains, or run with init = true";
constexpr char pid1_one_shot[] =
    "PID 1 is {name} (host pid {pid}): it caught {sig} once and then no longer did — a handler that re-raises the signal, "
    "which the kernel ignores for PID 1{node_note}; it was killed {t} later — add a handler that drains, or run with "
    "init = true";
constexpr char died_without_handler[] =
    "{who} has no {sig} handler: {via}{name} died of the signal {t} after it, without draining — add a handler that drains";
constexpr char died_reraised[] =
    "{who} catches {sig} and re-raised it: it died of the signal {t} after it{node_note} — exit with code 0 once drained";
constexpr char ended_128_caught[] =
    "{who} catches {sig}, yet the container ended with {code} (128 + {sig}) {t} after {init} passed the signal on: its "
    "handler re-raised it or exited with that code{node_note} — exit with code 0 once drained";
constexpr char ignored[] =
    "{who} ignores {sig} (SIG_IGN, which a process inherits from its parent) and was still running when it was killed "
    "{t} later{others} — handle {sig}, or reset it to the default";
constexpr char outlasted[] =
    "{who} handles {sig} but was still running {t} later, when it was killed — the drain outlasted the grace, or "
    "something kept the process from exiting after it";

// Fragments.
constexpr char who_plain[] = "{comm} (pid {pid})";
constexpr char who_namespaced[] = "{comm} (pid {ns_pid}, host pid {pid})";
constexpr char fate_killed[] = "{handling} {but} was still running when it was killed {t} later";
constexpr char fate_never_got[] = "{handling} {but} never got it";
constexpr char via_init[] = "{init} passed {sig} on and ";
constexpr char source[] = " ({source})";
constexpr char killed_at_grace[] = ": it was killed at the grace, {t} later";
constexpr char died_of_it[] = ": it died of it {t} later";
constexpr char ended_code[] = "exited {code} {t} after {sig}";
constexpr char ended_signal[] = "died of {signal} {t} after {sig}";
constexpr char ended_killed[] = "was killed {t} after {sig}";
constexpr char init_child_role[] = "{init}'s child";
constexpr char others_ignoring[] = " (and {n} more of its processes that ignore it)";
constexpr char node_note[] = " (node's own handler does this when the program has no {sig} listener)";
}  // namespace text

constexpr std::array<std::string_view, 5> kShells = {"sh", "dash", "bash", "ash", "busybox"};
constexpr std::array<std::string_view, 4> kInits = {"tini", "docker-init", "dumb-init", "catatonit"};

std::string sig(int signo) {
    std::string name = signal_name(signo);
    return name.starts_with("SIG") ? name : "SIG" + name;
}

std::string seconds(int64_t ns) {
    double s = double(std::max<int64_t>(ns, 0)) / 1e9;
    return s < 9.995 ? fmt::format("{:.2f} s", s) : fmt::format("{:.1f} s", s);
}

// The program's own name in an argument: "/usr/bin/npm" and "npm start" (a rewritten title) give "npm".
std::string_view program_of(std::string_view arg) {
    arg = arg.substr(0, arg.find(' '));
    auto slash = arg.rfind('/');
    return slash == std::string_view::npos ? arg : arg.substr(slash + 1);
}

bool named_one_of(const ProcessInfo& p, const auto& names) {
    auto in = [&](std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    return in(program_of(p.comm)) || (!p.argv.empty() && in(program_of(p.argv[0])));
}

bool is_init(const ProcessInfo& p) { return named_one_of(p, kInits); }

bool is_shell(const ProcessInfo& p) {
    return named_one_of(p, kShells) && std::find(p.argv.begin(), p.argv.end(), "-c") != p.argv.end();
}

bool is_npm(const ProcessInfo& p) {
    for (size_t i = 0; i < 2 && i < p.argv.size(); ++i)
        if (auto name = program_of(p.argv[i]); name == "npm" || name == "npm-cli.js") return true;
    return program_of(p.comm) == "npm";
}

// What the rules read, worked out once.
struct Scene {
    const StopFacts& facts;
    std::string sig;
    const ProcessInfo* pid1 = nullptr;    // tree[0] in a container
    const ProcessInfo* init = nullptr;    // PID 1 when it is an init
    const ProcessInfo* entry = nullptr;   // what the signal reaches: tree[0], or the init's child

    explicit Scene(const StopFacts& f) : facts(f), sig(draincheck::sig(f.stop_signal)) {
        if (f.tree_at_signal.empty()) return;
        const ProcessInfo& root = f.tree_at_signal[0];
        if (f.in_container) pid1 = &root;
        if (pid1 && is_init(root)) {
            init = pid1;
            entry = first_child(root);
        } else {
            entry = &root;
        }
    }

    const ProcessInfo* first_child(const ProcessInfo& parent) const {
        for (const auto& p : facts.tree_at_signal)
            if (p.ppid == parent.pid && p.pid != parent.pid) return &p;
        return nullptr;
    }
    bool descends_from(const ProcessInfo& p, const ProcessInfo& ancestor) const {
        const ProcessInfo* at = &p;
        for (size_t steps = 0; at && steps < facts.tree_at_signal.size(); ++steps) {
            if (at->ppid == ancestor.pid) return true;
            const ProcessInfo* parent = nullptr;
            for (const auto& q : facts.tree_at_signal)
                if (q.pid == at->ppid) parent = &q;
            at = parent;
        }
        return false;
    }
    // Its reading when the harness sent SIGKILL; nullptr if it was not alive then (or not read).
    const ProcessInfo* at_kill(const ProcessInfo& p) const {
        for (const auto& q : facts.alive_at_kill)
            if (q.pid == p.pid) return &q;
        return nullptr;
    }
    bool forced() const { return facts.exit.forced; }
    std::string after() const { return seconds(facts.exit.at_ns - facts.signal_ns); }
    // The target ended by the stop signal's default action: a plain process's own death, or, in a
    // container, the init's exit code 128 + n for its child's (PID 1 itself cannot die of it).
    bool died_of_signal() const {
        const ExitInfo& e = facts.exit;
        if (!e.exited || e.forced) return false;
        if (!facts.in_container) return e.signal == facts.stop_signal;
        return init && (e.signal == facts.stop_signal || e.code == 128 + facts.stop_signal);
    }
    std::string node_note(const ProcessInfo& p) const {
        bool reraises = p.comm == "node" && (facts.stop_signal == SIGTERM || facts.stop_signal == SIGINT);
        return reraises ? fmt::format(text::node_note, fmt::arg("sig", sig)) : "";
    }
    std::string role() const {
        return init ? fmt::format(text::init_child_role, fmt::arg("init", init->comm)) : "PID 1";
    }
};

std::string who(const ProcessInfo& p) {
    if (p.ns_pid && p.ns_pid != p.pid)
        return fmt::format(text::who_namespaced, fmt::arg("comm", p.comm), fmt::arg("ns_pid", p.ns_pid), fmt::arg("pid", p.pid));
    return fmt::format(text::who_plain, fmt::arg("comm", p.comm), fmt::arg("pid", p.pid));
}

using Rule = std::optional<std::string> (*)(const Scene&);

// a. The process the signal reaches is a shell running a command line (`sh -c`) with no handler for
// the signal: it does not pass it on (as PID 1 the kernel drops it; under an init the shell dies of
// it), and the program it started never hears it.
std::optional<std::string> shell_form(const Scene& s) {
    if (!s.facts.in_container || !s.entry || !is_shell(*s.entry) || s.entry->catches(s.facts.stop_signal)) return {};
    const ProcessInfo* child = nullptr;
    for (const auto& p : s.facts.tree_at_signal)
        if (p.ppid == s.entry->pid && (!child || (s.at_kill(p) && !s.at_kill(*child)))) child = &p;
    if (!child) return {};
    const int signo = s.facts.stop_signal;
    std::string state = child->catches(signo)   ? "handles " + s.sig
                        : child->ignores(signo) ? "ignores " + s.sig
                                                : "has no " + s.sig + " handler";
    std::string but = child->catches(signo) ? "but" : "and";
    std::string fate = s.at_kill(*child)
        ? fmt::format(text::fate_killed, fmt::arg("handling", state), fmt::arg("but", but), fmt::arg("t", s.after()))
        : fmt::format(text::fate_never_got, fmt::arg("handling", state), fmt::arg("but", but));
    return fmt::format(text::shell_form, fmt::arg("role", s.role()), fmt::arg("command", command_line(*s.entry)),
                       fmt::arg("sig", s.sig), fmt::arg("who", who(*child)), fmt::arg("fate", fate),
                       fmt::arg("program", child->comm));
}

// b. npm runs the program through `sh -c`: it passes the signal to the shell, which dies without
// passing it on; npm then exits, and the kernel kills what is left of the container with it.
std::optional<std::string> npm_in_between(const Scene& s) {
    if (!s.facts.in_container || !s.entry || !is_npm(*s.entry)) return {};
    const ProcessInfo* app = nullptr;
    for (const auto& p : s.facts.tree_at_signal)
        if (!app && s.descends_from(p, *s.entry) && !is_npm(p) && !is_shell(p)) app = &p;
    if (!app) return {};
    const ExitInfo& e = s.facts.exit;
    std::string ended =
        e.forced   ? fmt::format(text::ended_killed, fmt::arg("t", s.after()), fmt::arg("sig", s.sig))
        : e.signal ? fmt::format(text::ended_signal, fmt::arg("signal", draincheck::sig(*e.signal)), fmt::arg("t", s.after()),
                                 fmt::arg("sig", s.sig))
                   : fmt::format(text::ended_code, fmt::arg("code", e.code.value_or(0)), fmt::arg("t", s.after()),
                                 fmt::arg("sig", s.sig));
    return fmt::format(text::npm, fmt::arg("role", s.role()), fmt::arg("ended", ended), fmt::arg("who", who(*app)),
                       fmt::arg("program", app->comm));
}

// c. The program handles SIGTERM or SIGINT, but the stop signal is another one, which it neither
// handles nor ignores. Not said of a shell: it catches SIGINT for its own bookkeeping.
std::optional<std::string> wrong_signal(const Scene& s) {
    const int signo = s.facts.stop_signal;
    if (!s.entry || is_shell(*s.entry) || s.entry->catches(signo) || s.entry->ignores(signo)) return {};
    std::string handled;
    for (int other : {SIGTERM, SIGINT})
        if (handled.empty() && other != signo && s.entry->catches(other)) handled = sig(other);
    if (handled.empty()) return {};
    std::string consequence = s.forced()           ? fmt::format(text::killed_at_grace, fmt::arg("t", s.after()))
                              : s.died_of_signal() ? fmt::format(text::died_of_it, fmt::arg("t", s.after()))
                                                   : "";
    std::string from = s.facts.stop_signal_source.empty()
        ? "" : fmt::format(text::source, fmt::arg("source", s.facts.stop_signal_source));
    return fmt::format(text::wrong_signal, fmt::arg("sig", s.sig), fmt::arg("source", from), fmt::arg("who", who(*s.entry)),
                       fmt::arg("handled", handled), fmt::arg("consequence", consequence));
}

// d. PID 1 of a container, no init: the kernel drops a signal PID 1 has no handler for — when it
// never had one, and when its handler was a one-shot that reset itself and re-raised the signal
// (seen as a handler at the signal and none at the kill).
std::optional<std::string> pid1_drops_it(const Scene& s) {
    const int signo = s.facts.stop_signal;
    if (!s.pid1 || s.init || !s.forced() || s.pid1->ignores(signo)) return {};
    const ProcessInfo& p = *s.pid1;
    if (!p.catches(signo))
        return fmt::format(text::pid1_no_handler, fmt::arg("name", p.comm), fmt::arg("pid", p.pid), fmt::arg("sig", s.sig),
                           fmt::arg("t", s.after()));
    const ProcessInfo* later = s.at_kill(p);
    if (!later || later->catches(signo)) return {};
    return fmt::format(text::pid1_one_shot, fmt::arg("name", p.comm), fmt::arg("pid", p.pid), fmt::arg("sig", s.sig),
                       fmt::arg("node_note", s.node_note(p)), fmt::arg("t", s.after()));
}

// e, f. The program died of the stop signal: it has no handler, or its handler re-raised it. In a
// container only the init's exit code tells, and a program that handles the signal may have chosen
// that code itself.
std::optional<std::string> died_of_it(const Scene& s) {
    if (!s.entry || !s.died_of_signal()) return {};
    const ProcessInfo& p = *s.entry;
    const int signo = s.facts.stop_signal;
    if (!p.catches(signo)) {
        std::string via = s.init ? fmt::format(text::via_init, fmt::arg("init", s.init->comm), fmt::arg("sig", s.sig)) : "";
        return fmt::format(text::died_without_handler, fmt::arg("who", who(p)), fmt::arg("sig", s.sig), fmt::arg("via", via),
                           fmt::arg("name", s.init ? p.comm : "it"), fmt::arg("t", s.after()));
    }
    if (!s.facts.in_container)
        return fmt::format(text::died_reraised, fmt::arg("who", who(p)), fmt::arg("sig", s.sig), fmt::arg("t", s.after()),
                           fmt::arg("node_note", s.node_note(p)));
    return fmt::format(text::ended_128_caught, fmt::arg("who", who(p)), fmt::arg("sig", s.sig),
                       fmt::arg("code", 128 + signo), fmt::arg("t", s.after()), fmt::arg("init", s.init->comm),
                       fmt::arg("node_note", s.node_note(p)));
}

// g. A process that ignores the stop signal (SIG_IGN) and was still running at the kill.
std::optional<std::string> ignored_it(const Scene& s) {
    const int signo = s.facts.stop_signal;
    std::vector<const ProcessInfo*> ignoring;
    for (const auto& p : s.facts.tree_at_signal)
        if (const ProcessInfo* later = s.at_kill(p); later && (p.ignores(signo) || later->ignores(signo)))
            ignoring.push_back(&p);
    if (ignoring.empty()) return {};
    std::string others = ignoring.size() > 1 ? fmt::format(text::others_ignoring, fmt::arg("n", ignoring.size() - 1)) : "";
    return fmt::format(text::ignored, fmt::arg("who", who(*ignoring[0])), fmt::arg("sig", s.sig), fmt::arg("t", s.after()),
                       fmt::arg("others", others));
}

// h. The program handles the stop signal and was still running when it was killed: the drain, or what
// came after it, took longer than the grace.
std::optional<std::string> outlasted_grace(const Scene& s) {
    if (!s.forced() || !s.entry) return {};
    const int signo = s.facts.stop_signal;
    const ProcessInfo* named = nullptr;
    if (s.facts.alive_at_kill.empty()) {
        // Without a reading at the kill only a plain process can be named: a PID 1 whose one-shot
        // handler reset itself (rule d) would look the same.
        if (!s.facts.in_container && s.entry->catches(signo)) named = s.entry;
    } else {
        for (const auto& p : s.facts.tree_at_signal) {
            const ProcessInfo* later = s.at_kill(p);
            if (!later || !p.catches(signo) || !later->catches(signo)) continue;
            if (!named || &p == s.entry) named = &p;
        }
    }
    if (!named) return {};
    return fmt::format(text::outlasted, fmt::arg("who", who(*named)), fmt::arg("sig", s.sig), fmt::arg("t", s.after()));
}

bool clean(const ExitInfo& e) { return e.exited && !e.forced && !e.signal && e.code == 0; }

}  // namespace

std::optional<std::string> shutdown_cause(const StopFacts& facts) {
    if (clean(facts.exit) || facts.tree_at_signal.empty()) return std::nullopt;
    if (facts.stop_signal == SIGKILL || facts.stop_signal == SIGSTOP) return std::nullopt;   // nothing can handle them
    static const Rule rules[] = {shell_form, npm_in_between, wrong_signal, pid1_drops_it, died_of_it, ignored_it,
                                 outlasted_grace};
    const Scene scene(facts);
    for (const Rule& rule : rules)
        if (auto cause = rule(scene)) return cause;
    return std::nullopt;
}

}  // namespace draincheck
