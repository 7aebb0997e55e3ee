#!/usr/bin/env bash
# ctest's ContainerImages.Build: builds the container test images, if Docker runs. Without it: skipped
# (exit 77, ctest's SKIP_RETURN_CODE) with the reason, or a failure when CI=true (CI must run Docker).
set -euo pipefail
script=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../targets/containers" && pwd)/build-images.sh

if ! command -v docker >/dev/null; then
  reason="docker is not installed (./setup.sh installs docker.io)"
elif ! err=$(docker info 2>&1 >/dev/null); then
  reason="the Docker daemon is not reachable (./setup.sh starts dockerd): ${err//$'\n'/ }"
else
  exec "$script" "$@"
fi
if [ "${CI:-}" = true ]; then
  echo "FAILED: Docker must run in CI: $reason" >&2
  exit 1
fi
echo "SKIPPED: the container images are not built: $reason"
exit 77
