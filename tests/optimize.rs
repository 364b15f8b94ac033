//! End-to-end tests of `cpsim optimize` on a small market (`tests/fixtures/optimize/rate.toml`):
//! it finds the rate a fine grid with many replications calls best, within a stated tolerance
//! and at fewer than half the grid's runs; its folder is byte-identical at 1 and 2 threads and
//! after an interruption and resume; its best decision runs with `cpsim run`; bad tables exit 2
//! with the key path and line (insta snapshots).

mod common;

use common::{cpsim, png_size, text, tmp};
use std::fs;
use std::path::Path;
use std::process::Output;

const MARKET: &str = "tests/fixtures/optimize/rate.toml";
const KEY: &str = "categories.short_drama.commission_max";

fn optimize(out: &Path, args: &[&str]) -> Output {
    cpsim().args(["optimize", MARKET, "--quiet", "--out"]).arg(out).args(args).output().expect("cpsim runs")
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

/// (value, mean) of `column` per row of a CSV, by header name.
fn column(csv: &str, x: &str, y: &str) -> Vec<(f64, f64)> {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (ix, iy) = (head.iter().position(|h| *h == x).unwrap(), head.iter().position(|h| *h == y).unwrap());
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[ix].parse().unwrap(), f[iy].parse().unwrap())
        })
        .collect()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Proof point: the answer a full grid gives. The reference is a `cpsim run` sweep (other code)
