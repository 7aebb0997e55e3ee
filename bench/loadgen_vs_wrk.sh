#!/usr/bin/env bash
# draincheck's load generator vs wrk, one after the other in one run, against the same kind of
# target with the same connections, duration and thread count. Prints both req/s and their ratio
# (goal >= 0.8), the size of a request record, and draincheck's peak RSS for the run.
# Target: nginx `return 200` if nginx is installed, else the bundled sample service.
#   bench/loadgen_vs_wrk.sh [build-dir] [connections] [seconds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
conns=${2:-32}
secs=${3:-5}
source "$here/lib.sh"
require_tools wrk python3

# The target's command line for a port, as a TOML array and as a shell command.
if command -v nginx >/dev/null; then
  target="nginx (return 200)"
  cat > "$work/nginx.conf.in" <<CONF
worker_processes 1; daemon off; pid $work/nginx-@PORT@.pid; error_log stderr;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $work;
  server { listen 127.0.0.1:@PORT@; keepalive_requests 10000000; location / { return 200 "ok\n"; } } }
CONF
  start_cmd='sed "s/@PORT@/$0/g" '"$work"'/nginx.conf.in > '"$work"'/nginx-$0.conf && exec nginx -c '"$work"'/nginx-$0.conf -p '"$work"
else
  target="sample_service"
  start_cmd="exec $build/targets/sample_service --mode graceful --port \$0"
fi

# wrk against its own instance.
port=$(free_port)
sh -c "$start_cmd" "$port" >/dev/null 2>&1 &
pids+=($!)
wait_for_port "$port"
wrk_rps=$(wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# draincheck launches its own instance, same load shape.
cat > "$work/bench.toml" <<TOML
[target]
command = ["/bin/sh", "-c", $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$start_cmd"), "{port}"]
ready = { tcp = true }
kill_after = "2s"
[load]
mode = "connections"
connections = $conns
duration = "${secs}s"
threads = 1
TOML
# Peak RSS of the whole run, the report included: the kernel's high-water mark of the child.
peak_kb=$(python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
  "$build/draincheck" run "$work/bench.toml" --json "$work/report.json" -q)
read -r dc_rps total <<<"$(python3 -c "
import json; r=json.load(open('$work/report.json'))
print(r['counts']['by_outcome']['ok'] / ${secs}, r['counts']['total'])")"

echo "target: $target, $conns keep-alive connections, ${secs}s, 1 load thread each"
printf 'wrk         %10.0f req/s\n' "$wrk_rps"
printf 'draincheck  %10.0f req/s\n' "$dc_rps"
printf 'draincheck/wrk req/s ratio: %.2f (goal >= 0.8)\n' "$(python3 -c "print($dc_rps/$wrk_rps)")"
printf 'request record: 40 bytes; %s records; draincheck peak RSS %.1f MB (%.0f bytes per record all included)\n' \
  "$total" "$(python3 -c "print($peak_kb/1024)")" "$(python3 -c "print($peak_kb*1024/max(1,$total))")"
