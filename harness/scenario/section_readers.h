#pragma once
// Readers for the scenario's larger sections, each in its own file: [[dependencies]], [fleet],
// [platform] and [[faults]].
#include "scenario/scenario.h"
#include "scenario/table_reader.h"

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace draincheck {

// Absolute and normalized, without a trailing separator.
std::string absolute_directory(const std::filesystem::path& dir);

// `image`, `init`, `docker_args` of a table that may name a container image (the target, a
// dependency); `process_only` are its keys that do not apply to an image.
void read_container(const TableReader& t, std::optional<ContainerSpec>& out, std::initializer_list<const char*> process_only);

// [[dependencies]]: names unique, commands present, env names not set twice.
void read_dependencies(const TableReader& top, const std::filesystem::path& scenario_dir, const TargetSpec& target,
                       std::vector<DependencySpec>& out);

// The most replicas a fleet may have at any moment (fleet.replicas, and after every scale_up).
constexpr int64_t kMaxReplicas = 100;

// [fleet], if present: its keys, [fleet.health], [fleet.state_probe], and what it requires of [target]
// (a "{port}" in its command or env, no target.port).
void read_fleet(const TableReader& top, const TargetSpec& target, std::optional<FleetSpec>& out);

// [fleet.health] or [platform.health]: the balancer's checks; the default path is the target's HTTP ready path.
void read_health(const TableReader& t, const TargetSpec& target, FleetSpec::Health& health);

// Whether the target's command or env mentions "{port}".
bool mentions_port(const TargetSpec& target);

// [platform], if present: its kind's keys, and what it requires of [target] and [[dependencies]].
void read_platform(const TableReader& top, const TargetSpec& target, const std::vector<DependencySpec>& dependencies,
                   std::optional<PlatformSpec>& out);

// [[faults]], sorted by `at`; dependency names are checked against `dependencies`, and the fleet
// actions against `fleet` (the replicas running when each fires).
void read_faults(const TableReader& top, const LoadSpec& load, const std::vector<DependencySpec>& dependencies,
                 const std::optional<FleetSpec>& fleet, const std::optional<PlatformSpec>& platform,
                 std::vector<FaultSpec>& out);

}  // namespace draincheck