/// of the same 19 rates, 24 replications each, on the same seeds. The race must pick a rate
/// within 0.05 (one resolution step) of the grid's best, whose grid mean is within 2% of the
/// grid's best mean, and spend at most half the grid's 19 x 24 = 456 runs.
#[test]
fn finds_the_rate_a_fine_grid_calls_best_at_half_the_runs() {
    let dir = tmp();
    let rates: Vec<String> = (1..=19).map(|k| format!("{:.2}", 0.05 * k as f64)).collect();
    let list = rates.join(", ");
    let base = fs::read_to_string(Path::new(common::ROOT).join(MARKET)).unwrap();
    let market = base.split("[optimize]").next().unwrap();
    let sweep = format!(
        "{market}[sweep]\nmode = \"zip\"\n\"{KEY}\" = [{list}]\n\"categories.short_drama.commission_min\" = [{list}]\n"
    );
    let file = dir.path().join("grid.toml");
    fs::write(&file, sweep).unwrap();
    let run = cpsim().args(["run", "--quiet", "--reps", "24", "--out"]).arg(dir.path()).arg(&file).output().unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    let grid = column(&fs::read_to_string(dir.path().join("grid/sweep.csv")).unwrap(), KEY, "operator_net_mean");
    let (x_star, y_star) = grid.iter().copied().fold((0.0, f64::NEG_INFINITY), |b, p| if p.1 > b.1 { p } else { b });

    let out = optimize(dir.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let res = dir.path().join("optimize-rate");
    let m = manifest(&res);
    let best: f64 = m["best"]["values"][0]["value"].as_str().unwrap().parse().unwrap();
    let y_best = grid.iter().find(|p| (p.0 - best).abs() < 1e-9).expect("the best is a grid rate").1;
    assert!((best - x_star).abs() <= 0.05 + 1e-9, "race picked {best}, the grid {x_star}");
    assert!(y_best >= y_star - 0.02 * y_star.abs(), "race's pick has grid mean {y_best}, the best {y_star}");
    let used = m["runs_used"].as_u64().unwrap();
    assert!(used * 2 <= 19 * 24, "the race used {used} runs, more than half of the grid's 456");
    assert!(interior(x_star), "the test market's optimum is at an edge ({x_star}): it proves little");
}

fn interior(x: f64) -> bool {
    x > 0.1 && x < 0.9
}

/// Byte-identical at 1 and 2 threads, and after an interruption resumed (at 2 threads); the
/// folder holds exactly the promised files; the best decision runs with `cpsim run`.
#[test]
fn deterministic_resumable_and_its_best_runs() {
    let (a, b) = (tmp(), tmp());
    let out = optimize(a.path(), &["--threads", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let interrupted = cpsim()
        .args(["optimize", MARKET, "--threads", "2", "--out"])
        .arg(b.path())
        .env("CPSIM_OPTIMIZE_STOP_AFTER", "2")
        .output()
        .unwrap();
    assert_eq!(interrupted.status.code(), Some(130), "{}", text(&interrupted.stderr));
    assert!(!b.path().join("optimize-rate").exists(), "an interrupted run wrote its result folder");
    let state = b.path().join("optimize-rate.state.json");
    assert!(state.is_file(), "no state saved after the rounds that ran");
    let resumed = cpsim().args(["optimize", MARKET, "--threads", "2", "--out"]).arg(b.path()).output().unwrap();
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert!(text(&resumed.stderr).contains("resumed from"), "{}", text(&resumed.stderr));
    assert!(!state.exists(), "the state outlived a finished run");
    let (fa, fb) = (files(&a.path().join("optimize-rate")), files(&b.path().join("optimize-rate")));
    let names: Vec<&str> = fa.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        ["candidates.csv", "manifest.json", "optimize.csv", "optimize.html", "optimize.png", "rate-best.toml"]
    );
    for (x, y) in fa.iter().zip(&fb) {
        assert!(x == y, "{} differs between 1 thread and 2 threads resumed", x.0);
    }
    let png = &fa.iter().find(|f| f.0 == "optimize.png").unwrap().1;
    assert_eq!(png_size(png), (1200, 800));

    // The best decision is a scenario `cpsim run` takes, with the best value set.
    let res = a.path().join("optimize-rate");
    let best = manifest(&res)["best"]["values"][0]["value"].as_str().unwrap().to_owned();
    let toml = fs::read_to_string(res.join("rate-best.toml")).unwrap();
    assert!(toml.contains(&format!("commission_max = {best}")), "{toml}");
    assert!(toml.contains(&format!("commission_min = {best}")), "{toml}");
    assert!(!toml.contains("[optimize"), "{toml}");
    let run = cpsim()
        .args(["run", "--quiet", "--reps", "2", "--out"])
        .arg(a.path())
        .arg(res.join("rate-best.toml"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(a.path().join("rate-best/summary.csv").is_file());

    // Every candidate but the best has its paired difference and share of wins.
    let cands = fs::read_to_string(res.join("candidates.csv")).unwrap();
    for line in cands.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let is_best = f.last() == Some(&"best");
        assert_eq!(f[7].is_empty(), is_best, "{line}");
        assert_eq!(f[10].is_empty(), is_best, "{line}");
    }
}

/// Bad `[optimize]` tables: exit 2, the file, the key path and line, no result.
#[test]
fn bad_tables_name_the_key() {
    for case in [
        "bad_unknown_key",
        "bad_objective",
        "bad_range",
        "bad_candidate",
        "bad_constraint",
        "bad_budget",
        "bad_missing",
        "bad_plan_metric",
    ] {
        let out = tmp();
        let file = format!("tests/fixtures/optimize/{case}.toml");
        let r = cpsim().args(["optimize", &file, "--quiet", "--out"]).arg(out.path()).output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{case}: {}", text(&r.stderr));
        let err = text(&r.stderr);
        assert!(err.contains(&file), "{case}: {err}");
        assert!(!err.contains("panicked"), "{case}: {err}");
        let left: Vec<_> =
            fs::read_dir(out.path()).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
        assert!(left.is_empty(), "{case} left {left:?}");
        insta::with_settings!({ description => format!("stderr of `cpsim optimize {file}`"), omit_expression => true }, {
            insta::assert_snapshot!(format!("optimize_{case}"), err);
        });
    }
}

/// Three variables (`tests/fixtures/optimize/three.toml`): CMA-ES on paired estimates, then a
/// race of its finalists. Byte-identical at 1 thread and at 2 threads stopped and resumed; the
/// runs stay within the budget; the best decision is a scenario `cpsim run` takes. (Its known
/// answer is checked on a smooth objective through the same search, in the unit tests of
/// src/study/optimize/evolve.rs.)
#[test]
fn three_variables_by_cmaes_deterministic_resumable_within_budget() {
    const THREE: &str = "tests/fixtures/optimize/three.toml";
    let (a, b) = (tmp(), tmp());
    let out = cpsim().args(["optimize", THREE, "--quiet", "--threads", "1", "--out"]).arg(a.path()).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stopped = cpsim()
        .args(["optimize", THREE, "--threads", "2", "--out"])
        .arg(b.path())
        .env("CPSIM_OPTIMIZE_STOP_AFTER", "2")
        .output()
        .unwrap();
    assert_eq!(stopped.status.code(), Some(130), "{}", text(&stopped.stderr));
    let resumed = cpsim().args(["optimize", THREE, "--threads", "2", "--out"]).arg(b.path()).output().unwrap();
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert!(text(&resumed.stderr).contains("resumed from"), "{}", text(&resumed.stderr));
    let (fa, fb) = (files(&a.path().join("optimize-three")), files(&b.path().join("optimize-three")));
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        assert!(x == y, "{} differs between 1 thread and 2 threads resumed", x.0);
    }
    let res = a.path().join("optimize-three");
    let m = manifest(&res);
    assert!(m["method"].as_str().unwrap().starts_with("cmaes"), "{m}");
    assert!(m["runs_used"].as_u64().unwrap() <= 120, "{m}");
    assert_eq!(m["best"]["values"].as_array().unwrap().len(), 3);
    let cands = fs::read_to_string(res.join("candidates.csv")).unwrap();
    assert!(cands.lines().count() > 8, "a few CMA-ES generations:\n{cands}");
    let run = cpsim()
        .args(["run", "--quiet", "--reps", "1", "--out"])
        .arg(a.path())
        .arg(res.join("three-best.toml"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
}
