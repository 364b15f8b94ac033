#!/usr/bin/env bash
# Two builds of cpsim run at the same time, one thread each, on one scenario: whatever else the
# shared machine does meanwhile weighs on both alike, so B's time over A's, stage by stage
# (`CPSIM_PROFILE`), is steadier than that of runs one after the other (`scripts/ab.sh`), whose
# ratios this machine's drift moved by up to 1.3x within minutes. It measures work on one core,
# not how a build scales on two (for that, `scripts/ab.sh` and `scripts/speedup.sh`).
# Usage: scripts/together.sh A_BINARY B_BINARY SCENARIO [ROUNDS]
set -euo pipefail
a="${1:?usage: scripts/together.sh A_BINARY B_BINARY SCENARIO [ROUNDS]}"
b="${2:?usage: scripts/together.sh A_BINARY B_BINARY SCENARIO [ROUNDS]}"
scenario="${3:?usage: scripts/together.sh A_BINARY B_BINARY SCENARIO [ROUNDS]}"
rounds="${4:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for k in $(seq "$rounds"); do
  for x in A B; do
    bin="$a"
    [ "$x" = B ] && bin="$b"
    rm -rf "$work/$x"
    CPSIM_PROFILE=1 /usr/bin/time -f '%e %U %M' -o "$work/$x.time" \
      "$bin" run "$scenario" --out "$work/$x" --threads 1 --quiet 2> "$work/$x.stages" &
  done
  wait
  echo "round $k (both at once, 1 thread each): seconds by stage"
  # Stage lines end in a share ("12.3%"); the total line is "total SECONDS".
  awk '
    FNR == 1 { file++ }
    /%$/ || $1 == "total" {
      n = (/%$/ ? NF - 2 : NF - 1); name = $1; for (i = 2; i <= n; i++) name = name " " $i
      sec = (/%$/ ? $(NF - 1) : $NF)
      if (file == 1) { order[++m] = name; A[name] = sec } else { B[name] = sec }
    }
    END {
      printf "%-28s %9s %9s %7s\n", "stage", "A", "B", "B/A"
      for (i = 1; i <= m; i++) {
        s = order[i]
        printf "%-28s %9.2f %9.2f %7s\n", s, A[s], B[s], (A[s] > 0 ? sprintf("%.3f", B[s] / A[s]) : "")
      }
    }' "$work/A.stages" "$work/B.stages"
  read -r wa ua ra < "$work/A.time"
  read -r wb ub rb < "$work/B.time"
  awk -v wa="$wa" -v wb="$wb" -v ua="$ua" -v ub="$ub" -v ra="$ra" -v rb="$rb" 'BEGIN {
    printf "wall A %.1f s, B %.1f s (B/A %.3f); cpu B/A %.3f; peak A %.2f GiB, B %.2f GiB\n",
      wa, wb, wb / wa, ub / ua, ra / 1048576, rb / 1048576 }'
  if diff -r "$work/A" "$work/B" > /dev/null; then echo "output identical"; else echo "output differs"; fi
done
