# Sourced by the bench/*.sh scripts that run Ferrite (A) and redis-server (B) side by side.
#
#   pair_start NAME FIRST_PORT   builds ferrite-server (release), makes $TMP (removed on exit), starts
#                                both servers on FIRST_PORT and FIRST_PORT+1 with empty data and no
#                                persistence, waits for PONG; sets PORT_A PORT_B PID_A PID_B
#   cpu_ns PID                   on-CPU nanoseconds over all the process's threads (schedstat)
#   log TEXT...                  a progress line on stderr
#   need TOOL...                 exit 2 unless every tool is on the PATH
# Everything started is stopped (by PID) on exit.

log() { printf '%s\n' "$*" >&2; }

need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || { echo "error: $t not found" >&2; exit 2; }
  done
}

cpu_ns() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'
}

pair_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}

pair_start() { # name first-port
  local name=$1 port
  (cd "$here" && cargo build --release --bin ferrite-server >&2)
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-$name.XXXXXX")
  PIDS=()
  trap pair_cleanup EXIT
  PORT_A=$2
  PORT_B=$(($2 + 1))
  mkdir -p "$TMP/a" "$TMP/b"
  (cd "$TMP/a" && exec "$here/target/release/ferrite-server" --port "$PORT_A" --bind 127.0.0.1 --save '' \
    --logfile '' --dir "$TMP/a") >/dev/null 2>&1 &
  PID_A=$!
  PIDS+=("$PID_A")
  (cd "$TMP/b" && exec redis-server --port "$PORT_B" --bind 127.0.0.1 --save '' --appendonly no \
    --logfile '' --dir "$TMP/b") >/dev/null 2>&1 &
  PID_B=$!
  PIDS+=("$PID_B")
  for port in "$PORT_A" "$PORT_B"; do
    for _ in $(seq 100); do
      [[ $(redis-cli -p "$port" PING 2>/dev/null) == PONG ]] && break
      sleep 0.1
    done
    [[ $(redis-cli -p "$port" PING 2>/dev/null) == PONG ]] || { echo "error: no server on port $port" >&2; exit 1; }
  done
}

# One measurement: metric, side (A or B), round, value; appended to $RAW (set by the caller).
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RAW"; }

# The report of $RAW: per metric, the median of A's and of B's values over rounds and the median of the
# per-round A/B ratios (NA values are left out).
pair_report() {
  awk -F'\t' '
    function median(s,   n, a, i, j, t) {
      n = split(s, a, " "); if (n == 0) return "NA"
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $4 != "NA" { if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 }
                 vals[$1, $2] = vals[$1, $2] " " $4; v[$1, $2, $3] = $4; if ($3 > maxr) maxr = $3 }
    END {
      for (i = 1; i <= m; i++) {
        k = order[i]; pr = ""
        for (r = 1; r <= maxr; r++)
          if (((k, "A", r) in v) && ((k, "B", r) in v) && v[k, "B", r] + 0 != 0) pr = pr " " v[k, "A", r] / v[k, "B", r]
        printf "%s\t%s\t%s\t%s\n", k, median(vals[k, "A"]), median(vals[k, "B"]), (pr == "") ? "NA" : sprintf("%.3f", median(pr))
      }
    }' "$RAW"
}
