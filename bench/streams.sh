#!/usr/bin/env bash
# Streams, Ferrite (A) vs redis-server 7.0 (B), side by side in one run.
#
#   bench/streams.sh          ROUNDS=3 N_P1=200000 N_P16=1000000 ENTRIES=1000000
#                             ONLY="xadd_p1 xadd_p16 memory" (the default: all)
#
# Method (that of ../shared/bench/side-by-side.sh): both servers run at once; each test runs on A then
# immediately on B, round after round, so drift in the machine's load hits both alike; the report gives
# per-metric medians and the median of the per-round A/B ratios. Throughput: redis-benchmark running
# `XADD s * f v` (one growing stream), 50 clients, at -P 1 and -P 16; *_srv_us_per_op is the server's CPU
# time per request (all threads, /proc/PID/task/*/schedstat), which the client's share of the two vCPUs
# does not blur. Memory: used_memory added by ENTRIES entries `XADD s * f v` (one field) and by ENTRIES
# entries of ten fields (`XADD s10 * f0 v0 ... f9 v9`), loaded with redis-cli --pipe, per entry.
# Ports 7770-7771; every server and temp dir is removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}; N_P1=${N_P1:-200000}; N_P16=${N_P16:-1000000}; ENTRIES=${ENTRIES:-1000000}
PORT_A=${PORT_A:-7770}; PORT_B=${PORT_B:-7771}
ONLY=${ONLY:-xadd_p1 xadd_p16 memory}
want() { [[ " $ONLY " == *" $1 "* ]]; }
for t in redis-server redis-cli redis-benchmark python3; do
  command -v "$t" >/dev/null || { echo "error: $t not found" >&2; exit 2; }
done
(cd "$here" && cargo build --release --bin ferrite-server >&2)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/streams-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
cli() { redis-cli -p "$1" "${@:2}" | tr -d '\r'; }

start() { # side port cmd...
  local side=$1 port=$2; shift 2
  mkdir -p "$TMP/$side"
  (cd "$TMP/$side" && exec "$@" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --logfile '') \
    > "$TMP/$side.out" 2>&1 &
  PIDS+=($!); eval "PID_$side=$!"
  for _ in $(seq 200); do [[ $(cli "$port" PING 2>/dev/null) == PONG ]] && return 0; sleep 0.05; done
  echo "error: $side did not start" >&2; cat "$TMP/$side.out" >&2; exit 1
}
start A "$PORT_A" "$here/target/release/ferrite-server"
start B "$PORT_B" redis-server
log "A: $("$here/target/release/ferrite-server" --version 2>/dev/null | head -1 || echo ferrite)  B: $(redis-server --version | head -1)"

cpu_ns() { # pid -> on-CPU ns of all threads
  local sum=0 t a
  for t in /proc/"$1"/task/*/schedstat; do read -r a _ < "$t" && sum=$((sum + a)); done
  echo "$sum"
}
RAW=$TMP/raw.tsv; : > "$RAW"
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RAW"; }

# RESP files: ENTRIES one-field entries, ENTRIES ten-field entries.
python3 - "$TMP" "$ENTRIES" <<'EOF'
import sys
tmp, n = sys.argv[1], int(sys.argv[2])
def cmd(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)
with open(f"{tmp}/one.resp", "wb") as f:
    f.write(cmd([b"XADD", b"s", b"*", b"f", b"v"]) * n)
ten = [b"XADD", b"s10", b"*"]
for j in range(10):
    ten += [b"f%d" % j, b"v%d" % j]
with open(f"{tmp}/ten.resp", "wb") as f:
    f.write(cmd(ten) * n)
EOF

pipe() { redis-cli -p "$1" --pipe < "$2" > /dev/null; }
used() { cli "$1" INFO memory | awk -F: '$1=="used_memory"{print $2}'; }

bench() { # round name n preload args...
  local round=$1 name=$2 n=$3 preload=$4; shift 4
  local side port pid c0 c1 rps
  for side in A B; do
    port=$([[ $side == A ]] && echo "$PORT_A" || echo "$PORT_B"); pid=$(eval echo "\$PID_$side")
    cli "$port" FLUSHALL > /dev/null
    [[ -n $preload ]] && pipe "$port" "$preload"
    c0=$(cpu_ns "$pid")
    rps=$(redis-benchmark -p "$port" -c 50 -n "$n" --csv "$@" 2>/dev/null | awk -F'","' 'NR==2{print $2}')
    c1=$(cpu_ns "$pid")
    rec "${name}_rps" "$side" "$round" "$rps"
    rec "${name}_srv_us_per_op" "$side" "$round" "$(awk -v d=$((c1 - c0)) -v n="$n" 'BEGIN{printf "%.3f", d/1000/n}')"
    log "  r$round $side $name: $rps rps"
  done
}

memory() { # round
  local round=$1 side port m0 m1 key
  for side in A B; do
    port=$([[ $side == A ]] && echo "$PORT_A" || echo "$PORT_B")
    for key in one ten; do
      cli "$port" FLUSHALL > /dev/null; sleep 0.2
      m0=$(used "$port"); pipe "$port" "$TMP/$key.resp"; m1=$(used "$port")
      rec "mem_${key}_field_bytes_per_entry" "$side" "$round" "$(awk -v d=$((m1 - m0)) -v n="$ENTRIES" 'BEGIN{printf "%.2f", d/n}')"
    done
    log "  r$round $side memory done"
  done
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  if want xadd_p1; then bench "$round" xadd_p1 "$N_P1" "" -P 1 XADD s '*' f v; fi
  if want xadd_p16; then bench "$round" xadd_p16 "$N_P16" "" -P 16 XADD s '*' f v; fi
  if want memory; then memory "$round"; fi
done

printf 'metric\tA (ferrite)\tB (redis)\tA/B\n'
awk -F'\t' '
function median(s,    n, a, i, j, t) {
  n = split(s, a, " "); if (n == 0) return "NA"
  for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ if (!($1 in seen)) { seen[$1] = 1; order[++nm] = $1 }
  vals[$1, $2] = vals[$1, $2] " " $4; v[$1, $2, $3] = $4; if ($3 > maxr) maxr = $3 }
END {
  for (i = 1; i <= nm; i++) {
    m = order[i]; pr = ""
    for (r = 1; r <= maxr; r++) if (((m, "A", r) in v) && ((m, "B", r) in v) && v[m, "B", r] + 0 != 0) pr = pr " " v[m, "A", r] / v[m, "B", r]
    printf "%s\t%s\t%s\t%s\n", m, median(vals[m, "A"]), median(vals[m, "B"]), (pr == "") ? "NA" : sprintf("%.3f", median(pr))
  }
}' "$RAW"
