#!/bin/bash
# The hand check behind every case of realworld_test.cpp, with curl and no draincheck: start the
# server, wait 1 s, put one slow request in flight, send the signal 0.3 s later, open one new
# connection 0.1 s after that, and print what both requests got and how the server ended.
#   tests/realworld/plain_client_check.sh SIGNAL PORT SLOW_PATH DIR -- COMMAND...
# DIR is the server's working directory; "{port}" in COMMAND is replaced by PORT (also exported).
#   e.g. tests/realworld/plain_client_check.sh QUIT 18081 /slow tests/realworld/apps/nginx -- ./run.sh {port}
set -u
set -m   # job control: the server gets default SIGINT/SIGQUIT (a script's background jobs ignore them)
sig=$1 port=$2 slow=$3 dir=$4
shift 5
cmd=("${@//\{port\}/$port}")
export PORT=$port
log=$(mktemp) pidfile=$(mktemp) statusfile=$(mktemp)
# A small launcher tells an exit code from a death by signal (the shell's $? cannot).
/usr/bin/python3 -c '
import signal, subprocess, sys
cwd, pidfile, statusfile, *cmd = sys.argv[1:]
signal.signal(signal.SIGINT, signal.SIG_IGN)   # the server is signalled, not this launcher
p = subprocess.Popen(cmd, cwd=cwd, restore_signals=True,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
open(pidfile, "w").write(str(p.pid))
rc = p.wait()
open(statusfile, "w").write(f"killed by {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}")
' "$dir" "$pidfile" "$statusfile" "${cmd[@]}" >"$log" 2>&1 &
launcher=$!
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
pid=$(cat "$pidfile")
sleep 1   # as draincheck signals 1 s into the load: every worker of a pre-forking server is up
curl -sS -o /dev/null -w "in flight: %{http_code}, %{size_download} bytes, %{time_total}s\n" \
  "http://127.0.0.1:$port$slow" 2>&1 &
client=$!
sleep 0.3
echo "kill -$sig (0.3 s into the slow request)"
kill "-$sig" "$pid"
sleep 0.1
curl -sS -m 5 -o /dev/null -w "new connection 0.1 s after the signal: %{http_code}, %{time_total}s\n" \
  "http://127.0.0.1:$port/" 2>&1
wait "$client" "$launcher"
echo "server: $(cat "$statusfile")"
echo "--- server output:"; cat "$log"
rm -f "$log" "$pidfile" "$statusfile"
