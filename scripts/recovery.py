#!/usr/bin/env python3
"""Parameter recovery study of `cpsim calibrate` and `cpsim forecast` (issue 22, point 5).

For each of N recoveries: draw true values of four parameters from their priors, make 44 days of
synthetic data with `cpsim synthesize` from tests/fixtures/calibrate/tiny.toml set to them, fit
the first 14 days with `cpsim calibrate` (fixed seeds), forecast the next 30 days with `cpsim
forecast`, and score: is each true value inside its 90% posterior interval, how wide is that
interval against the prior, and what share of the 30 held-out days of each series fall inside
the forecast's 90% band. Writes OUT/recovery.csv (one row per recovery and parameter),
OUT/forecast_coverage.csv, OUT/recovery.svg and prints the summary.

    python3 scripts/recovery.py [--n 20] [--particles 40] [--generations 5] [--draws 20] [--out docs/recovery]

Deterministic: recovery i uses truth seed 1000 + i, data seed 100 + i and calibration seed
5000 + i. Needs a release build (cargo build --release) and nothing but the Python standard library.
"""
import argparse
import csv
import math
import os
import random
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("CPSIM_BIN", os.path.join(ROOT, "target", "release", "cpsim"))
BASE = os.path.join(ROOT, "tests", "fixtures", "calibrate", "tiny.toml")
SERIES = "market.clips,market.impressions,category.short_drama.opens,category.short_drama.payers,market.gmv"
# key, prior, from, to, the line of tiny.toml that holds its value
PARAMS = [
    ("creators.posts_per_day", "uniform", 0.2, 1.2, r"^posts_per_day = .*$", "posts_per_day = {}"),
    ("platform.feed_supply", "log-uniform", 1e5, 1e6, r"^feed_supply = .*$", "feed_supply = {}"),
    ("categories.short_drama.ctr", "log-uniform", 0.005, 0.08, r"^ctr = .*$", "ctr = {}"),
    ("categories.short_drama.p_pay", "uniform", 0.01, 0.15, r"^p_pay = .*$", "p_pay = {}"),
]
FIT_DAYS, AHEAD = 14, 30


def draw(rng, prior, lo, hi):
    if prior == "log-uniform":
        return math.exp(rng.uniform(math.log(lo), math.log(hi)))
    return rng.uniform(lo, hi)


def cpsim(*args):
    r = subprocess.run([BIN, *args], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"cpsim {' '.join(args)} failed:\n{r.stderr}")
    return r


def scenario(text, values, seed, particles, generations, draws):
    for (key, _, _, _, pattern, line), v in zip(PARAMS, values):
        text, n = re.subn(pattern, line.format(repr(float(v))), text, count=1, flags=re.M)
        assert n == 1, key
    text = re.sub(r"^seed = .*$", f"seed = {seed}", text, count=1, flags=re.M)
    text = re.sub(r"^particles = .*$", f"particles = {particles}", text, count=1, flags=re.M)
    text = re.sub(r"^generations = .*$", f"generations = {generations}", text, count=1, flags=re.M)
    text = re.sub(r"^max_simulations = .*$", "max_simulations = 100000", text, count=1, flags=re.M)
    text = re.sub(r"^draws = .*$", f"draws = {draws}", text, count=1, flags=re.M)
    # One decision: the forecast as calibrated.
    return text.split("[[forecast.decisions]]")[0] + '[[forecast.decisions]]\nname = "as calibrated"\n'


