#!/usr/bin/env bash
# Pub/Sub, Ferrite vs redis-server, side by side in the same run.
#
#   bench/messaging.sh [-r ROUNDS] [-n REQUESTS] [-p FIRST_PORT]
#
# Method (as bench/side-by-side.sh's harness): both servers run at once; every test runs on Ferrite (A)
# and right after on Redis (B); each round repeats all tests; the report gives the medians over rounds
# and the median of the per-round A/B ratios.
#
# Tests:
#   publish_p1, publish_p16  PUBLISH to a channel nobody listens to, 50 clients, pipeline 1 / 16
#                            (redis-benchmark), 16-byte messages
#   publish_sub_p16          the same with one subscriber on the channel (every message delivered)
#   fanout1000               PUBLISH of a 16-byte message to a channel with 1000 subscribers, one
#                            client at pipeline 1, REQUESTS/50 messages (each becomes 1000 writes);
#                            the subscribers are held by bench/subscribers.py, which drains them
# Metrics: *_rps (requests/s, higher is better; includes the load generator's CPU, which shares the
# two vCPUs) and *_srv_us_per_op (server CPU per request from /proc/PID/task/*/schedstat, lower is
# better, and immune to the client sharing the CPUs).
#
# Builds the release binary first. Ports FIRST_PORT and FIRST_PORT+1 (default 7660, 7661) must be free.
set -euo pipefail
export LC_ALL=C

ROUNDS=3
N=200000
PORT=7660
while getopts "r:n:p:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;; n) N=$OPTARG ;; p) PORT=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-n REQUESTS] [-p FIRST_PORT]" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/pair.sh
source "$here/bench/pair.sh"
need redis-server redis-cli redis-benchmark python3 awk
pair_start messaging "$PORT"
MSG=xxxxxxxxxxxxxxxx
FANOUT_N=$((N / 50))
RAW=$TMP/raw.tsv
: > "$RAW"

bench_rps() { # port n clients pipeline args...
  local port=$1 n=$2 c=$3 p=$4
  shift 4
  redis-benchmark -p "$port" -n "$n" -c "$c" -P "$p" --csv "$@" 2>/dev/null |
    awk -F'"' 'NF > 3 {v = $4} END {print (v == "" ? "NA" : v)}'
}

run_test() { # side port pid round name n clients pipeline args...
  local side=$1 port=$2 pid=$3 round=$4 name=$5 n=$6 c=$7 p=$8 c0 c1 rps
  shift 8
  c0=$(cpu_ns "$pid")
  rps=$(bench_rps "$port" "$n" "$c" "$p" "$@")
  c1=$(cpu_ns "$pid")
  rec "${name}_rps" "$side" "$round" "${rps:-NA}"
  rec "${name}_srv_us_per_op" "$side" "$round" "$(awk -v d=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.3f", d / 1000 / n}')"
  log "  $side $name: ${rps:-NA} rps"
}

# Subscribers: one on `one` and 1000 on `many`, per server, held for the whole run.
start_subscribers() { # port channel n fifo
  mkfifo "$4"
  python3 "$here/bench/subscribers.py" "$1" "$2" "$3" < "$4" > "$4.out" &
  PIDS+=($!)
  exec {fd}>"$4"
  SUB_FDS+=("$fd")
  for _ in $(seq 300); do grep -q ready "$4.out" 2>/dev/null && return; sleep 0.1; done
  echo "error: subscribers on port $1 did not get ready" >&2
  exit 1
}
SUB_FDS=()
for side in A B; do
  port=$PORT_A; [[ $side == B ]] && port=$PORT_B
  start_subscribers "$port" one 1 "$TMP/one$side"
  start_subscribers "$port" many 1000 "$TMP/many$side"
done

for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  for p in 1 16; do
    run_test A "$PORT_A" "$PID_A" "$round" "publish_p$p" "$N" 50 "$p" PUBLISH nobody "$MSG"
    run_test B "$PORT_B" "$PID_B" "$round" "publish_p$p" "$N" 50 "$p" PUBLISH nobody "$MSG"
  done
  run_test A "$PORT_A" "$PID_A" "$round" publish_sub_p16 "$N" 50 16 PUBLISH one "$MSG"
  run_test B "$PORT_B" "$PID_B" "$round" publish_sub_p16 "$N" 50 16 PUBLISH one "$MSG"
  run_test A "$PORT_A" "$PID_A" "$round" fanout1000 "$FANOUT_N" 1 1 PUBLISH many "$MSG"
  run_test B "$PORT_B" "$PID_B" "$round" fanout1000 "$FANOUT_N" 1 1 PUBLISH many "$MSG"
done
for fd in "${SUB_FDS[@]}"; do exec {fd}>&-; done

printf '# bench/messaging.sh  %s  %s CPUs, loadavg %s; rounds %s, %s requests per test (fan-out: %s)\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$ROUNDS" "$N" "$FANOUT_N"
printf '# A: ferrite-server (release)   B: %s\n' "$(redis-server --version | cut -d' ' -f3)"
printf 'metric\tA\tB\tA/B\n'
pair_report
