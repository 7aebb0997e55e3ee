#!/usr/bin/env bash
# Soak: does draincheck itself leak over a long fleet run? A fleet of 3 sample_service replicas
# behind the built-in balancer, 200 req/s (a fifth of them /work?ms=200) for N minutes, and a
# rolling restart (max_surge 1) every minute from 30 s on, so every replica is stopped with SIGTERM
# and replaced each minute. draincheck's RSS (VmRSS) is printed every 10 s; at the end: RSS at
# 1 min and at the end of the load, the growth after the first minute (goal < 5 %), the verdict,
# and the orphan check (no process of the run may outlive draincheck).
#   bench/soak.sh [build-dir] [minutes]      (default 10 minutes; 2 for a quick check)
# Exit: 0, 1 if a process of the run outlived draincheck, 3 if the run could not be started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
minutes=${2:-10}
[[ "$minutes" =~ ^[1-9][0-9]*$ && "$minutes" -le 60 ]] || { echo "minutes: expected 1-60, got $minutes" >&2; exit 2; }
rate=200
secs=$((minutes * 60))
sample_every=10
work=$(mktemp -d)
dc=
cleanup() {
  if [ -n "$dc" ] && kill -0 "$dc" 2>/dev/null; then
    kill -TERM "$dc" 2>/dev/null || true              # draincheck stops its fleet on SIGTERM
    for _ in $(seq 100); do kill -0 "$dc" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$dc" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

service=$build/targets/sample_service
for f in "$build/draincheck" "$service"; do
  [ -x "$f" ] || { echo "not built: $f" >&2; exit 3; }
done

# One rolling restart a minute: at 30 s, 90 s, 150 s, ... (each takes a few seconds, so they never overlap).
faults=
for ((at = 30; at < secs; at += 60)); do
  faults+="
[[faults]]
at = \"${at}s\"
action = \"rolling_restart\"
max_surge = 1
max_unavailable = 0
"
done

cat > "$work/soak.toml" <<TOML
name = "soak"
description = "draincheck's own memory over a long fleet run: a rolling restart every minute"

[target]
command = ["$service", "--port", "{port}", "--mode", "graceful"]
ready = { http = "/healthz", timeout = "10s" }
kill_after = "10s"

[fleet]
replicas = 3
deregistration_delay = "300ms"

[fleet.health]
path = "/healthz"
interval = "100ms"

[load]
rate = $rate
duration = "${secs}s"
timeout = "5s"
max_requests = $((rate * secs * 11 / 10 + 1000))

[[load.mix]]
path = "/"
weight = 0.8

[[load.mix]]
path = "/work?ms=200"
weight = 0.2
$faults
[expect]
client_errors = 0
dropped_inflight = 0
exit_code = 0
exit_within = "5s"
capacity_restored_within = "15s"
TOML

"$build/draincheck" validate "$work/soak.toml" || exit 3
echo "soak: 3 replicas of sample_service, $rate req/s for $minutes min, a rolling restart every minute from 30 s"
if pgrep -f ctest >/dev/null; then echo "note: a test suite (ctest) is running on this machine: it is loaded"; fi

start_ns=$(date +%s%N)
"$build/draincheck" run "$work/soak.toml" --json "$work/report.json" > "$work/console.txt" 2>&1 &
dc=$!

# RSS (and open descriptors) every 10 s from draincheck's start.
next=$sample_every
hwm_kb=0
printf '%8s  %8s  %4s\n' "elapsed" "RSS MiB" "fds"
while kill -0 "$dc" 2>/dev/null; do
  now_ms=$((($(date +%s%N) - start_ns) / 1000000))
  if [ "$now_ms" -ge $((next * 1000)) ]; then
    kb=$(awk '/^VmRSS/ {print $2}' "/proc/$dc/status" 2>/dev/null || true)
    h=$(awk '/^VmHWM/ {print $2}' "/proc/$dc/status" 2>/dev/null || true)
    fds=$(ls "/proc/$dc/fd" 2>/dev/null | wc -l)
    [ -n "$h" ] && hwm_kb=$h
    if [ -n "$kb" ]; then
      echo "$next $kb $fds" >> "$work/samples.txt"
      awk -v t="$next" -v kb="$kb" -v fds="$fds" 'BEGIN { printf "%7ds  %8.2f  %4d\n", t, kb / 1024, fds }'
    fi
    next=$((next + sample_every))
  fi
  sleep 0.2
done
rc=0
wait "$dc" || rc=$?
dc_pid=$dc
dc=

if [ ! -s "$work/report.json" ]; then
  echo "draincheck exited $rc without a report:" >&2
  tail -n 30 "$work/console.txt" >&2
  exit 3
fi

# Growth after the first minute: the sample at 60 s against the last one taken while the load ran.
# Request records and balancer attempts wait in an unlinked temporary file during the run (not in
# draincheck's memory), so a growing RSS is what a leak would show.
echo
python3 - "$work/report.json" "$work/samples.txt" "$secs" "$hwm_kb" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
samples = {int(t): (int(kb), int(fds)) for t, kb, fds in (l.split() for l in open(sys.argv[2]))}
secs, hwm = int(sys.argv[3]), int(sys.argv[4])
f = r.get("fleet") or {}
attempts = f.get("backend_attempts", [])
end = max((t for t in samples if t <= secs), default=None)
if 60 in samples and end and end > 60:
    (b, bfd), (e, efd) = samples[60], samples[end]
    g = (e - b) * 100.0 / b
    print(f"RSS at 60 s: {b/1024:.2f} MiB; at {end} s: {e/1024:.2f} MiB; growth after the first minute: {g:+.1f} % "
          f"(goal < 5 %: {'met' if g < 5 else 'NOT met'}); peak while running {hwm/1024:.2f} MiB; descriptors {bfd} -> {efd}")
else:
    print("RSS: not enough samples for the growth (run for at least 2 minutes)")
total = r["counts"]["total"]
print(f"requests: {total} ({r['counts']['by_outcome'].get('ok', 0)} ok), not recorded: {r.get('requests_not_recorded', 0)}, "
      f"balancer attempts: {len(attempts)}, replicas started: {len(f.get('replicas', []))}")
for x in f.get("faults", []):
    done = x.get("done_s"); cap = x.get("capacity_restored_s")
    print(f"  {x['action']} at {x['started_s']:.1f} s: capacity restored "
          f"{'after %.2f s' % (cap - x['started_s']) if cap is not None else 'NEVER'}, "
          f"done {'after %.2f s' % (done - x['started_s']) if done is not None else 'NEVER'}")
for a in r.get("assertions", []):
    if not a["passed"]:
        print(f"  FAIL {a['name']}: expected {a['expected']}, observed {a['observed']}")
print("verdict:", r["verdict"]["summary"])
PY
[ "$rc" -le 1 ] || { echo "draincheck exited $rc:"; tail -n 20 "$work/console.txt"; }

# Orphans: any process marked with this run (DRAINCHECK_RUN=<draincheck's pid> in its environment),
# or a replica of this run (sample_service on one of the run's ports), up to 1 s after draincheck exited.
ports=$(python3 -c "import json,sys; print(' '.join(str(x['port']) for x in json.load(open(sys.argv[1]))['fleet']['replicas']))" "$work/report.json")
find_orphans() {
  local p cmd
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = "$$" ] && continue
    if tr '\0' '\n' 2>/dev/null < "/proc/$p/environ" | grep -qx "DRAINCHECK_RUN=$dc_pid"; then echo "$p"; continue; fi
    cmd=$(tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline") || continue
    case "$cmd" in
      "$service "*) for port in $ports; do [[ "$cmd" == *"--port $port "* ]] && { echo "$p"; break; }; done ;;
    esac
  done
}
orphans=
for _ in 1 2 3 4 5; do
  orphans=$(find_orphans)
  [ -z "$orphans" ] && break
  sleep 0.2
done
if [ -z "$orphans" ]; then
  echo "orphans: 0"
  exit 0
fi
echo "orphans: $(wc -w <<<"$orphans")"
for p in $orphans; do
  echo "  pid $p: $(tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline")"
  kill -KILL "$p" 2>/dev/null || true
done
exit 1
