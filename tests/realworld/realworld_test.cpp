// Real HTTP servers nobody here wrote, installed from Debian and npm packages, each stopped with a
// signal its documentation names, under the real draincheck CLI: the verdict must be the one a plain
// client sees. Each case's expected verdict was first established without draincheck, with curl
// (tests/realworld/plain_client_check.sh, run from tests/realworld: start the server, wait 1 s, one
// slow request in flight, the signal 0.3 s into it, one new connection 0.1 s after the signal, then
// how the server ended); the comment above each case gives the command and what it printed. Only the
// assertions that evidence speaks to are held here; the scenario files say why each server behaves
// as it does.
//
// A server that is not installed fails its case with the package to install (./setup.sh installs
// them all): a skip would hide a broken install. A case where draincheck contradicts the plain
// client is marked with GTEST_SKIP naming the disagreement, so it stays visible in every run.
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <unistd.h>

using namespace draincheck::testing;
namespace fs = std::filesystem;

namespace {

const fs::path kRealworld = fs::path(DRAINCHECK_SOURCE_DIR) / "tests" / "realworld";

// Something a case needs: a program (looked up in PATH unless it has a '/') or a file under
// tests/realworld, and what installs it.
struct Need {
    std::string program;
    std::string file;
    std::string install;
};

Need program(std::string name, std::string install) { return {std::move(name), "", std::move(install)}; }
Need file(std::string path, std::string install) { return {"", std::move(path), std::move(install)}; }

bool present(const Need& need) {
    if (!need.file.empty()) return fs::exists(kRealworld / need.file);
    if (need.program.find('/') != std::string::npos) return ::access(need.program.c_str(), X_OK) == 0;
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');)
        if (!dir.empty() && ::access((fs::path(dir) / need.program).c_str(), X_OK) == 0) return true;
    return false;
}

struct Case {
    std::string scenario;                 // tests/realworld/scenarios/<scenario>.toml
    std::vector<Need> needs;
    int exit_code;                        // draincheck's: 0 PASS, 1 FAIL
    std::set<std::string> must_fail;
    std::set<std::string> must_pass;
    std::string disagreement = {};        // set: draincheck contradicts the plain client (see above)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.scenario; }

// Sets an environment variable for the scope of one run.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }
private:
    const char* name_;
    std::optional<std::string> old_;
};

// The failed assertions with their evidence requests as recorded (connect, write and end times), for
// a failure's message.
std::string failed_evidence(const CliRun& run) {
    std::string out;
    if (run.report.is_null()) return out;
    for (const auto& a : run.report["assertions"])
        if (!a["passed"].get<bool>()) out += "\n" + a.dump();
    return out;
}

class RealServer : public ::testing::TestWithParam<Case> {};

TEST_P(RealServer, GivesTheVerdictAPlainClientSees) {
    const Case& c = GetParam();
    if (!c.disagreement.empty()) GTEST_SKIP() << "draincheck disagrees with the plain client: " << c.disagreement;
    for (const Need& need : c.needs) {
        if (!present(need)) {
            FAIL() << (need.file.empty() ? need.program : need.file) << " is not installed: " << need.install
                   << " (./setup.sh installs it)";
        }
    }

    TempDir dir;
    // What a server writes under $TMPDIR (nginx's configuration) goes with the test's directory.
    ScopedEnv tmpdir("TMPDIR", dir.path().string());
    auto scenario = kRealworld / "scenarios" / (c.scenario + ".toml");
    auto json = dir.path() / "report.json";
    CliRun run = run_cli({"run", scenario.string(), "--json", json.string()}, json);

    ASSERT_EQ(run.exit_code, c.exit_code) << run.output << failed_evidence(run);
    ASSERT_FALSE(run.report.is_null()) << run.output;
    EXPECT_EQ(run.report["schema"], "draincheck/1");
    auto failed = run.failed_assertions();
    auto passed = run.passed_assertions();
    for (const auto& name : c.must_fail) EXPECT_TRUE(failed.count(name)) << name << " should fail\n" << run.output;
    for (const auto& name : c.must_pass)
        EXPECT_TRUE(passed.count(name)) << name << " should hold\n" << run.output << failed_evidence(run);
    if (c.exit_code == 0) {
        EXPECT_TRUE(failed.empty()) << run.output;
    }
    for (const auto& a : run.report["assertions"]) {
        if (!a["passed"].get<bool>()) {
            EXPECT_FALSE(a["reason"].get<std::string>().empty()) << a.dump();
        }
    }
    // The signal caught requests in flight and new connections followed it: the run proves something.
    EXPECT_EQ(run.report["verdict"]["warnings"].size(), 0u) << run.report["verdict"]["warnings"].dump();
}

const Need kNginx = program("nginx", "Debian package \"nginx\"");
const Need kLighttpd = program("lighttpd", "Debian package \"lighttpd\"");
const Need kPython = program("/usr/bin/python3", "Debian package \"python3\"");
const Need kGunicorn = program("gunicorn", "Debian package \"gunicorn\"");
const Need kNode = program("node", "Debian package \"nodejs\"");
const Need kExpress = file("apps/node/node_modules/express/package.json",
                           "npm package \"express\" (npm ci --prefix tests/realworld/apps/node)");
const Need kPuma = program("puma", "Debian package \"puma\"");
const Need kStarman = program("starman", "Debian package \"starman\"");

INSTANTIATE_TEST_SUITE_P(
    Corpus, RealServer,
    ::testing::Values(
        // nginx 1.22.1, SIGQUIT (graceful shutdown). /slow is a 40 000-byte download at 50 000 B/s.
        //   $ plain_client_check.sh QUIT 18091 /slow apps/nginx -- ./run.sh {port}
        //   kill -QUIT (0.3 s into the slow request)
        //   curl: (7) Failed to connect to 127.0.0.1 port 18091 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000269s
        //   in flight: 200, 40000 bytes, 0.668144s
        //   server: exit code 0
        Case{"nginx-quit", {kNginx}, 0, {},
             {"dropped_inflight", "exit_code", "exit_within", "refused_after_close", "ready_fails_during_drain"}},
        // nginx 1.22.1, SIGTERM (fast shutdown).
        //   $ plain_client_check.sh TERM 18091 /slow apps/nginx -- ./run.sh {port}
        //   kill -TERM (0.3 s into the slow request)
        //   curl: (18) transfer closed with 7232 bytes remaining to read
        //   in flight: 200, 32768 bytes, 0.280350s
        //   curl: (7) Failed to connect to 127.0.0.1 port 18091 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000263s
        //   server: exit code 0
        // (A fast stop closes the listener only as the process exits, tens of milliseconds later on a
        // busy machine: a connection made in between is accepted by the kernel and reset. The plain
        // client connects later than that: refused_after_close is not held either way.)
        Case{"nginx-term", {kNginx}, 1, {"dropped_inflight"}, {"exit_code", "exit_within"}},
        // lighttpd 1.4.69, SIGINT (graceful shutdown). /slow.txt is 20 000 bytes at 8 KiB/s (2 to 3 s
        // unsignalled); the graceful stop lifts the limit, so it completes right at the signal.
        //   $ plain_client_check.sh INT 18092 /slow.txt apps/lighttpd -- lighttpd -D -f lighttpd.conf
        //   kill -INT (0.3 s into the slow request)
        //   in flight: 200, 20000 bytes, 0.289557s
        //   curl: (7) Failed to connect to 127.0.0.1 port 18092 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000284s
        //   server: exit code 0
        Case{"lighttpd-int", {kLighttpd}, 0, {},
             {"dropped_inflight", "exit_code", "exit_within", "refused_after_close", "ready_fails_during_drain"}},
        // lighttpd 1.4.69, SIGTERM (immediate stop): the download is cut and lighttpd exits 1.
        //   $ plain_client_check.sh TERM 18092 /slow.txt apps/lighttpd -- lighttpd -D -f lighttpd.conf
        //   kill -TERM (0.3 s into the slow request)
        //   curl: (18) transfer closed with 11974 bytes remaining to read
        //   in flight: 200, 8026 bytes, 0.294710s
        //   curl: (7) Failed to connect to 127.0.0.1 port 18092 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000226s
        //   server: exit code 1
        // (refused_after_close: as for nginx's fast stop.)
        Case{"lighttpd-term", {kLighttpd}, 1, {"dropped_inflight", "exit_code"}, {}},
        // Python 3.11 http.server (ThreadingHTTPServer), no signal handling, SIGTERM.
        // (refused_after_close: as for nginx's fast stop; the dying process takes a while to exit.)
        //   $ plain_client_check.sh TERM 18093 /slow apps/python -- /usr/bin/python3 slow_http_server.py {port}
        //   kill -TERM (0.3 s into the slow request)
        //   curl: (52) Empty reply from server
        //   in flight: 000, 0 bytes, 0.276009s
        //   curl: (7) Failed to connect to 127.0.0.1 port 18093 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000483s
        //   server: killed by SIGTERM
        Case{"python-http-server-term", {kPython}, 1, {"dropped_inflight", "exit_code"}, {}},
        // gunicorn 20.1.0, sync workers, SIGTERM (graceful): the request in flight finishes and it
        // exits 0, but the new connection is accepted into the backlog of the listening socket the
        // workers keep open until the busy ones are done (`ss -ltnp` during the drain), never served,
        // and reset.
        //   $ plain_client_check.sh TERM 18094 /slow apps/python -- gunicorn --bind 127.0.0.1:{port} --workers 8 --graceful-timeout 5 wsgi_app:app
        //   kill -TERM (0.3 s into the slow request)
        //   in flight: 200, 3 bytes, 0.850498s
        //   curl: (56) Recv failure: Connection reset by peer
        //   new connection 0.1 s after the signal: 000, 1.774614s
        //   server: exit code 0
        Case{"gunicorn-term", {kGunicorn}, 1, {"refused_after_close", "dropped_inflight"},
             {"exit_code", "exit_within"}},
        // Express 5.3.0 on Node 20, server.close() on SIGTERM, then exit 0.
        //   $ plain_client_check.sh TERM 18095 /slow apps/node -- node express-graceful.js {port}
        //   kill -TERM (0.3 s into the slow request)
        //   curl: (7) Failed to connect to 127.0.0.1 port 18095 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000362s
        //   in flight: 200, 3 bytes, 0.804347s
        //   server: exit code 0
        Case{"express-graceful", {kNode, kExpress}, 0, {},
             {"dropped_inflight", "exit_code", "exit_within", "refused_after_close", "ready_fails_during_drain"}},
        // Express 5.3.0 on Node 20, no signal handler, SIGTERM. (refused_after_close: as for Python.)
        //   $ plain_client_check.sh TERM 18095 /slow apps/node -- node express-no-handler.js {port}
        //   kill -TERM (0.3 s into the slow request)
        //   curl: (52) Empty reply from server
        //   in flight: 000, 0 bytes, 0.296435s
        //   curl: (7) Failed to connect to 127.0.0.1 port 18095 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000226s
        //   server: killed by SIGTERM
        Case{"express-no-handler", {kNode, kExpress}, 1, {"dropped_inflight", "exit_code"}, {}},
        // Puma 5.6.5 (Ruby 3.1), single mode, SIGINT: graceful, exit 0.
        //   $ plain_client_check.sh INT 18096 /slow apps/ruby -- puma --bind tcp://127.0.0.1:{port} --threads 16:16 --environment production config.ru
        //   kill -INT (0.3 s into the slow request)
        //   curl: (7) Failed to connect to 127.0.0.1 port 18096 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000421s
        //   in flight: 200, 3 bytes, 0.806529s
        //   server: exit code 0
        Case{"puma-int", {kPuma}, 0, {},
             {"dropped_inflight", "exit_code", "exit_within", "refused_after_close", "ready_fails_during_drain"}},
        // Puma 5.6.5, SIGTERM: the same drain, then Puma re-raises SIGTERM and dies by it.
        //   $ plain_client_check.sh TERM 18096 /slow apps/ruby -- puma --bind tcp://127.0.0.1:{port} --threads 16:16 --environment production config.ru
        //   kill -TERM (0.3 s into the slow request)
        //   curl: (7) Failed to connect to 127.0.0.1 port 18096 after 0 ms: Couldn't connect to server
        //   new connection 0.1 s after the signal: 000, 0.000271s
        //   in flight: 200, 3 bytes, 0.807688s
        //   server: killed by SIGTERM
        Case{"puma-term", {kPuma}, 1, {"exit_code"}, {"dropped_inflight", "refused_after_close"}},
        // Starman 0.4016 (Perl), SIGQUIT (graceful): as gunicorn, the request in flight finishes and it
        // exits 0, but the new connection waits in the backlog of the listening socket that the master and
        // the busy worker keep open until the request is done (`ss -ltnp`), and is reset.
        //   $ plain_client_check.sh QUIT 18097 /slow apps/perl -- starman --listen 127.0.0.1:{port} --workers 8 app.psgi
        //   kill -QUIT (0.3 s into the slow request)
        //   in flight: 200, 3 bytes, 0.816743s
        //   curl: (56) Recv failure: Connection reset by peer
        //   new connection 0.1 s after the signal: 000, 0.239107s
        //   server: exit code 0
        Case{"starman-quit", {kStarman}, 1, {"refused_after_close", "dropped_inflight"},
             {"exit_code", "exit_within"}}),
    [](const ::testing::TestParamInfo<Case>& info) {
        std::string name = info.param.scenario;
        for (char& ch : name) if (ch == '-') ch = '_';
        return name;
    });

}  // namespace
