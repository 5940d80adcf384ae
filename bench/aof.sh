#!/usr/bin/env bash
# The append-only file's cost, Ferrite (A) vs redis-server 7.0 (B), side by side in the same run.
#
#   bench/aof.sh [-r ROUNDS] [-n REQUESTS] [-f FSYNC] [-p FIRST_PORT]
#
# Method (that of ../shared/bench/side-by-side.sh, through bench/pair.sh): both servers run at once with
# `appendonly yes` and the same `appendfsync` (default everysec), turned on with CONFIG SET (each writes
# its first base file, and the test waits for it); every test runs on A and right after on B, round after
# round; the report gives per-metric medians and the median of the per-round A/B ratios.
#
# Throughput: redis-benchmark `SET key:__rand_int__ value` over 100k keys, 50 clients, at pipeline 1 and
# 16 (*_rps, higher is better), with the server's CPU time per request over all its threads (the AOF's
# fsync thread included) from /proc/PID/task/*/schedstat (*_srv_us_per_op, lower is better). Pipeline 16
# sends 10x REQUESTS. The AOF bytes each server wrote per request are reported too (aof_bytes_per_op).
#
# Builds the release binary first. Ports FIRST_PORT and FIRST_PORT+1 (default 7780, 7781) must be free.
set -euo pipefail
export LC_ALL=C

ROUNDS=3
N=200000
FSYNC=everysec
PORT=7780
while getopts "r:n:f:p:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;; n) N=$OPTARG ;; f) FSYNC=$OPTARG ;; p) PORT=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-n REQUESTS] [-f always|everysec|no] [-p FIRST_PORT]" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/pair.sh
source "$here/bench/pair.sh"
need redis-server redis-cli redis-benchmark awk
pair_start aof "$PORT"
RAW=$TMP/raw.tsv
: > "$RAW"
field() { redis-cli -p "$1" INFO persistence | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2}'; }

for port in "$PORT_A" "$PORT_B"; do
  redis-cli -p "$port" CONFIG SET appendfsync "$FSYNC" >/dev/null
  redis-cli -p "$port" CONFIG SET appendonly yes >/dev/null
done
for port in "$PORT_A" "$PORT_B"; do
  for _ in $(seq 100); do
    [[ $(field "$port" aof_rewrite_in_progress) == 0 && $(field "$port" aof_rewrite_scheduled) == 0 ]] && break
    sleep 0.1
  done
done

set_test() { # round side port pid pipeline
  local round=$1 side=$2 port=$3 pid=$4 p=$5 n=$N c0 c1 s0 s1 rps
  [[ $p == 1 ]] || n=$((N * 10))
  s0=$(field "$port" aof_current_size)
  c0=$(cpu_ns "$pid")
  rps=$(redis-benchmark -p "$port" -n "$n" -c 50 -P "$p" -r 100000 --csv SET key:__rand_int__ value 2>/dev/null \
    | awk -F'"' 'NF > 3 {v = $4} END {print (v == "" ? "NA" : v)}')
  c1=$(cpu_ns "$pid")
  s1=$(field "$port" aof_current_size)
  rec "set_p${p}_rps" "$side" "$round" "$rps"
  rec "set_p${p}_srv_us_per_op" "$side" "$round" "$(awk -v d=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.3f", d / 1000 / n}')"
  rec "set_p${p}_aof_bytes_per_op" "$side" "$round" "$(awk -v d=$((s1 - s0)) -v n="$n" 'BEGIN {printf "%.1f", d / n}')"
  log "  r$round $side SET -P $p: $rps rps"
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  for p in 1 16; do
    set_test "$round" A "$PORT_A" "$PID_A" "$p"
    set_test "$round" B "$PORT_B" "$PID_B" "$p"
  done
done

printf '# bench/aof.sh  %s  %s CPUs, loadavg %s; rounds %s, %s requests (x10 at -P 16), appendfsync %s\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$ROUNDS" "$N" "$FSYNC"
printf '# A: ferrite-server (release)   B: %s\n' "$(redis-server --version | cut -d' ' -f3)"
printf 'metric\tA\tB\tA/B (median of per-round ratios)\n'
pair_report
