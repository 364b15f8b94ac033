#!/usr/bin/env bash
# Does a run scale linearly with days? Runs one scenario at two horizons (default 90 and 365
# days, by rewriting `days` in a copy) and prints wall time, time per simulated day and peak
# memory of each, and the ratio of the per-day times (1.0 = linear).
# Usage: scripts/linearity.sh [SCENARIO] [SHORT_DAYS] [LONG_DAYS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:-scenarios/bench-national.toml}"
short="${2:-90}"
long="${3:-365}"
threads="${4:-$(nproc)}"
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
declare -A per_day per_clip_day
for days in "$short" "$long"; do
  file="$work/linearity-$days.toml"
  # No burn-in: its days would count in the wall time but not in the days or the clip-days.
  sed -E -e '/^burn_in_days = /d' -e "s/^days = .*/days = $days\nburn_in_days = 0/" "$scenario" > "$file"
  grep -q "^days = $days\$" "$file" || { echo "linearity.sh: $scenario has no top-level 'days = N' line" >&2; exit 2; }
  /usr/bin/time -f '%e %M' -o "$work/time" target/release/cpsim run "$file" --out "$work/out" --threads "$threads" --quiet --reps 1
  read -r wall rss_kib < "$work/time"
  clip_days="$(awk -F, '$1 == "clip_days" { print $3 }' "$work/out/linearity-$days/summary.csv")"
  per_day[$days]="$(awk -v w="$wall" -v d="$days" 'BEGIN { printf "%.4f", w / d }')"
  per_clip_day[$days]="$(awk -v w="$wall" -v k="$clip_days" 'BEGIN { printf "%.6g", w / k * 1e9 }')"
  awk -v w="$wall" -v d="$days" -v r="$rss_kib" -v k="$clip_days" 'BEGIN {
    printf "%4d days: %7.1f s wall, %.3f s per day, %.3g clip-days/s, peak %.2f GiB\n", d, w, w / d, k / w, r / 1048576 }'
done
awk -v a="${per_day[$short]}" -v b="${per_day[$long]}" -v c="${per_clip_day[$short]}" -v e="${per_clip_day[$long]}" \
  -v s="$short" -v l="$long" 'BEGIN {
  printf "time per day at %d days / at %d days: %.2f (1.00 = linear)\n", l, s, b / a
  printf "time per clip-day at %d days / at %d days: %.2f (%.0f ns vs %.0f ns)\n", l, s, e / c, e, c }'
