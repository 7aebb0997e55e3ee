#pragma once
// The docker commands of a Swarm run, built from the plan: the service (one task per slot, each on a
// loopback port of its own through Swarm's {{.Task.Slot}} template, host network), its update and
// its scale; and the facts read back from Docker's events.
#include "plan/run_plan.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace draincheck {

// Task `slot` (1-9) listens on port_prefix * 10 + slot.
inline uint16_t task_port(unsigned port_prefix, unsigned slot) { return uint16_t(port_prefix * 10 + slot); }

// A prefix whose ports for slots 1-9 are all free on loopback now. Throws PlanError if none is found.
unsigned free_port_prefix();

// `docker service create --detach …` of the target's image, named `name`, labelled with draincheck's pid.
std::vector<std::string> swarm_create_argv(const RunPlan& plan, const std::string& name, unsigned port_prefix);
// `docker service update --detach --force NAME`: Swarm replaces every task as the service's update
// settings say (a rolling restart).
std::vector<std::string> swarm_update_argv(const std::string& name);
// `docker service scale --detach NAME=count`.
std::vector<std::string> swarm_scale_argv(const std::string& name, unsigned count);

// One line of `docker events --format '{{json .}}'` about a task's container.
struct TaskEvent {
    std::string action;        // "start", "kill", "die", ...
    std::string task_id;
    unsigned slot = 0;         // from the task name "service.SLOT.ID"
    std::string container;     // the container id
    int64_t time_ns = 0;       // Docker's wall clock (ns since the epoch)
    std::optional<int> signal; // kill
    std::optional<int> exit_code;   // die
};
std::optional<TaskEvent> parse_task_event(const std::string& line);

}  // namespace draincheck
