// Every bundled scenario through the real CLI: good targets PASS, each broken one FAILs, and for the
// right reason (the assertions that must fail do, and the ones that must hold do).
#include "cli_harness.h"

#include <gtest/gtest.h>

#include <optional>

using namespace draincheck::testing;

namespace {

struct Expectation {
    VerdictExpectation verdict;
    std::optional<bool> listener_closes_before_exit = std::nullopt;   // the timeline's listener_closed event
    std::string counted_kind = {};   // if set: dropped_inflight counts requests of a kind named so (a prefix)
};

void PrintTo(const Expectation& e, std::ostream* os) { *os << e.verdict.scenario; }

class BundledScenario : public ::testing::TestWithParam<Expectation> {};

TEST_P(BundledScenario, GivesTheExpectedVerdict) {
    const Expectation& e = GetParam();
    TempDir dir;
    CliRun run = run_expecting(e.verdict, dir.path());
    ASSERT_FALSE(run.report.is_null());
    if (!e.counted_kind.empty()) {
        bool counted = false;
        for (const auto& a : run.report["assertions"])
            if (a["name"] == "dropped_inflight")
                for (const auto& t : a["breakdown"])
                    counted = counted || (t["counted"].get<bool>() && t["count"].get<uint64_t>() > 0 &&
                                          t["kind"].get<std::string>().rfind(e.counted_kind, 0) == 0);
        EXPECT_TRUE(counted) << "dropped_inflight counts no " << e.counted_kind << "\n" << run.output;
    }
    if (e.listener_closes_before_exit) {
        double closed = -1, exited = -1;
        for (const auto& ev : run.report["events"]) {
            if (ev["type"] == "listener_closed") closed = ev["at_s"].get<double>();
            if (ev["type"] == "exited") exited = ev["at_s"].get<double>();
        }
        EXPECT_EQ(closed >= 0 && closed < exited, *e.listener_closes_before_exit) << run.report["events"].dump();
    }
    // The stop signal really caught requests in flight: otherwise the scenario would prove nothing.
    EXPECT_EQ(run.report["verdict"]["warnings"].size(), 0u) << run.report["verdict"]["warnings"].dump();
}

const std::set<std::string> kAll = {"dropped_inflight", "exit_code", "exit_within", "max_error_rate",
                                    "refused_after_close", "ready_fails_during_drain"};

INSTANTIATE_TEST_SUITE_P(
    Scenarios, BundledScenario,
    ::testing::Values(
        Expectation{{"sigterm-graceful.toml", 0, {}, kAll}, true},
        Expectation{{"sigterm-graceful-closed-loop.toml", 0, {}, {"dropped_inflight", "exit_code", "exit_within", "refused_after_close"}}},
        Expectation{{"node-graceful.toml", 0, {}, {"dropped_inflight", "exit_code", "exit_within", "refused_after_close", "ready_fails_during_drain"}}},
        Expectation{{"sigterm-exit-immediately.toml", 1, {"dropped_inflight"}, {"exit_code", "exit_within"}}},
        Expectation{{"sigterm-no-handler.toml", 1, {"dropped_inflight", "exit_code"}, {}}},
        Expectation{{"sigterm-ignore-term.toml", 1, {"exit_code", "exit_within", "ready_fails_during_drain"}, {}}},
        Expectation{{"sigterm-slow-drain.toml", 1, {"exit_code", "exit_within"}, {"dropped_inflight"}}},
        Expectation{{"sigterm-exit-nonzero.toml", 1, {"exit_code"}, {"dropped_inflight", "exit_within", "refused_after_close"}}},
        Expectation{{"sigterm-close-listener-late.toml", 1, {"refused_after_close"}, {"exit_code", "exit_within"}}, false},
        Expectation{{"sigterm-fail-inflight.toml", 1, {"dropped_inflight"},
                    {"exit_code", "exit_within", "max_error_rate", "refused_after_close", "ready_fails_during_drain"}},
                    std::nullopt, "http_error 503 in flight"},
        Expectation{{"sigterm-abandon-inflight.toml", 1, {"dropped_inflight"},
                    {"exit_code", "exit_within", "max_error_rate", "refused_after_close", "ready_fails_during_drain"}},
                    std::nullopt, "timeout in flight"},
        Expectation{{"node-course-literal.toml", 1, {"dropped_inflight"}, {"exit_code", "exit_within"}}},
        Expectation{{"node-naive.toml", 1, {"dropped_inflight"}, {"exit_code", "exit_within"}}},
        Expectation{{"redis-sigterm-graceful.toml", 0, {}, {"dropped_inflight", "exit_code", "exit_within", "max_error_rate",
                                                           "dependency_closed_before_exit"}}},
        Expectation{{"redis-sigterm-forgets-close.toml", 1, {"dependency_closed_before_exit"},
                    {"dropped_inflight", "exit_code", "exit_within", "max_error_rate"}}},
        Expectation{{"node-redis-graceful.toml", 0, {}, {"dropped_inflight", "exit_code", "dependency_closed_before_exit"}}},
        Expectation{{"node-redis-forgets-close.toml", 1, {"dependency_closed_before_exit"}, {"dropped_inflight", "exit_code"}}},
        Expectation{{"node-dependency-idle-socket.toml", 1, {"dependency_closed_before_exit"}, {"exit_code"}}},
        Expectation{{"node-dependency-used-then-left.toml", 1, {"dependency_closed_before_exit"}, {"exit_code"}}},
        Expectation{{"redis-killed-and-restarted.toml", 0, {},
                    {"dropped_inflight", "exit_code", "max_error_rate", "dependency_closed_before_exit",
                     "dependency_down.max_latency", "dependency_down.ready_fails", "dependency_down.recovers_within"}}},
        Expectation{{"redis-latency-sigterm.toml", 0, {}, {"dropped_inflight", "exit_code", "exit_within",
                                                          "dependency_closed_before_exit"}}},
        Expectation{{"redis-blackhole-sigterm.toml", 0, {}, {"dropped_inflight", "exit_code", "exit_within"}}},
        Expectation{{"redis-frozen-hangs.toml", 1, {"dependency_down.max_latency"},
                    {"dropped_inflight", "exit_code", "dependency_closed_before_exit", "dependency_down.recovers_within"}}},
        Expectation{{"fleet-scale-down.toml", 0, {}, {"client_errors", "dropped_inflight", "exit_code", "exit_within"}}},
        Expectation{{"fleet-deregistration-race.toml", 1, {"client_errors"}, {"exit_code", "exit_within"}}},
        Expectation{{"fleet-scale-up.toml", 0, {}, {"client_errors", "capacity_restored_within", "max_p99_during_fault"}}},
        Expectation{{"fleet-rolling-restart.toml", 0, {},
                    {"client_errors", "dropped_inflight", "exit_code", "exit_within", "capacity_restored_within"}}},
        Expectation{{"fleet-haproxy-rolling-restart.toml", 0, {},
                    {"client_errors", "dropped_inflight", "exit_code", "exit_within", "capacity_restored_within"}}},
        Expectation{{"fleet-kill-replica.toml", 0, {}, {"max_error_rate"}}},
        Expectation{{"fleet-stateless-memory.toml", 1, {"stateless"}, {"client_errors"}}},
        Expectation{{"fleet-stateless-redis.toml", 0, {}, {"client_errors", "stateless"}}}),
    [](const ::testing::TestParamInfo<Expectation>& info) {
        std::string name = info.param.verdict.scenario.substr(0, info.param.verdict.scenario.size() - 5);
        for (char& c : name) if (c == '-') c = '_';
        return name;
    });

}  // namespace
