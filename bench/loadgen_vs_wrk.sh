#!/usr/bin/env bash
# draincheck's load generator vs wrk, same target, same connections and duration, one run.
# Prints req/s of both and their ratio (goal >= 0.8), the size of a request record, and draincheck's
# peak RSS for the run. Target: nginx `return 200` if nginx is installed, else the sample service.
#   bench/loadgen_vs_wrk.sh [build-dir] [connections] [seconds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
conns=${2:-32}
secs=${3:-5}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 3; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

if command -v nginx >/dev/null; then
  target="nginx return 200"
  mkdir -p "$work/nginx"
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  server { listen 127.0.0.1:$port; keepalive_requests 1000000; location / { return 200 "ok\n"; } }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
else
  target="sample_service"
  "$build/targets/sample_service" --port "$port" --mode graceful >/dev/null & pids+=($!)
fi
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done

cat > "$work/bench.toml" <<TOML
[target]
command = ["sleep", "3600"]
port = $port
ready = { tcp = true }
[load]
mode = "connections"
connections = $conns
duration = "${secs}s"
threads = 1
TOML
echo "target: $target on 127.0.0.1:$port, $conns connections, ${secs}s each, 1 thread each"

wrk_rps=$(wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
/usr/bin/time -v -o "$work/time.txt" "$build/draincheck" run "$work/bench.toml" --json "$work/report.json" -q >/dev/null || true
dc_rps=$(python3 -c "
import json; r=json.load(open('$work/report.json'))
ok=r['counts']['by_outcome']['ok']; print(ok/${secs})")
rss_kb=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$work/time.txt")
total=$(python3 -c "import json; print(json.load(open('$work/report.json'))['counts']['total'])")

printf 'wrk         %12.0f req/s\n' "$wrk_rps"
printf 'draincheck  %12.0f req/s\n' "$dc_rps"
printf 'draincheck/wrk req/s ratio: %.2f (goal >= 0.8)\n' "$(python3 -c "print($dc_rps/$wrk_rps)")"
printf 'request record: 40 bytes; %s records in this run; peak RSS %.1f MB\n' "$total" "$(python3 -c "print($rss_kb/1024)")"
