#!/usr/bin/env bash
# Builds the libFuzzer targets (clang) and runs each for a fixed time, seeded with the bundled
# scenarios and a few HTTP responses. Exit code non-zero if any finds a crash (its input is kept
# in build-fuzz/findings/).
#   bench/fuzz.sh [seconds-per-target]     (default 60)
# FUZZ_SEED=N makes a run repeatable (CI uses 1, so any finding there can be replayed exactly);
# unset, libFuzzer picks a new seed each run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz

corpus=build-fuzz/corpus
mkdir -p "$corpus/scenario" "$corpus/response" build-fuzz/findings
cp scenarios/*.toml "$corpus/scenario/"
printf '\x00\x07HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' > "$corpus/response/length"
printf '\x00\x03HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' > "$corpus/response/chunked"
printf '\x01\x10HTTP/1.1 503 Unavailable\r\nContent-Length: 40\r\n\r\n' > "$corpus/response/head"
printf '\x00\x01HTTP/1.0 200 OK\r\n\r\nuntil the connection closes' > "$corpus/response/eof"

status=0
for target in scenario_parser response_reader; do
  dir=$([ $target = scenario_parser ] && echo scenario || echo response)
  echo "== $target: ${seconds}s"
  if ! build-fuzz/${target}_fuzz "$corpus/$dir" -max_total_time="$seconds" -max_len=16384 -seed="${FUZZ_SEED:-0}" \
       -artifact_prefix=build-fuzz/findings/${target}- -print_final_stats=1 2>build-fuzz/$target.log; then
    status=1
    tail -40 build-fuzz/$target.log
  fi
  grep -E "stat::number_of_executed_units|cov:" build-fuzz/$target.log | tail -2
done
exit $status
