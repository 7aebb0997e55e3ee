#!/usr/bin/env bash
# What running the target as a container costs, next to the same service run as a process, in one run:
# start to ready (for a container: docker run, docker inspect, the service's own start) and exit
# detection (from the exit to draincheck knowing its code: for a container, Docker's `die` event).
# The same scenario (the sample service, graceful, stopped at 1 s) both ways, N times each; medians.
#   bench/container_cost.sh [--build DIR] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

build=build runs=5
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--runs N]" >&2; exit 2 ;;
  esac
done
require_tools docker python3
targets/containers/build-images.sh --build-dir "$build" >/dev/null

scenario() {   # $1: the [target] lines
  cat <<TOML
[target]
$1
ready = { http = "/healthz", timeout = "30s", interval = "10ms" }
kill_after = "5s"
[load]
rate = 50
duration = "2s"
[[faults]]
at = "1s"
action = "stop"
TOML
}
scenario "command = [\"$PWD/$build/targets/sample_service\", \"--port\", \"{port}\", \"--mode\", \"graceful\"]" >"$work/process.toml"
scenario "image = \"draincheck-test/sample-service\"
command = [\"/app/sample_service\", \"--port\", \"{port}\", \"--mode\", \"graceful\"]" >"$work/container.toml"

for kind in process container; do
  for i in $(seq "$runs"); do
    "$build/draincheck" run "$work/$kind.toml" -q --json "$work/$kind-$i.json" >/dev/null || true
  done
done
python3 - "$work" "$runs" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
def figures(kind):
    ready, known = [], []
    for i in range(1, runs + 1):
        r = json.load(open(f"{work}/{kind}-{i}.json"))
        at = {e["type"]: e["at_s"] for e in r["events"]}
        ready.append(at["ready"])                       # the run's clock starts just before the launch
        known.append(r["exit"]["known_after_s"])
    return statistics.median(ready) * 1000, statistics.median(known) * 1000
p, c = figures("process"), figures("container")
print(f"{'':28} {'process':>10} {'container':>10} {'ratio':>8}")
print(f"{'start to ready (ms)':28} {p[0]:10.1f} {c[0]:10.1f} {c[0] / p[0]:8.1f}")
print(f"{'exit to code known (ms)':28} {p[1]:10.1f} {c[1]:10.1f} {'-':>8}")
print(f"medians of {runs} runs each")
PY
