#pragma once
// Every load connection is a file descriptor, so draincheck raises its own soft limit to the hard
// limit; targets get back the limit draincheck was started with, so they run as they would alone.
#include <sys/resource.h>

namespace draincheck {

void raise_fd_limit();
// The soft RLIMIT_NOFILE draincheck was started with (RLIM_INFINITY if never raised).
rlim_t inherited_fd_soft_limit();

}  // namespace draincheck
