#!/usr/bin/env bash
# Streams, Ferrite (A) vs redis-server 7.0 (B), side by side in the same run.
#
#   bench/streams.sh [-r ROUNDS] [-n REQUESTS] [-m ENTRIES] [-p FIRST_PORT]
#
# Method (that of ../shared/bench/side-by-side.sh, through bench/pair.sh): both servers run at once;
# every test runs on A and right after on B, round after round, so drift in the machine's load hits both
# alike; the report gives per-metric medians over rounds and the median of the per-round A/B ratios.
#
# Throughput: redis-benchmark running `XADD s * f v` (one growing stream), 50 clients, at pipeline 1 and
# 16 (*_rps, higher is better), with the server's CPU time per request from /proc/PID/task/*/schedstat
# (*_srv_us_per_op, lower is better; immune to the client sharing the CPUs). Pipeline 16 sends 10x
# REQUESTS.
#
# Memory: used_memory growth per entry after ENTRIES (default 1M) `XADD s * f v` loaded through
# redis-cli --pipe, and after ENTRIES ten-field entries `XADD s10 * f0 v0 ... f9 v9` (mem_*, lower is
# better).
#
# Builds the release binary first. Ports FIRST_PORT and FIRST_PORT+1 (default 7770, 7771) must be free.
set -euo pipefail
export LC_ALL=C

ROUNDS=3
N=200000
ENTRIES=1000000
PORT=7770
while getopts "r:n:m:p:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;; n) N=$OPTARG ;; m) ENTRIES=$OPTARG ;; p) PORT=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-n REQUESTS] [-m ENTRIES] [-p FIRST_PORT]" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/pair.sh
source "$here/bench/pair.sh"
need redis-server redis-cli redis-benchmark python3 awk
pair_start streams "$PORT"
RAW=$TMP/raw.tsv
: > "$RAW"
used() { redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}'; }

python3 - "$TMP" "$ENTRIES" <<'EOF'
import sys
tmp, n = sys.argv[1], int(sys.argv[2])
def cmd(args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
with open(f"{tmp}/one.resp", "wb") as f:
    f.write(cmd([b"XADD", b"s", b"*", b"f", b"v"]) * n)
ten = [b"XADD", b"s10", b"*"] + [w for j in range(10) for w in (b"f%d" % j, b"v%d" % j)]
with open(f"{tmp}/ten.resp", "wb") as f:
    f.write(cmd(ten) * n)
EOF

xadd() { # round side port pid pipeline
  local round=$1 side=$2 port=$3 pid=$4 p=$5 n=$N c0 c1 rps
  [[ $p == 1 ]] || n=$((N * 10))
  redis-cli -p "$port" FLUSHALL >/dev/null
  c0=$(cpu_ns "$pid")
  rps=$(redis-benchmark -p "$port" -n "$n" -c 50 -P "$p" --csv XADD s '*' f v 2>/dev/null \
    | awk -F'"' 'NF > 3 {v = $4} END {print (v == "" ? "NA" : v)}')
  c1=$(cpu_ns "$pid")
  rec "xadd_p${p}_rps" "$side" "$round" "$rps"
  rec "xadd_p${p}_srv_us_per_op" "$side" "$round" "$(awk -v d=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.3f", d / 1000 / n}')"
  log "  r$round $side xadd -P $p: $rps rps"
}

memory() { # round side port
  local round=$1 side=$2 port=$3 kind before after
  for kind in one ten; do
    redis-cli -p "$port" FLUSHALL >/dev/null
    sleep 0.5
    before=$(used "$port")
    redis-cli -p "$port" --pipe < "$TMP/$kind.resp" >/dev/null
    after=$(used "$port")
    rec "mem_${kind}_field_bytes_per_entry" "$side" "$round" \
      "$(awk -v a="$after" -v b="$before" -v n="$ENTRIES" 'BEGIN {printf "%.2f", (a - b) / n}')"
    log "  r$round $side $kind-field entries: used_memory $before -> $after"
  done
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  for p in 1 16; do
    xadd "$round" A "$PORT_A" "$PID_A" "$p"
    xadd "$round" B "$PORT_B" "$PID_B" "$p"
  done
  memory "$round" A "$PORT_A"
  memory "$round" B "$PORT_B"
done

printf '# bench/streams.sh  %s  %s CPUs, loadavg %s; rounds %s, %s requests (x10 at -P 16), %s entries\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$ROUNDS" "$N" "$ENTRIES"
printf '# A: ferrite-server (release)   B: %s\n' "$(redis-server --version | cut -d' ' -f3)"
printf 'metric\tA\tB\tA/B (median of per-round ratios)\n'
pair_report
