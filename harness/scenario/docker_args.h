#pragma once
// What a scenario may add to `docker run` through target.docker_args. draincheck runs every container
// detached, named and labelled by itself, on the host's network (so the service listens on the
// host's loopback and load never goes to a container bridge address), and stops it by itself.
#include <optional>
#include <string>
#include <vector>

namespace draincheck {

// Why these arguments cannot be used (one sentence), or nullopt when they can.
std::optional<std::string> docker_args_problem(const std::vector<std::string>& args);

}  // namespace draincheck
