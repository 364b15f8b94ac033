#!/usr/bin/env bash
# Speedup of one replication on N threads against 1, beside the machine's own ceiling for the same
# work: N single-threaded copies of the run at once (no shared state, so whatever keeps them from
# N times the throughput of one copy, such as shared memory bandwidth or a busy host, caps any
# parallel code too). Checks that the N-thread results equal the 1-thread results byte for byte.
# Usage: scripts/speedup.sh SCENARIO [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:?usage: scripts/speedup.sh SCENARIO [THREADS]}"
threads="${2:-$(nproc)}"
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
run() { # out-dir threads time-file
  /usr/bin/time -f '%e' -o "$3" target/release/cpsim run "$scenario" --out "$1" --threads "$2" --quiet --reps 1
}
run "$work/one" 1 "$work/t1"
run "$work/many" "$threads" "$work/tn"
for k in $(seq "$threads"); do run "$work/copy$k" 1 "$work/copy$k.time" & done
wait
diff -r "$work/one" "$work/many" > /dev/null || { echo "speedup.sh: results differ between 1 and $threads threads" >&2; exit 1; }
t1="$(cat "$work/t1")"
tn="$(cat "$work/tn")"
tc="$(cat "$work"/copy*.time | sort -n | tail -1)"
awk -v a="$t1" -v b="$tn" -v c="$tc" -v n="$threads" 'BEGIN {
  printf "1 thread            %.1f s\n", a
  printf "%d threads           %.1f s: speedup %.2fx (results identical)\n", n, b, a / b
  printf "%d copies of 1 thread %.1f s: ceiling %.2fx for this work on this machine\n", n, c, n * a / c
}'
