#!/usr/bin/env bash
# Re-makes the episode figures of docs/VALIDATION.md: the five `cpsim compare` pairs of
# scenarios/episodes/ (10 replications each, seed 1), their charts copied into docs/episodes/,
# and the rows the table quotes printed from each episode.csv.
# Usage: scripts/validation.sh [OUT]   (default output/validation; about 10 CPU-minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-output/validation}"
# CPSIM=path runs another build (e.g. a copy, while cargo rebuilds target/).
if [ -z "${CPSIM:-}" ]; then cargo build --release --quiet; fi
bin="${CPSIM:-target/release/cpsim}"
e=scenarios/episodes
pairs=(
  "jump-2022-off jump-2022-on jump-2022"
  "image-text-2023-off image-text-2023-on image-text-2023"
  "minigame-60-40 minigame-90-10 minigame-share"
  "subsidy-none subsidy-on subsidy"
  "baseline-2024 baseline-2024 baseline-2024"
)
mkdir -p docs/episodes
for p in "${pairs[@]}"; do
  read -r a b chart <<<"$p"
  "$bin" compare "$e/$a.toml" "$e/$b.toml" --out "$out" --quiet
  dir="$out/compare-$a-vs-$b"
  if [ "$a" != "$b" ]; then
    cp "$dir/compare.png" "docs/episodes/$chart.png"
    [ "$chart" = jump-2022 ] && cp "$dir/episode_levels.png" "docs/episodes/$chart-levels.png"
  else
    cp "$dir/episode_levels.png" "docs/episodes/$chart-levels.png"
  fi
  echo "== $a -> $b ($dir)"
  head -1 "$dir/episode.csv"
  grep -E '^(square_plans|clip_share\[short_drama\]|gmv|post_share|image_text_clips|clips\[novel\]|clip_share\[novel\]|commission\[novel\]|new_douyin_title_share\[mini_game\]|operator_net_per_title\[mini_game\]|ad_money|active_creators|clips\[mini_game\]|payout_gini|payout_top1_share|clip_lead\[short_drama\]|gmv_share\[short_drama\]|gmv_lead\[short_drama\]|top10_opens\[short_drama\]|clips|commission_accrued|clip_share\[novel\]),' "$dir/episode.csv" || true
  echo "-- variance reduction (paired.csv: metric, reduction)"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "variance_reduction") c = i }
           NR > 1 && ($1 == "gmv" || $1 == "commission_settled" || $1 == "clips" || $1 == "active_creators" || $1 == "payout_gini") { print $1, $c }' "$dir/paired.csv"
done
