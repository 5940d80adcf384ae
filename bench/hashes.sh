#!/usr/bin/env bash
# Ferrite vs redis-server on hashes, side by side in the same run.
#
#   bench/hashes.sh [-r ROUNDS] [-n REQUESTS] [-k HASHES] [-q]
#
# Per round, Ferrite (A) then redis-server 7.0 (B), each freshly started on a loopback port:
#   1. memory: used_memory before and after loading HASHES small hashes (default 1,000,000) of 5 fields
#      each (`hash:%09d f1..f5 -> 10-byte values`, listpack-encoded on both) through redis-cli --pipe;
#      reported as bytes per hash;
#   2. throughput: `redis-benchmark -t hset -c 50 -r 100000 -n REQUESTS` at pipeline 1 and 16 (one hash,
#      `myhash`, growing to 100,000 fields: the table encoding), requests per second, and the server's
#      CPU time per request (utime+stime of the server process from /proc, which the load generator
#      sharing the 2 vCPUs does not distort).
# Medians over ROUNDS (default 3); the ratio column is A/B (rps: higher is better; bytes and us: lower).
# The method follows bench/side-by-side.sh's harness: same machine, alternating A and B so drift hits
# both alike, no CPU pinning (measured slower and noisier on these guests).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 requests=200000 hashes=1000000 quiet=0
while getopts "r:n:k:q" o; do
    case $o in
        r) rounds=$OPTARG ;; n) requests=$OPTARG ;; k) hashes=$OPTARG ;; q) quiet=1 ;;
        *) echo "usage: $0 [-r ROUNDS] [-n REQUESTS] [-k HASHES] [-q]" >&2; exit 2 ;;
    esac
done
say() { [[ $quiet == 1 ]] || echo "$*" >&2; }

(cd "$here" && cargo build --release --bin ferrite-server >&2)
ferrite=$here/target/release/ferrite-server
command -v redis-server >/dev/null || { echo "redis-server not found" >&2; exit 2; }

work=$(mktemp -d)
pid=""
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The load: one RESP file, generated once.
say "generating $hashes hashes"
python3 - "$hashes" > "$work/load.resp" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
def cmd(*args):
    b = [b"*%d\r\n" % len(args)]
    for a in args:
        b.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(b)
for i in range(n):
    key = b"hash:%09d" % i
    pairs = []
    for f in range(1, 6):
        pairs += [b"f%d" % f, b"value:%04d" % ((i * 7 + f) % 10000)]
    out.write(cmd(b"HSET", key, *pairs))
EOF

start() { # side -> sets pid, port
    port=$(free_port)
    mkdir -p "$work/$1"
    if [[ $1 == A ]]; then
        (cd "$work/A" && exec "$ferrite" --port "$port" --bind 127.0.0.1 --save '' --logfile '') >/dev/null 2>&1 &
    else
        (cd "$work/B" && exec redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --logfile '') >/dev/null 2>&1 &
    fi
    pid=$!
    for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
    echo "side $1 did not start" >&2; exit 1
}
stop() { redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
used_memory() { redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '$1=="used_memory"{print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tick_us=$((1000000 / $(getconf CLK_TCK)))

results=$work/results.tsv
: > "$results"
for r in $(seq "$rounds"); do
    for side in A B; do
        start $side
        before=$(used_memory)
        redis-cli -p "$port" --pipe < "$work/load.resp" >/dev/null
        after=$(used_memory)
        keys=$(redis-cli -p "$port" dbsize)
        [[ $keys == "$hashes" ]] || { echo "side $side loaded $keys keys, not $hashes" >&2; exit 1; }
        enc=$(redis-cli -p "$port" object encoding hash:000000000)
        echo -e "mem_small_hash_bytes\t$side\t$r\t$(( (after - before) / hashes ))" >> "$results"
        say "round $r side $side: $(( (after - before) / hashes )) bytes per hash ($enc)"
        for p in 1 16; do
            t0=$(cpu_ticks)
            out=$(redis-benchmark -p "$port" -c 50 -r 100000 -n "$requests" -P $p -t hset -q 2>/dev/null | tr '\r' '\n' | grep -E '^HSET' | tail -1)
            t1=$(cpu_ticks)
            rps=$(echo "$out" | awk '{print $2}')
            echo -e "hset_p${p}_rps\t$side\t$r\t$rps" >> "$results"
            echo -e "hset_p${p}_srv_us_per_op\t$side\t$r\t$(python3 -c "print(round(($t1-$t0)*$tick_us/$requests, 3))")" >> "$results"
            say "round $r side $side: HSET -P $p $rps rps"
            redis-cli -p "$port" del myhash >/dev/null
        done
        stop
    done
done

python3 - "$results" "$hashes" "$requests" "$rounds" <<'EOF'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
metrics = []
vals = {}
for m, side, r, v in rows:
    if m not in metrics:
        metrics.append(m)
    vals.setdefault((m, side), {})[r] = float(v)
print(f"# bench/hashes.sh: A = ferrite-server (release), B = redis-server 7.0; {sys.argv[4]} rounds")
print(f"# {sys.argv[2]} hashes of 5 fields for memory; {sys.argv[3]} HSET requests per throughput test")
print("metric\tA\tB\tA/B")
for m in metrics:
    a, b = vals[(m, "A")], vals[(m, "B")]
    ratios = [a[r] / b[r] for r in a if r in b and b[r]]
    print(f"{m}\t{st.median(a.values()):g}\t{st.median(b.values()):g}\t{st.median(ratios):.3f}")
EOF
