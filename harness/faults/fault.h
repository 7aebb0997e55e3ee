#pragma once
// A fault is something done to the system under test at a scheduled time. Each kind lives in its
// own file in this folder and is listed, by its scenario `action` name, in fault_registry.cpp.
#include "dependencies/dependency.h"
#include "scenario/scenario.h"
#include "runtimes/target_runtime.h"
#include "verifier/run_events.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace draincheck {

class ReplicaSet;
class Platform;

// What a fault may act on and report to, when it fires.
struct FaultContext {
    TargetRuntime& target;
    const TargetSpec& target_spec;
    std::function<void(EventType, std::string detail)> emit;
    // Called when the fault asked the target to stop (starts the drain phase and the grace timer);
    // `sent_at_ns` is the run time just before the signal was sent (see now).
    std::function<void(int signo, int64_t sent_at_ns)> stop_requested;
    // The dependency of that name (the parser has checked that it exists).
    std::function<Dependency&(const std::string& name)> dependency;
    // Runs `action` at `at` (from the start of load), unless the run has ended by then.
    std::function<void(Nanos at, std::function<void()> action)> at_time;
    std::function<int64_t()> now;   // the run's clock, ns since it started
    ReplicaSet* fleet = nullptr;    // [fleet] runs: the replicas and their balancer
    Platform* platform = nullptr;   // [platform] runs: the platform's driver
};

class Fault {
public:
    virtual ~Fault() = default;
    virtual void apply(FaultContext& ctx) = 0;
    virtual std::string describe() const = 0;   // e.g. "send TERM to the target"
};

using FaultFactory = std::unique_ptr<Fault> (*)(const FaultSpec&);

// The actions a scenario may name, and their factories.
const std::vector<std::pair<std::string, FaultFactory>>& fault_registry();
// Throws std::invalid_argument for an unknown action.
std::unique_ptr<Fault> make_fault(const FaultSpec& spec);

// Signals that ask a process to stop, as platforms use them: the stop signal of the scenario,
// TERM (Docker, Kubernetes, systemd), INT (PM2, Ctrl-C), QUIT (nginx graceful), KILL.
bool is_stop_signal(int signo, const TargetSpec& target);

}  // namespace draincheck
