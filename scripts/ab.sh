#!/usr/bin/env bash
# Two builds of cpsim timed side by side on one scenario, interleaved A B B A A B ... so that a
# machine whose speed drifts during the runs (it does: 1.35x within one session) weighs on both
# alike. Prints every run, then the median over pairs of B's time over A's (wall and CPU), and
# whether the two builds wrote the same output folder byte for byte.
# Usage: scripts/ab.sh A_BINARY B_BINARY SCENARIO [PAIRS] [THREADS]
# (build each binary with `cargo build --release` at its commit and copy target/release/cpsim).
set -euo pipefail
a="${1:?usage: scripts/ab.sh A_BINARY B_BINARY SCENARIO [PAIRS] [THREADS]}"
b="${2:?usage: scripts/ab.sh A_BINARY B_BINARY SCENARIO [PAIRS] [THREADS]}"
scenario="${3:?usage: scripts/ab.sh A_BINARY B_BINARY SCENARIO [PAIRS] [THREADS]}"
pairs="${4:-3}"
threads="${5:-$(nproc)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
run() { # label pair
  local out="$work/$1$2"
  local bin="$a"
  [ "$1" = B ] && bin="$b"
  /usr/bin/time -f '%e %U %S %M' -o "$out.time" "$bin" run "$scenario" --out "$out" --threads "$threads" --quiet
  read -r wall user sys rss < "$out.time"
  awk -v l="$1" -v k="$2" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
    printf "%s pair %d  wall %7.1f s  cpu %7.1f s  peak %.2f GiB\n", l, k, w, u + s, r / 1048576 }'
  echo "$2 $1 $wall $user $sys" >> "$work/runs"
}
for k in $(seq "$pairs"); do
  if [ $((k % 2)) = 1 ]; then run A "$k"; run B "$k"; else run B "$k"; run A "$k"; fi
done
same=identical
for k in $(seq "$pairs"); do
  diff -r "$work/A$k" "$work/B$k" > /dev/null || same=different
done
# Per pair, B over A; then the median (mawk has no sort, so sort(1) orders them).
awk '{ if ($2 == "A") { aw[$1] = $3; ac[$1] = $4 + $5 } else { bw[$1] = $3; bc[$1] = $4 + $5 } }
  END { for (k in aw) printf "%.4f %.4f\n", bw[k] / aw[k], bc[k] / ac[k] }' "$work/runs" > "$work/ratios"
median() { sort -n | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); printf "%.3f (%.3f to %.3f)", (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2, v[1], v[NR] }'; }
printf 'B / A over %d pairs, median: wall %s, cpu %s; output %s\n' "$pairs" \
  "$(cut -d' ' -f1 "$work/ratios" | median)" "$(cut -d' ' -f2 "$work/ratios" | median)" "$same"
