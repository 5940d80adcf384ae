#!/usr/bin/env bash
# Ferrite vs redis-server, alternating A/B on the same load (wraps the shared harness).
#
#   bench/side-by-side.sh [harness options]       e.g. -r 3 -k 1000000, or ONLY=tput,lat bench/side-by-side.sh -s 0.5
#
# Builds the release binary, then runs the shared harness (SIDE_BY_SIDE, default
# ../shared/bench/side-by-side.sh next to this checkout) with Ferrite as A and redis-server 7.0 as B.
# Everything the harness accepts (EXTRA_TESTS, ONLY, SERVER_CPUS, ...) passes through.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
harness=${SIDE_BY_SIDE:-$here/../shared/bench/side-by-side.sh}
[[ -x $harness || -f $harness ]] || { echo "harness not found: $harness (set SIDE_BY_SIDE)" >&2; exit 2; }
(cd "$here" && cargo build --release --bin ferrite-server >&2)
bin=$here/target/release/ferrite-server
exec bash "$harness" -a "$bin --port {PORT} --bind 127.0.0.1 --dir {DIR} --save '' --logfile ''" "$@"
