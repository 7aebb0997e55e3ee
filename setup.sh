#!/usr/bin/env bash
# Installs what draincheck needs (Debian bookworm), builds it into ./build, and runs the default
# scenario against the bundled sample service.
#   ./setup.sh             everything
#   ./setup.sh --no-demo   install and build only (what CI uses)
set -euo pipefail
cd "$(dirname "$0")"

demo=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo=0 ;;
    *) echo "usage: ./setup.sh [--no-demo]" >&2; exit 2 ;;
  esac
done

packages=(
  g++ cmake ninja-build pkg-config
  libboost1.81-all-dev        # Asio, Beast, Process v2 (Boost 1.74, the default, lacks Process v2)
  libtomlplusplus-dev libfmt-dev nlohmann-json3-dev libcli11-dev libgtest-dev
  nodejs                      # the Node sample targets; npm fetches uPlot for the HTML report
  wrk                         # the throughput baseline in bench/
  haproxy
  redis-server                # a real dependency for the dependency scenarios; redis-benchmark for bench/
  chromium                    # the HTML report is tested in a real headless browser
  clang libclang-rt-14-dev    # libFuzzer for fuzz/ (bench/fuzz.sh)
  # Real HTTP servers nobody here wrote, for tests/realworld (each stopped as its documentation says):
  nginx lighttpd              # C: graceful on QUIT / INT, fast on TERM
  python3 gunicorn            # Python: the standard http.server (/usr/bin/python3) and gunicorn
  puma                        # Ruby (Puma, a Rack server)
  starman                     # Perl (Starman, a PSGI server)
  docker.io                   # the container tests' images (targets/containers/build-images.sh)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  # nginx, lighttpd, redis and haproxy are only ever started by the tests, on loopback ports of their
  # own: keep their packages from starting a system-wide service (e.g. on port 80) as they install.
  no_start=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    no_start=1
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}" || status=$?
  if [ -n "$no_start" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
  ((status == 0)) || exit "$status"
fi

# The container tests need a running Docker daemon: start one where none runs (the install above keeps
# services from starting; a container has no systemd) and wait for it, at most 30 s. Not fatal: without
# it those tests are skipped (and fail under CI=true).
as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo -n"   # -n: never wait for a password
docker_up() { docker info >/dev/null 2>&1 || $as_root docker info >/dev/null 2>&1; }
if ! docker_up; then
  started=0
  if [ -d /run/systemd/system ]; then
    if $as_root systemctl start docker 2>/dev/null; then started=1; fi
  elif $as_root sh -c 'nohup dockerd >/tmp/dockerd.log 2>&1 &' 2>/dev/null; then
    started=1
  fi
  deadline=$((SECONDS + 30))
  while ((started && SECONDS < deadline)) && ! docker_up; do sleep 1; done
fi
if ! docker_up; then
  echo "setup.sh: the Docker daemon is not running (start dockerd, see /tmp/dockerd.log): the container tests will be skipped" >&2
elif ! docker info >/dev/null 2>&1; then
  echo "setup.sh: dockerd runs, but $(id -un) may not use it (sudo usermod -aG docker $(id -un)): the container tests will be skipped" >&2
fi

# Debian's nodejs has no npm; the NodeSource build bundles it. Install it only where it is missing.
if ! command -v npm >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends npm
fi
npm ci --prefix reports --no-audit --no-fund
npm ci --prefix targets/node --no-audit --no-fund   # the Node sample targets' Redis client
npm ci --prefix tests/realworld/apps/node --no-audit --no-fund   # Express, for tests/realworld
npm ci --prefix harness/platforms/pm2 --no-audit --no-fund   # PM2, for [platform] kind = "pm2"

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build

if ((demo)); then
  echo
  ./build/draincheck run scenarios/sigterm-graceful.toml --out out/
fi
