#!/usr/bin/env bash
# Sets: Ferrite vs redis-server, side by side in the same run.
#
#   bench/sets.sh [-r ROUNDS] [-n SETS] [-s SCALE]
#
# Method (bench/side-by-side.sh's): both servers run from fresh data directories; every measurement
# is taken on A (Ferrite) and then immediately on B (redis-server 7.0) so drift in background load
# hits both alike; ROUNDS rounds (default 3); the report gives medians and the median of the
# per-round ratios A/B.
#
# Throughput (*_rps, higher is better): redis-benchmark -c 50 -t sadd then -t spop (SADD of random
# members into one set, then SPOP from it) at pipeline 1 and 16; SCALE multiplies request counts.
# Memory (*_bytes_per_set, lower is better): used_memory growth per set after loading SETS (default
# 1000000) small sets with redis-cli --pipe, for three shapes:
#   strs3   3 members of 6-8 bytes          (a hash table; Redis 7.0 has no compact small-set form)
#   ints3   3 small integers                (an intset on both sides)
#   strs10  10 members of 20 bytes          (a hash table, members too long for in-slot storage)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3; SETS=1000000; SCALE=1
while getopts "r:n:s:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;; n) SETS=$OPTARG ;; s) SCALE=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-n SETS] [-s SCALE]" >&2; exit 2 ;;
  esac
done
for t in redis-server redis-cli redis-benchmark python3; do
  command -v "$t" >/dev/null || { echo "error: $t not found" >&2; exit 2; }
done
(cd "$here" && cargo build --release --bin ferrite-server >&2)
FERRITE=$here/target/release/ferrite-server

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sets-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
log() { echo "$*" >&2; }
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN{v=int(n*s); if(v<1000)v=1000; print v}'; }
N_P1=$(scaled 200000); N_P16=$(scaled 1000000)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start SIDE: sets PORT_<SIDE>, PID_<SIDE>
start() {
  local side=$1 port dir
  port=$(free_port); dir=$TMP/$side; rm -rf "$dir"; mkdir -p "$dir"
  if [[ $side == A ]]; then
    (cd "$dir" && exec "$FERRITE" --port "$port" --bind 127.0.0.1 --save '' --logfile '') >/dev/null 2>&1 &
  else
    (cd "$dir" && exec redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --logfile '') >/dev/null 2>&1 &
  fi
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 200); do
    [[ $(redis-cli -p "$port" PING 2>/dev/null) == PONG ]] && break
    sleep 0.05
  done
  printf -v "PORT_$side" '%s' "$port"; printf -v "PID_$side" '%s' "$pid"
}
stop() { local pid_var="PID_$1"; kill "${!pid_var}" 2>/dev/null || true; wait "${!pid_var}" 2>/dev/null || true; }

RAW=$TMP/raw.tsv; : > "$RAW"
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RAW"; }
used() { redis-cli -p "$1" INFO memory | awk -F: '/^used_memory:/{gsub(/\r/,"",$2); print $2}'; }

# One throughput run: metric side round N redis-benchmark args...
bench() {
  local metric=$1 side=$2 round=$3 n=$4; shift 4
  local port_var="PORT_$side" rps
  rps=$(redis-benchmark -p "${!port_var}" -n "$n" -q --csv "$@" 2>/dev/null | awk -F'","' 'NR==2{gsub(/"/,"",$2); print $2}')
  rec "$metric" "$side" "$round" "${rps:-NA}"
  log "  $side r$round $metric ${rps:-NA}"
}

# The pipe files, written once: SADD key m1 m2 ... in RESP.
gen() {
  python3 - "$TMP" "$SETS" <<'EOF'
import sys
tmp, n = sys.argv[1], int(sys.argv[2])
def resp(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)
shapes = {
    "strs3": lambda i: [b"m:%d" % ((i * 7 + j) % 1000) for j in range(3)],
    "ints3": lambda i: [b"%d" % ((i + j) % 1000) for j in range(3)],
    "strs10": lambda i: [b"member-%013d" % (i * 10 + j) for j in range(10)],
}
for name, members in shapes.items():
    with open(f"{tmp}/{name}.resp", "wb") as f:
        for i in range(n):
            f.write(resp([b"SADD", b"set:%08d" % i] + members(i)))
EOF
}

memory() { # side round
  local side=$1 round=$2 port_var="PORT_$1" shape before after
  for shape in strs3 ints3 strs10; do
    redis-cli -p "${!port_var}" FLUSHALL >/dev/null
    sleep 0.2
    before=$(used "${!port_var}")
    redis-cli -p "${!port_var}" --pipe < "$TMP/$shape.resp" >/dev/null
    after=$(used "${!port_var}")
    local per; per=$(awk -v a="$after" -v b="$before" -v n="$SETS" 'BEGIN{printf "%.1f", (a-b)/n}')
    rec "mem_${shape}_bytes_per_set" "$side" "$round" "$per"
    log "  $side r$round $shape: used_memory $before -> $after ($per bytes/set)"
  done
  redis-cli -p "${!port_var}" FLUSHALL >/dev/null
}

log "generating $SETS-set load files"
gen
for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  start A; start B
  for side in A B; do memory "$side" "$round"; done
  for p in 1 16; do
    n=$N_P1; ((p == 16)) && n=$N_P16
    for side in A B; do
      port_var="PORT_$side"; redis-cli -p "${!port_var}" DEL myset >/dev/null
      bench "sadd_p$p" "$side" "$round" "$n" -c 50 -P "$p" -r 100000000 -t sadd
      bench "spop_p$p" "$side" "$round" "$n" -c 50 -P "$p" -t spop
    done
  done
  stop A; stop B
done

printf '# sets.sh  %s  %s CPUs  rounds %s  sets %s  scale %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$ROUNDS" "$SETS" "$SCALE"
printf '# A: %s\n# B: %s\n' "$FERRITE" "$(redis-server --version | head -1)"
printf 'metric\tA\tB\tA/B\n'
awk -F'\t' '
function median(s,    n, a, i, j, t) {
  n = split(s, a, " "); if (n == 0) return "NA"
  for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ m = $1; if (!(m in seen)) { seen[m] = 1; order[++nm] = m }
  if ($4 != "NA") { vals[m, $2] = vals[m, $2] " " $4; v[m, $2, $3] = $4; if ($3 + 0 > maxr) maxr = $3 + 0 } }
END {
  for (i = 1; i <= nm; i++) {
    m = order[i]; a = median(vals[m, "A"]); b = median(vals[m, "B"]); pr = ""
    for (r = 1; r <= maxr; r++) if (((m, "A", r) in v) && ((m, "B", r) in v) && v[m, "B", r] + 0 != 0) pr = pr " " (v[m, "A", r] / v[m, "B", r])
    printf "%s\t%s\t%s\t%s\n", m, a, b, (pr != "") ? sprintf("%.3f", median(pr)) : "NA"
  }
}' "$RAW"
