#!/usr/bin/env bash
# The fault proxy's cost, against redis-server, in one run:
#  1. throughput: redis-benchmark SET and GET direct and through draincheck-proxy (no toxics),
#     alternating direct/proxy twice; prints ops/s for each and their ratio (goal >= 0.8);
#  2. latency: PING_INLINE round trips with one client, direct and through a second proxy with a
#     50 ms latency toxic on the answers; prints the added latency (goal 50 ms +- 2 ms).
# Builds nothing: run `cmake --build build` first.
#   bench/proxy_overhead.sh [build-dir] [requests]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
requests=${2:-100000}
proxy_bin="$build/bench/draincheck-proxy"
source "$here/lib.sh"

require_tools redis-server redis-benchmark python3
[ -x "$proxy_bin" ] || { echo "$proxy_bin is missing: build the project first" >&2; exit 3; }

# Starts draincheck-proxy in front of redis with extra args; sets proxy_port.
proxies=0
start_proxy() {
  proxies=$((proxies + 1))
  local out="$work/proxy-$proxies.out"
  "$proxy_bin" --listen-port 0 --upstream-port "$redis_port" "$@" >"$out" 2>&1 &
  pids+=($!)
  proxy_port=$(announced_port "$out")
  [ -n "$proxy_port" ] && return 0
  echo "draincheck-proxy did not start:" >&2; cat "$out" >&2; exit 1
}

# "SET-ops/s GET-ops/s" from redis-benchmark's CSV ("test","rps",...).
set_get_ops() {
  redis-benchmark -h 127.0.0.1 -p "$1" -t set,get -n "$requests" -q --csv |
    python3 -c 'import csv,sys; r={row[0]: float(row[1]) for row in csv.reader(sys.stdin) if row and row[0] != "test"}; print(r["SET"], r["GET"])'
}
# Mean PING_INLINE latency in ms, one client, one request at a time.
avg_latency_ms() {
  redis-benchmark -h 127.0.0.1 -p "$1" -t ping_inline -n 200 -c 1 -q --csv |
    python3 -c 'import csv,sys; rows=[r for r in csv.reader(sys.stdin) if r and r[0] != "test"]; print(rows[0][2])'
}
mean() { python3 -c 'import sys; v=[float(x) for x in sys.argv[1:]]; print(sum(v)/len(v))' "$@"; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
wait_for_port "$redis_port"

start_proxy
plain_port=$proxy_port
start_proxy --latency-ms 50
latency_port=$proxy_port

# Alternating, so that drift in the machine's load hits both alike.
read -r d_set1 d_get1 <<<"$(set_get_ops "$redis_port")"
read -r p_set1 p_get1 <<<"$(set_get_ops "$plain_port")"
read -r p_set2 p_get2 <<<"$(set_get_ops "$plain_port")"
read -r d_set2 d_get2 <<<"$(set_get_ops "$redis_port")"
d_set=$(mean "$d_set1" "$d_set2"); d_get=$(mean "$d_get1" "$d_get2")
p_set=$(mean "$p_set1" "$p_set2"); p_get=$(mean "$p_get1" "$p_get2")

direct_ms=$(avg_latency_ms "$redis_port")
toxic_ms=$(avg_latency_ms "$latency_port")

echo "redis-server $(redis-server --version | awk '{print $3}' | cut -d= -f2), $requests requests per test, 50 clients, $(nproc) CPUs"
printf '                  SET ops/s   GET ops/s\n'
printf 'direct          %11.0f %11.0f\n' "$d_set" "$d_get"
printf 'through proxy   %11.0f %11.0f\n' "$p_set" "$p_get"
printf 'proxy/direct ops/s ratio: %.2f (goal >= 0.8)\n' "$(python3 -c "print(($p_set + $p_get) / ($d_set + $d_get))")"
echo "PING_INLINE, 1 client, 200 requests"
printf 'direct                    %7.3f ms average\n' "$direct_ms"
printf 'proxy + 50 ms latency     %7.3f ms average\n' "$toxic_ms"
printf 'added latency: %.3f ms (goal 50 +- 2 ms)\n' "$(python3 -c "print($toxic_ms - $direct_ms)")"
