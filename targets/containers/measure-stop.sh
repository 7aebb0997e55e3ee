#!/usr/bin/env bash
# What `docker stop` does to one of the HTTP test images, measured by hand (the README's evidence):
#   targets/containers/measure-stop.sh IMAGE [COMMAND ARGS...]   ({port} in the arguments: the port)
# Runs IMAGE with --network host and PORT=<a free port above the ephemeral range>, waits for /healthz,
# sends GET /work?ms=1500, `docker stop -t 3` 0.3 s later, a new GET / 0.5 s into the stop, and prints
# the processes, what each request got, how long the stop took, the exit code, the docker events
# (kill signals, die exit code, ms after the first kill) and the logs. The container is removed after.
set -uo pipefail
(($# >= 1)) || { sed -n '3p' "$0" | sed 's/^# *//' >&2; exit 2; }
image=$1
shift
port=$((61000 + RANDOM % 4000))
name=dc-measure-$$-$RANDOM
tmp=$(mktemp -d)
events_pid=
cleanup() {
  [ -z "$events_pid" ] || kill "$events_pid" 2>/dev/null
  docker rm -f "$name" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

docker events --filter container="$name" \
  --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "signal"}}{{index .Actor.Attributes "exitCode"}}' \
  >"$tmp/events" &
events_pid=$!
sleep 0.2
docker run -d --pull never --network host --name "$name" -e PORT="$port" "$image" "${@//\{port\}/$port}" \
  >/dev/null || exit 1
for _ in $(seq 150); do curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
echo "processes (host pid, ppid, args): $(docker top "$name" -o pid,ppid,args | tail -n +2 | tr -s ' ' | paste -sd';')"
echo "GET / -> $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")"
{
  curl -s -m 10 -o "$tmp/body" -w '%{http_code} after %{time_total} s' "http://127.0.0.1:$port/work?ms=1500"
  echo " (curl exit $?), body: $(tr -d '\n' 2>/dev/null <"$tmp/body")"
} >"$tmp/inflight" &
request_pid=$!
sleep 0.3
start=$EPOCHREALTIME
docker stop -t 3 "$name" >/dev/null &
stop_pid=$!
sleep 0.5
echo "GET / 0.5 s into the stop -> $(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/") (curl exit $?)"
wait "$stop_pid"
echo "docker stop -t 3 returned after $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
wait "$request_pid"
echo "GET /work?ms=1500, sent 0.3 s before the stop -> $(cat "$tmp/inflight")"
echo "ExitCode=$(docker inspect -f '{{.State.ExitCode}}' "$name")"
sleep 0.3
echo "docker events (ms after the first kill): $(awk '$2 ~ /^(kill|die)$/ {
  if (!t0 && $2 == "kill") t0 = $1; if (t0) { printf "%s%s %s@%d", sep, $2, $3, ($1 - t0) / 1e6; sep = ", " } }' "$tmp/events")"
echo "logs:"
docker logs "$name" 2>&1 | sed 's/^/  | /'
