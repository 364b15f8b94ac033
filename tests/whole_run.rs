//! Issue 19's whole-run check: the headline metrics of a small market with every mechanism on,
//! over 30 replications, agree with those of the previous build (tests/fixtures/whole-run-fixture.csv,
//! written by `scripts/whole-run-fixture.sh` from that build at the scenario's seed 1). This
//! build runs at seed 2, so the two samples are independent; each metric's difference of means
//! is judged by Welch's t against a Bonferroni bound for a family-wise error of 1%.

mod common;

use common::{cpsim, tmp, ROOT};
use std::collections::BTreeMap;

const SCENARIO: &str = "tests/fixtures/whole-run.toml";
const FIXTURE: &str = "tests/fixtures/whole-run-fixture.csv";
const FAMILY_ALPHA: f64 = 0.01;

/// erfc with fractional error below 1.2e-7 (Numerical Recipes' Chebyshev fit).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The z with two-sided normal tail `alpha`, by bisection.
fn normal_bound(alpha: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if erfc(mid / std::f64::consts::SQRT_2) > alpha {
            lo = mid
        } else {
            hi = mid
        }
    }
    lo
}

/// Student's t quantile from the normal one (Cornish-Fisher, good for df >= 10).
fn t_bound(z: f64, df: f64) -> f64 {
    z + (z.powi(3) + z) / (4.0 * df) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * df * df)
}

/// metric -> (n, mean, sd)
fn fixture() -> BTreeMap<String, (f64, f64, f64)> {
    let text = std::fs::read_to_string(format!("{ROOT}/{FIXTURE}")).expect("the fixture");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("metric,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let num = |i: usize| f[i].parse::<f64>().unwrap_or_else(|_| panic!("{FIXTURE}: bad line {l}"));
            (f[0].to_string(), (num(1), num(2), num(3)))
        })
        .collect()
}

#[test]
fn headline_metrics_agree_with_the_previous_build() {
    let old = fixture();
    let dir = tmp();
    cpsim().args(["run", SCENARIO, "--seed", "2", "--quiet", "--out"]).arg(dir.path()).assert().success();
    let csv = std::fs::read_to_string(dir.path().join("whole-run/replications.csv")).unwrap();
    let mut lines = csv.lines();
    let names: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() >= 30, "{} replications", rows.len());
    let compared: Vec<&str> = names[2..].iter().copied().filter(|n| old.contains_key(*n)).collect();
    assert!(compared.len() >= 20, "only {} metrics in common with the fixture", compared.len());
    let z = normal_bound(FAMILY_ALPHA / compared.len() as f64);
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for name in compared {
        let i = names.iter().position(|n| *n == name).unwrap();
        let x: Vec<f64> = rows.iter().filter_map(|r| r[i].parse().ok()).collect();
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        let v = x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1.0);
        let (n0, m0, sd0) = old[name];
        let (a, b) = (v / n, sd0 * sd0 / n0);
        let se = (a + b).sqrt();
        if se == 0.0 {
            // A metric no draw moves (e.g. ad money before its start date) must not move.
            if (m - m0).abs() > 1e-9 * m0.abs().max(1.0) {
                failed.push(format!("{name}: constant {m0} before, {m} now"));
            }
            continue;
        }
        // Welch-Satterthwaite degrees of freedom.
        let df = (a + b).powi(2) / (a * a / (n - 1.0) + b * b / (n0 - 1.0)).max(f64::MIN_POSITIVE);
        let bound = t_bound(z, df.max(10.0));
        let t = (m - m0) / se;
        report.push(format!("{name}: now {m:.6} before {m0:.6}, t {t:.2} (bound {bound:.2})"));
        if t.abs() > bound {
            failed.push(format!("{name}: mean {m} against {m0} before, t = {t:.2} beyond {bound:.2}"));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failed.is_empty(), "metrics that moved:\n{}", failed.join("\n"));
}

#[test]
fn the_bounds_are_right() {
    // Two-sided 5% and 1% normal bounds, and t at 60 degrees of freedom (2.000 and 2.660).
    assert!((normal_bound(0.05) - 1.959_964).abs() < 1e-4);
    assert!((normal_bound(0.01) - 2.575_829).abs() < 1e-4);
    assert!((t_bound(normal_bound(0.05), 60.0) - 2.000_298).abs() < 2e-3);
    assert!((t_bound(normal_bound(0.01), 60.0) - 2.660_283).abs() < 2e-3);
}