def svg(rows, path):
    """Truth against posterior median with its 90% interval, one panel per parameter."""
    w, h, pad = 300, 300, 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{4 * w}" height="{h + 30}" font-family="sans-serif" font-size="11">']
    for k, (key, prior, lo, hi, _, _) in enumerate(PARAMS):
        t = (lambda v: math.log(v)) if prior == "log-uniform" else (lambda v: v)
        a, b = t(lo), t(hi)
        sx = lambda v: k * w + pad + (t(v) - a) / (b - a) * (w - 2 * pad)
        sy = lambda v: h - pad - (t(v) - a) / (b - a) * (h - 2 * pad)
        out.append(f'<rect x="{k * w + pad}" y="{pad}" width="{w - 2 * pad}" height="{h - 2 * pad}" fill="none" stroke="#888"/>')
        out.append(f'<line x1="{sx(lo)}" y1="{sy(lo)}" x2="{sx(hi)}" y2="{sy(hi)}" stroke="#bbb"/>')
        out.append(f'<text x="{k * w + w / 2}" y="{pad - 10}" text-anchor="middle">{key}{" (log)" if prior == "log-uniform" else ""}</text>')
        out.append(f'<text x="{k * w + w / 2}" y="{h - 8}" text-anchor="middle">true value (axes span the prior)</text>')
        for r in (r for r in rows if r["parameter"] == key):
            x = sx(r["truth"])
            c = "#4E79A7" if r["inside"] else "#E15759"
            out.append(f'<line x1="{x}" y1="{sy(r["p90_low"])}" x2="{x}" y2="{sy(r["p90_high"])}" stroke="{c}" stroke-width="2"/>')
            out.append(f'<circle cx="{x}" cy="{sy(r["median"])}" r="3" fill="{c}"/>')
    out.append(f'<text x="10" y="{h + 22}">posterior median (dot) and 90% interval (bar) against the truth; red: truth outside the interval</text></svg>')
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--particles", type=int, default=40)
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--out", default="docs/recovery")
    ap.add_argument("--work", default="output/recovery-work")
    a = ap.parse_args()
    base = open(BASE).read()
    os.makedirs(os.path.join(ROOT, a.out), exist_ok=True)
    rows, cover = [], []
    started = time.time()
    sims = 0
    for i in range(a.n):
        rng = random.Random(1000 + i)
        truth = [draw(rng, p, lo, hi) for _, p, lo, hi, _, _ in PARAMS]
        work = os.path.join(ROOT, a.work, f"r{i:02d}")
        os.makedirs(work, exist_ok=True)
        stem = f"rec{i:02d}"
        scen = os.path.join(work, f"{stem}.toml")
        with open(scen, "w") as f:
            f.write(scenario(base, truth, 100 + i, a.particles, a.generations, a.draws))
        full = cpsim("synthesize", scen, "--series", SERIES, "--days", str(FIT_DAYS + AHEAD)).stdout
        lines = full.splitlines()
        comments = [l for l in lines if l.startswith("#")]
        data = [l for l in lines if not l.startswith("#")]
        obs = os.path.join(work, "observed.csv")
        with open(obs, "w") as f:
            f.write("\n".join(comments + data[: 1 + FIT_DAYS]) + "\n")
        r = cpsim("calibrate", scen, "--observed", obs, "--out", work, "--seed", str(5000 + i), "--fresh")
        m = re.search(r"(\d+) simulations \((\d+) in this run", r.stderr)
        sims += int(m.group(2)) if m else 0
        cal = os.path.join(work, f"calibrate-{stem}")
        with open(os.path.join(cal, "summary.csv")) as f:
            summary = {row["parameter"]: row for row in csv.DictReader(f)}
        for (key, *_), t in zip(PARAMS, truth):
            s = summary[key]
            lo, hi = float(s["p90_low"]), float(s["p90_high"])
            rows.append({"recovery": i, "parameter": key, "truth": t, "median": float(s["median"]), "p90_low": lo,
                         "p90_high": hi, "inside": lo <= t <= hi, "width_vs_prior": float(s["width_vs_prior"])})
        cpsim("forecast", cal, "--days", str(AHEAD), "--draws", str(a.draws))
        held = list(csv.DictReader(l for l in data))
        with open(os.path.join(work, f"forecast-{stem}", "forecast.csv")) as f:
            fc = [row for row in csv.DictReader(f) if int(row["day"]) >= FIT_DAYS]
        for row in fc:
            actual = float(held[int(row["day"])][row["series"]])
            cover.append({"recovery": i, "series": row["series"], "day": int(row["day"]), "actual": actual,
                          "q05": float(row["q05"]), "q95": float(row["q95"]),
                          "inside": float(row["q05"]) <= actual <= float(row["q95"])})
        print(f"recovery {i}: " + ", ".join(f"{r['parameter'].split('.')[-1]} {'in' if r['inside'] else 'OUT'}"
                                           for r in rows[-len(PARAMS):]), flush=True)
    secs = time.time() - started
    with open(os.path.join(ROOT, a.out, "recovery.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        wr.writeheader()
        wr.writerows(rows)
    with open(os.path.join(ROOT, a.out, "forecast_coverage.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(cover[0].keys()))
        wr.writeheader()
        wr.writerows(cover)
    svg(rows, os.path.join(ROOT, a.out, "recovery.svg"))
    print(f"\n{a.n} recoveries, {a.particles} particles, {a.generations} generations, {a.draws} forecast draws; "
          f"{sims} calibration simulations, {secs:.0f} s wall in all")
    print(f"{'parameter':<32} {'truth in 90% interval':>22} {'mean width / prior':>20}")
    for key, *_ in PARAMS:
        rs = [r for r in rows if r["parameter"] == key]
        print(f"{key:<32} {sum(r['inside'] for r in rs):>12}/{len(rs):<9} {sum(r['width_vs_prior'] for r in rs) / len(rs):>20.3f}")
    allin = sum(r["inside"] for r in rows)
    print(f"{'all parameters':<32} {allin:>12}/{len(rows):<9} ({allin / len(rows):.1%})")
    for s in SERIES.split(","):
        cs = [c for c in cover if c["series"] == s]
        print(f"forecast coverage, {s:<28} {sum(c['inside'] for c in cs) / len(cs):.1%} of {len(cs)} held-out days in the 90% band")
    print(f"forecast coverage, all series {sum(c['inside'] for c in cover) / len(cover):.1%} of {len(cover)}")


if __name__ == "__main__":
    main()
