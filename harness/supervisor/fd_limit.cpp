#include "supervisor/fd_limit.h"

namespace draincheck {
namespace {
rlim_t inherited_soft = RLIM_INFINITY;
}

void raise_fd_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    inherited_soft = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

rlim_t inherited_fd_soft_limit() { return inherited_soft; }

}  // namespace draincheck
