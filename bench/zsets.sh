#!/usr/bin/env bash
# Sorted sets, Ferrite (A) vs redis-server 7.0 (B), side by side in one run.
#
#   bench/zsets.sh            ROUNDS=3 N_P1=200000 N_P16=1000000 KEYS=100000 MEMBERS=100 BIG=1000000
#                             ONLY="zadd_p1 zadd_p16 zpopmin_p1 zpopmin_p16 memory" (the default: all)
#
# Method (that of ../shared/bench/side-by-side.sh): both servers run at once; each test runs on A then
# immediately on B, round after round, so drift in the machine's load hits both alike; the report gives
# per-metric medians and the median of the per-round A/B ratios. Throughput tests are redis-benchmark's
# own `zadd` (ZADD myzset <rand> element:<rand>, -r 1000000) and `zpopmin` (ZPOPMIN myzset, on a set
# preloaded with as many members as requests), 50 clients, at -P 1 and -P 16; *_srv_us_per_op is the
# server's CPU time per request (all threads, /proc/PID/task/*/schedstat), which the client's share of
# the two vCPUs does not blur. Memory: used_memory added by KEYS sorted sets of MEMBERS members
# (member:<j>, integer scores: listpacks), and by one sorted set of BIG members (the large encoding).
# Ports 7760-7761; every server and temp dir is removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}; N_P1=${N_P1:-200000}; N_P16=${N_P16:-1000000}
KEYS=${KEYS:-100000}; MEMBERS=${MEMBERS:-100}; BIG=${BIG:-1000000}
PORT_A=${PORT_A:-7760}; PORT_B=${PORT_B:-7761}
ONLY=${ONLY:-zadd_p1 zadd_p16 zpopmin_p1 zpopmin_p16 memory}
want() { [[ " $ONLY " == *" $1 "* ]]; }
for t in redis-server redis-cli redis-benchmark python3; do
  command -v "$t" >/dev/null || { echo "error: $t not found" >&2; exit 2; }
done
(cd "$here" && cargo build --release --bin ferrite-server >&2)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/zsets-bench.XXXXXX")
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

# RESP files: N members into myzset (zpopmin's preload), KEYS small sets, one big set.
python3 - "$TMP" "$N_P16" "$KEYS" "$MEMBERS" "$BIG" <<'EOF'
import sys
tmp, npop, keys, members, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def cmd(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)
def batches(key, n, step=1000):
    for lo in range(0, n, step):
        args = [b"ZADD", key]
        for j in range(lo, min(n, lo + step)):
            args += [b"%d" % j, b"element:%012d" % j]
        yield cmd(args)
with open(f"{tmp}/myzset.resp", "wb") as f:
    for c in batches(b"myzset", npop):
        f.write(c)
with open(f"{tmp}/small.resp", "wb") as f:
    for k in range(keys):
        args = [b"ZADD", b"zs:%d" % k]
        for j in range(members):
            args += [b"%d" % j, b"member:%d" % j]
        f.write(cmd(args))
with open(f"{tmp}/big.resp", "wb") as f:
    for c in batches(b"big", big):
        f.write(c)
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
    rps=$(redis-benchmark -p "$port" -c 50 -n "$n" -r 1000000 --csv "$@" 2>/dev/null | awk -F'","' 'NR==2{print $2}')
    c1=$(cpu_ns "$pid")
    rec "${name}_rps" "$side" "$round" "$rps"
    rec "${name}_srv_us_per_op" "$side" "$round" "$(awk -v d=$((c1 - c0)) -v n="$n" 'BEGIN{printf "%.3f", d/1000/n}')"
    log "  r$round $side $name: $rps rps"
  done
}

memory() { # round
  local round=$1 side port m0 m1
  for side in A B; do
    port=$([[ $side == A ]] && echo "$PORT_A" || echo "$PORT_B")
    cli "$port" FLUSHALL > /dev/null; sleep 0.2
    m0=$(used "$port"); pipe "$port" "$TMP/small.resp"; m1=$(used "$port")
    rec "mem_${KEYS}x${MEMBERS}_bytes_per_set" "$side" "$round" "$(( (m1 - m0) / KEYS ))"
    rec "mem_${KEYS}x${MEMBERS}_encoding_listpack" "$side" "$round" "$([[ $(cli "$port" OBJECT ENCODING zs:0) == listpack ]] && echo 1 || echo 0)"
    cli "$port" FLUSHALL > /dev/null; sleep 0.2
    m0=$(used "$port"); pipe "$port" "$TMP/big.resp"; m1=$(used "$port")
    rec "mem_big_${BIG}_bytes_per_member" "$side" "$round" "$(awk -v d=$((m1 - m0)) -v n="$BIG" 'BEGIN{printf "%.1f", d/n}')"
    log "  r$round $side memory done"
  done
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  if want zadd_p1; then bench "$round" zadd_p1 "$N_P1" "" -P 1 -t zadd; fi
  if want zadd_p16; then bench "$round" zadd_p16 "$N_P16" "" -P 16 -t zadd; fi
  if want zpopmin_p1; then bench "$round" zpopmin_p1 "$N_P1" "$TMP/myzset.resp" -P 1 -t zpopmin; fi
  if want zpopmin_p16; then bench "$round" zpopmin_p16 "$N_P16" "$TMP/myzset.resp" -P 16 -t zpopmin; fi
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
