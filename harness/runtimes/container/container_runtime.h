#pragma once
// The container runtime: the target is an image, run by Docker on the host's network and stopped
// exactly as `docker stop` stops it -- its stop signal to the container's PID 1, then SIGKILL after the
// grace (which kills every process of the container with it).
//
// How it knows what happens (see ../../../docs/containers.md):
//   - `docker events` for the container, started first (replayed from just before the start): `die`
//     carries the exit code Docker reports (128 + n for death by signal n), `oom` an OOM kill;
//   - `docker run --detach`, then `docker inspect` for PID 1's host pid;
//   - a pidfd on that pid: the exact moment PID 1 exits (the container's end);
//   - `docker logs --follow` for its output, stdout and stderr apart.
// Signals go straight to PID 1 from the host (`kill(2)`, what runc does for `docker kill`), so the
// stop signal's moment is exact. The container is removed when the runtime is destroyed; if
// draincheck is killed, its orphan guard removes it (by the label every container carries).
#include "runtimes/target_runtime.h"

namespace draincheck {

std::unique_ptr<TargetRuntime> make_container_runtime(boost::asio::io_context& io, const RunClock& clock,
                                                      const ContainerPlan& plan, LaunchSpec launch);

}  // namespace draincheck
