#!/usr/bin/env bash
# Verdict stability: every bundled scenario (or those named) run N times with `draincheck run --repeat N`,
# optionally while K busy loops load the machine, and each run's verdict held against the one the
# scenario's first line states. A good scenario must PASS every run; a broken one must FAIL every run
# on the assertions its header names. Prints one row a scenario and the total of wrong verdicts;
# exits 1 if there is any.
#   bench/verdict_stability.sh [--build DIR] [--runs N] [--busy K] [SCENARIO.toml ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

build=build runs=20 busy=0
scenarios=()
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --busy) busy=$2; shift 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
((${#scenarios[@]})) || scenarios=(scenarios/*.toml)
require_tools python3

for _ in $(seq "$busy"); do
  (while :; do :; done) &
  pids+=($!)
done

printf '%-42s %-6s %-44s %5s %5s\n' scenario expect "named assertions" runs wrong
wrong_total=0
for s in "${scenarios[@]}"; do
  header=$(head -1 "$s")
  expect=PASS; [[ $header == *"verdict: FAIL"* ]] && expect=FAIL
  json="$work/$(basename "$s" .toml).json"
  "$build/draincheck" run "$s" --repeat "$runs" -q --json "$json" >"$work/out.txt" 2>&1 || true
  read -r named wrong < <(python3 - "$json" "$expect" "$header" <<'PY'
import json, re, sys
path, expect, header = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    rep = json.load(open(path))["repeat"]
except Exception:
    print("- no-report"); sys.exit()
tallies = {a["name"]: a for a in rep["assertions"]}
def explain(runs):
    # Why each wrong run went wrong, on stderr: its failing assertions' reasons, or that it did not run.
    for a in rep["assertions"]:
        for f in a["failures"]:
            if f["run"] in runs: print(f"    run {f['run']}: {a['name']}: {f['reason']}", file=sys.stderr)
if expect == "PASS":
    # A run is wrong if it did not pass.
    explain(set(range(1, rep["runs"] + 1)))
    print("-", rep["runs"] - rep["passed"])
    sys.exit()
# The assertions the header names, among those the scenario checks.
named = [n for n in tallies if re.search(r"\b" + re.escape(n) + r"\b", header)]
wrong = set()
for n in named:
    failed_runs = {f["run"] for f in tallies[n]["failures"]}
    wrong |= set(range(1, rep["runs"] + 1)) - failed_runs
wrong |= set(range(rep["runs"] - rep["not_judged"] + 1, rep["runs"] + 1)) if rep["not_judged"] else set()
for run in sorted(wrong): print(f"    run {run}: did not fail on {', '.join(named)}", file=sys.stderr)
print(",".join(named) or "-", len(wrong))
PY
)
  [[ $wrong =~ ^[0-9]+$ ]] || wrong=$runs
  wrong_total=$((wrong_total + wrong))
  # A wrong verdict's evidence is kept: the repeat report (its worst run's requests, every failure's reason).
  if ((wrong > 0)) && [ -f "$json" ]; then
    kept="${TMPDIR:-/tmp}/verdict-stability-$(basename "$s" .toml)-$$.json"
    cp "$json" "$kept" && echo "    report kept: $kept" >&2
  fi
  printf '%-42s %-6s %-44s %5s %5s\n' "$(basename "$s")" "$expect" "$named" "$runs" "$wrong"
done
echo "wrong verdicts: $wrong_total (runs: $runs each, busy loops: $busy)"
((wrong_total == 0))
