#!/usr/bin/env bash
# Lists, Ferrite vs redis-server, side by side in the same run.
#
#   bench/lists.sh [-r ROUNDS] [-n REQUESTS] [-m MEM_ITEMS] [-p FIRST_PORT]
#
# Method (as bench/side-by-side.sh's harness): both servers run at once; every test runs on Ferrite (A)
# and right after on Redis (B), so drift in background load hits both alike; each round repeats all
# tests and the medians over rounds are reported with the A/B ratio of medians.
#
# Throughput: redis-benchmark, 50 clients, 3-byte values, for lpush, rpush, lpop, rpop and lrange_100,
# at pipeline 1 and 16 (*_rps, higher is better), with the server's CPU time per request read from
# /proc/PID/task/*/schedstat (*_srv_us_per_op, lower is better; it is immune to the client sharing the
# CPUs). The pops drain what the pushes of the same round added, so every pop finds an element.
#
# Memory: one list of MEM_ITEMS (default 10M) 3-byte elements, loaded with RPUSH batches of 1000 through
# redis-cli --pipe (what redis-benchmark -t lpush -n 10000000 builds, in a fraction of the time), then
# again with LPUSH: used_memory growth in bytes per element (mem_*_bytes_per_item, lower is better).
#
# Builds the release binary first. Ports FIRST_PORT and FIRST_PORT+1 (default 7620, 7621) must be free.
set -euo pipefail
export LC_ALL=C

ROUNDS=3
N=100000
MEM_ITEMS=10000000
PORT=7620
while getopts "r:n:m:p:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;; n) N=$OPTARG ;; m) MEM_ITEMS=$OPTARG ;; p) PORT=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-n REQUESTS] [-m MEM_ITEMS] [-p FIRST_PORT]" >&2; exit 2 ;;
  esac
done
for t in redis-server redis-cli redis-benchmark python3 awk; do
  command -v "$t" >/dev/null || { echo "error: $t not found" >&2; exit 2; }
done

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/pair.sh
source "$here/bench/pair.sh"
pair_start lists "$PORT"
RAW=$TMP/raw.tsv
: > "$RAW"
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$RAW"; } # metric side value

run_test() { # side port pid name pipeline test
  local side=$1 port=$2 pid=$3 name=$4 p=$5 t=$6 c0 c1 rps
  c0=$(cpu_ns "$pid")
  rps=$(redis-benchmark -p "$port" -n "$N" -c 50 -P "$p" -d 3 -t "$t" --csv 2>/dev/null \
    | awk -F'"' 'NF > 3 {v = $4} END {print (v == "" ? "NA" : v)}')
  c1=$(cpu_ns "$pid")
  rec "${name}_rps" "$side" "$rps"
  rec "${name}_srv_us_per_op" "$side" "$(awk -v d=$((c1 - c0)) -v n="$N" 'BEGIN {printf "%.3f", d / 1000 / n}')"
  log "  $side $name: $rps rps"
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  redis-cli -p "$PORT_A" FLUSHALL >/dev/null
  redis-cli -p "$PORT_B" FLUSHALL >/dev/null
  for p in 1 16; do
    for t in lpush rpush lpop rpop lrange_100; do
      run_test A "$PORT_A" "$PID_A" "${t}_p$p" "$p" "$t"
      run_test B "$PORT_B" "$PID_B" "${t}_p$p" "$p" "$t"
    done
  done
done

log "memory: a list of $MEM_ITEMS elements"
python3 - "$TMP" "$MEM_ITEMS" <<'EOF'
import sys
tmp, items = sys.argv[1], int(sys.argv[2])
per = 1000
for cmd in (b"RPUSH", b"LPUSH"):
    head = b"*%d\r\n$5\r\n%s\r\n$6\r\nmylist\r\n" % (per + 2, cmd)
    with open(f"{tmp}/{cmd.decode().lower()}.resp", "wb") as f:
        full, rest = divmod(items, per)
        f.write((head + b"$3\r\nxxx\r\n" * per) * full)
        if rest:
            f.write(b"*%d\r\n$5\r\n%s\r\n$6\r\nmylist\r\n" % (rest + 2, cmd) + b"$3\r\nxxx\r\n" * rest)
EOF
used() { redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}'; }
for cmd in rpush lpush; do
  for side in A B; do
    port=$PORT_A
    [[ $side == B ]] && port=$PORT_B
    redis-cli -p "$port" FLUSHALL >/dev/null
    sleep 0.5
    before=$(used "$port")
    redis-cli -p "$port" --pipe < "$TMP/$cmd.resp" >/dev/null
    after=$(used "$port")
    len=$(redis-cli -p "$port" LLEN mylist)
    [[ $len == "$MEM_ITEMS" ]] || log "  $side: LLEN is $len, expected $MEM_ITEMS"
    rec "mem_${cmd}_bytes_per_item" "$side" "$(awk -v a="$after" -v b="$before" -v n="$MEM_ITEMS" 'BEGIN {printf "%.3f", (a - b) / n}')"
    rec "mem_${cmd}_used_memory" "$side" "$after"
    log "  $side $cmd: used_memory $before -> $after"
  done
done

printf '# bench/lists.sh  %s  %s CPUs, loadavg %s; rounds %s, %s requests per test, 50 clients\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$ROUNDS" "$N"
printf '# A: ferrite-server (release)   B: %s\n' "$(redis-server --version | cut -d' ' -f3)"
printf 'metric\tA\tB\tA/B\n'
awk -F'\t' '
  { key = $1 SUBSEP $2; n[key]++; v[key, n[key]] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } }
  function median(k,   i, j, t, c, a) {
    c = n[k]; for (i = 1; i <= c; i++) a[i] = v[k, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  END {
    for (i = 1; i <= m; i++) {
      x = median(order[i] SUBSEP "A"); y = median(order[i] SUBSEP "B")
      printf "%s\t%s\t%s\t%s\n", order[i], x, y, (y + 0 > 0) ? sprintf("%.3f", x / y) : "NA"
    }
  }' "$RAW"
