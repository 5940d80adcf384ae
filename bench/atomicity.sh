#!/usr/bin/env bash
# Transactions and scripts, Ferrite vs redis-server, side by side in the same run.
#
#   bench/atomicity.sh [-r ROUNDS] [-n REQUESTS] [-p FIRST_PORT]
#
# Method (as bench/side-by-side.sh's harness): both servers run at once; every test runs on Ferrite (A)
# and right after on Redis (B), so drift in background load hits both alike; each round repeats all
# tests; the report gives the medians over rounds and the median of the per-round A/B ratios.
#
# Tests, 50 connections each, at pipeline 1 and 16, keys drawn from 100k (`n:`/`t:` + 12 digits):
#   multi3_p*   MULTI; SET t:R v; SET t:R v; SET t:R v; EXEC (16-byte values, three random keys),
#               sent by bench/loadgen (redis-benchmark sends one command per request); a request is
#               the whole transaction, and pipeline P means P transactions in flight per connection
#   evalsha_p*  EVALSHA of `return redis.call('INCR', KEYS[1])` on a random key, by redis-benchmark
#               (the script is loaded into both servers first)
# Metrics: *_rps (requests/s, higher is better; includes the load generator's CPU, which shares the
# two vCPUs) and *_srv_us_per_op (server CPU per request from /proc/PID/task/*/schedstat, lower is
# better, and immune to the client sharing the CPUs).
#
# The same EVALSHA tests run in the shared harness as EXTRA_TESTS (see docs/benchmarks.md).
# Builds the release binaries first. Ports FIRST_PORT and FIRST_PORT+1 (default 7640, 7641) must be free.
set -euo pipefail
export LC_ALL=C

ROUNDS=3
N=100000
PORT=7640
while getopts "r:n:p:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;; n) N=$OPTARG ;; p) PORT=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-n REQUESTS] [-p FIRST_PORT]" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/pair.sh
source "$here/bench/pair.sh"
need redis-server redis-cli redis-benchmark awk
pair_start atomicity "$PORT"
(cd "$here" && cargo build --release -p ferrite-loadgen >&2)
LOADGEN=$here/target/release/loadgen
SCRIPT="return redis.call('INCR', KEYS[1])"
for port in "$PORT_A" "$PORT_B"; do
  SHA=$(redis-cli -p "$port" SCRIPT LOAD "$SCRIPT")
done
VALUE=xxxxxxxxxxxxxxxx
MULTI3="MULTI; SET t:__rand_int__ $VALUE; SET t:__rand_int__ $VALUE; SET t:__rand_int__ $VALUE; EXEC"
RAW=$TMP/raw.tsv
: > "$RAW"

run_test() { # side port pid round name pipeline kind
  local side=$1 port=$2 pid=$3 round=$4 name=$5 p=$6 kind=$7 c0 c1 rps
  c0=$(cpu_ns "$pid")
  case $kind in
    multi3)
      rps=$("$LOADGEN" -p "$port" -c 50 -P "$p" -n "$N" -r 100000 "$MULTI3" | awk '{print $2}') ;;
    evalsha)
      rps=$(redis-benchmark -p "$port" -n "$N" -c 50 -P "$p" -r 100000 --csv EVALSHA "$SHA" 1 n:__rand_int__ \
        2>/dev/null | awk -F'"' 'NF > 3 {v = $4} END {print (v == "" ? "NA" : v)}') ;;
  esac
  c1=$(cpu_ns "$pid")
  rec "${name}_rps" "$side" "$round" "${rps:-NA}"
  rec "${name}_srv_us_per_op" "$side" "$round" "$(awk -v d=$((c1 - c0)) -v n="$N" 'BEGIN {printf "%.3f", d / 1000 / n}')"
  log "  $side $name: ${rps:-NA} rps"
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  for p in 1 16; do
    for kind in multi3 evalsha; do
      run_test A "$PORT_A" "$PID_A" "$round" "${kind}_p$p" "$p" "$kind"
      run_test B "$PORT_B" "$PID_B" "$round" "${kind}_p$p" "$p" "$kind"
    done
  done
done

printf '# bench/atomicity.sh  %s  %s CPUs, loadavg %s; rounds %s, %s requests per test, 50 clients\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$ROUNDS" "$N"
printf '# A: ferrite-server (release)   B: %s\n' "$(redis-server --version | cut -d' ' -f3)"
printf 'metric\tA\tB\tA/B\n'
pair_report
