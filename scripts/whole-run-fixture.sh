#!/usr/bin/env bash
# Writes the fixture of the whole-run check (tests/whole_run.rs): the mean and standard deviation
# of every headline metric of tests/fixtures/whole-run.toml over its 30 replications, from the
# binary given (default: this checkout's release build). Regenerate it from the previous build
# whenever a change is meant to alter the model's distributions (then the check compares the new
# build against that build), never from the build under test.
# Usage: scripts/whole-run-fixture.sh [CPSIM_BINARY] [OUT_CSV]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/cpsim}"
fixture="${2:-tests/fixtures/whole-run-fixture.csv}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bin" run tests/fixtures/whole-run.toml --out "$out" --quiet
awk -F, -v bin="$("$bin" --version 2>/dev/null || echo "$bin")" -v commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" '
NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; n = NF; next }
{
  reps++
  for (i = 3; i <= n; i++) if ($i != "" && name[i] !~ /^seed/) { c[i]++; s[i] += $i; q[i] += $i * $i }
}
END {
  printf "# whole-run fixture: tests/fixtures/whole-run.toml by %s (checkout %s), %d replications\n", bin, commit, reps
  print "metric,n,mean,sd"
  for (i = 3; i <= n; i++) {
    if (c[i] < 2) continue
    m = s[i] / c[i]
    v = (q[i] - c[i] * m * m) / (c[i] - 1)
    if (v < 0) v = 0
    printf "%s,%d,%.10g,%.10g\n", name[i], c[i], m, sqrt(v)
  }
}' "$out/whole-run/replications.csv" > "$fixture"
echo "wrote $fixture"
