#!/usr/bin/env bash
# The built-in load balancer's cost, against the bundled sample service, in one run:
#  1. throughput: wrk (1 thread, 32 keep-alive connections) straight to one replica and through
#     draincheck-lb with that replica as its only backend, alternating direct/balanced twice;
#     prints req/s for each and their ratio (goal >= 0.7); then the same through haproxy
#     (draincheck-lb --lb haproxy) for comparison;
#  2. added latency: draincheck's open-loop load generator (bench/rate_probe) at half the direct
#     req/s above, direct and through each balancer, alternating twice; prints p99 for each and
#     what the balancer adds (goal < 1 ms); then the same at half the builtin balancer's req/s.
# Everything on 127.0.0.1 with ephemeral ports. Builds nothing: build the targets draincheck-lb,
# rate_probe and sample_service first.
#   bench/lb_overhead.sh [build-dir] [seconds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
secs=${2:-5}
lb_bin="$build/bench/draincheck-lb"
probe_bin="$build/bench/rate_probe"
service_bin="$build/targets/sample_service"
source "$here/lib.sh"

require_tools wrk haproxy python3 curl
for bin in "$lb_bin" "$probe_bin" "$service_bin"; do
  [ -x "$bin" ] || { echo "$bin is missing: build draincheck-lb, rate_probe and sample_service first" >&2; exit 3; }
done

# Starts draincheck-lb in front of the replica; sets lb_port once it announced its port (every
# backend healthy) and a request through it succeeded.
lbs=0
start_lb() {
  lbs=$((lbs + 1))
  local out="$work/lb-$lbs.out"
  timeout -s TERM 600 "$lb_bin" --lb "$1" --listen-port 0 --backend "$replica_port" --health-path /healthz \
    >"$out" 2>"$work/lb-$lbs.err" &
  pids+=($!)
  lb_port=$(announced_port "$out")
  if [ -z "$lb_port" ] || ! curl -sf -m 5 -o /dev/null "http://127.0.0.1:$lb_port/"; then
    echo "draincheck-lb --lb $1 did not start:" >&2; cat "$out" "$work/lb-$lbs.err" >&2; exit 1
  fi
}

# req/s of wrk, 1 thread, 32 connections.
wrk_rps() {
  timeout -s KILL $((secs + 30)) wrk -t1 -c32 -d"${secs}s" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'
}
# "p50_us p99_us errors" of the open-loop load at a fixed rate.
probe() {
  timeout -s KILL $((secs + 30)) "$probe_bin" --port "$1" --rate "$2" --seconds "$secs" |
    awk '{for (i = 1; i < NF; i += 2) v[$i] = $(i + 1); print v["p50_us"], v["p99_us"], v["errors"] + v["not_sent"]}'
}
mean() { python3 -c 'import sys; v=[float(x) for x in sys.argv[1:]]; print(sum(v)/len(v))' "$@"; }
calc() { python3 -c "print($1)"; }

replica_port=$(free_port)
timeout -s TERM 900 "$service_bin" --port "$replica_port" --mode graceful >"$work/replica.log" 2>&1 &
pids+=($!)
wait_for_port "$replica_port"

start_lb builtin
builtin_port=$lb_port
start_lb haproxy
haproxy_port=$lb_port

# Warm-up: connections, caches, the replica's allocator.
wrk -t1 -c32 -d1s "http://127.0.0.1:$replica_port/" >/dev/null
wrk -t1 -c32 -d1s "http://127.0.0.1:$builtin_port/" >/dev/null

# 1. Throughput, alternating so that drift in the machine's load hits both alike.
d1=$(wrk_rps "$replica_port")
b1=$(wrk_rps "$builtin_port")
b2=$(wrk_rps "$builtin_port")
d2=$(wrk_rps "$replica_port")
h1=$(wrk_rps "$haproxy_port")
h2=$(wrk_rps "$haproxy_port")
direct=$(mean "$d1" "$d2"); builtin=$(mean "$b1" "$b2"); haproxy=$(mean "$h1" "$h2")

