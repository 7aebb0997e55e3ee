# Shell helpers the bench scripts share; sourced, not run. Defines:
#   $work         a temporary directory, removed at exit
#   pids          background processes to stop at exit (append with pids+=($!))
#   require_tools TOOL...      exit 3 naming the first tool not on PATH
#   free_port                  prints a free TCP port on 127.0.0.1
#   wait_for_port PORT         waits (10 s at most) until something accepts on 127.0.0.1:PORT, else exit 1
#   announced_port FILE        waits (10 s at most) for a "listening on <port>" line in FILE
#                              (as draincheck-lb and draincheck-proxy print it) and prints the port,
#                              or prints nothing
work=$(mktemp -d)
pids=()
bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install $tool)" >&2; exit 3; }
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listens on port $1" >&2; exit 1
}

announced_port() {
  local port
  for _ in $(seq 200); do
    port=$(awk '/^listening on/ {print $3}' "$1")
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
}
