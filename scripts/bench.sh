#!/usr/bin/env bash
# Benchmark: runs a scenario (default the national one) once and prints wall time, creator-days
# and clip-days per second, and peak memory. Usage: scripts/bench.sh [SCENARIO] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:-scenarios/bench-national.toml}"
threads="${2:-$(nproc)}"
cargo build --release --quiet
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f '%e %M' -o "$out/time" target/release/cpsim run "$scenario" --out "$out" --threads "$threads" --quiet
read -r wall rss_kib < "$out/time"
stem="$(basename "$scenario" .toml)"
get() { awk -F, -v m="$1" '$1 == m { print $3 }' "$out/$stem/summary.csv"; }
reps="$(awk -F, 'NR > 1' "$out/$stem/replications.csv" | wc -l)"
creator_days="$(get creator_days)"
clip_days="$(get clip_days)"
awk -v w="$wall" -v r="$rss_kib" -v cd="$creator_days" -v kd="$clip_days" -v n="$reps" -v t="$threads" -v s="$scenario" 'BEGIN {
  printf "scenario        %s (%d replication(s), %d thread(s))\n", s, n, t
  printf "wall time       %.1f s\n", w
  # The summary counts the reported days only: with a burn-in these rates understate the work.
  printf "creator-days/s  %.3g (reported days over the whole run)\n", cd * n / w
  printf "clip-days/s     %.3g (reported days over the whole run)\n", kd * n / w
  printf "peak memory     %.2f GiB\n", r / 1048576
}'