# 2. p99 at a fixed rate, alternating again; sets lat_<direct|builtin|haproxy> to "p50_us p99_us"
#    (means of two runs) and lat_errors.
latency_at() {
  local rate=$1 d1 d2 b1 b2 h1 h2
  d1=$(probe "$replica_port" "$rate"); b1=$(probe "$builtin_port" "$rate"); h1=$(probe "$haproxy_port" "$rate")
  h2=$(probe "$haproxy_port" "$rate"); b2=$(probe "$builtin_port" "$rate"); d2=$(probe "$replica_port" "$rate")
  pair() { python3 -c 'import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); print((float(a[0])+float(b[0]))/2, (float(a[1])+float(b[1]))/2)' "$1" "$2"; }
  lat_direct=$(pair "$d1" "$d2"); lat_builtin=$(pair "$b1" "$b2"); lat_haproxy=$(pair "$h1" "$h2")
  lat_errors=$(echo "$d1 $d2 $b1 $b2 $h1 $h2" | awk '{print $3 + $6 + $9 + $12 + $15 + $18}')
}
report_latency() {
  local what=$1 rate=$2 dp50 dp99 bp50 bp99 hp50 hp99
  read -r dp50 dp99 <<<"$lat_direct"; read -r bp50 bp99 <<<"$lat_builtin"; read -r hp50 hp99 <<<"$lat_haproxy"
  echo "latency: open loop at $rate req/s ($what), from intended send time, mean of two runs"
  printf '  direct            p50 %8.3f ms   p99 %8.3f ms\n' "$(calc "$dp50 / 1000")" "$(calc "$dp99 / 1000")"
  printf '  builtin balancer  p50 %8.3f ms   p99 %8.3f ms\n' "$(calc "$bp50 / 1000")" "$(calc "$bp99 / 1000")"
  printf '  haproxy           p50 %8.3f ms   p99 %8.3f ms\n' "$(calc "$hp50 / 1000")" "$(calc "$hp99 / 1000")"
  printf '  added p99: builtin %.3f ms%s, haproxy %.3f ms\n' \
    "$(calc "($bp99 - $dp99) / 1000")" "$3" "$(calc "($hp99 - $dp99) / 1000")"
  [ "$lat_errors" -eq 0 ] || echo "  $lat_errors requests failed or were not sent in time (the rate is beyond what a path carries)"
}
# At half the direct capacity (the goal), and at half the builtin balancer's own capacity, where
# neither path is overloaded on a machine that balances slower than it serves.
half_direct=$(calc "int($direct / 2)")
half_builtin=$(calc "int($builtin / 2)")
latency_at "$half_direct"
out_direct=$(report_latency "50 % of direct capacity" "$half_direct" " (goal < 1 ms)")
latency_at "$half_builtin"
out_builtin=$(report_latency "50 % of the builtin balancer's capacity" "$half_builtin" "")

echo "sample_service (--mode graceful, GET /) as the one replica, ${secs}s per measurement, $(nproc) CPUs, $(haproxy -v | awk 'NR==1 {print $1, $3}')"
echo "throughput: wrk -t1 -c32 (each figure the mean of two runs)"
printf '  direct            %10.0f req/s   (%s, %s)\n' "$direct" "$d1" "$d2"
printf '  builtin balancer  %10.0f req/s   (%s, %s)\n' "$builtin" "$b1" "$b2"
printf '  haproxy           %10.0f req/s   (%s, %s)\n' "$haproxy" "$h1" "$h2"
printf '  builtin/direct req/s ratio: %.2f (goal >= 0.7); haproxy/direct: %.2f\n' \
  "$(calc "$builtin / $direct")" "$(calc "$haproxy / $direct")"
echo "$out_direct"
echo "$out_builtin"
