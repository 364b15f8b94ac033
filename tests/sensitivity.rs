//! End-to-end tests of `cpsim sensitivity`: the ranking CSV and tornado chart on a small market,
//! directions that hold by construction, byte-identical output at 1 and 2 threads, and bad input
//! (exit code 2, a message naming the key, nothing written).
//!
//! The market (`tests/fixtures/mechanical.toml`) has creators who do not react to money: plan
//! choice ignores expected revenue (softmax temperature of 1 000 000 RMB) and nobody churns or
//! enters; budgets are unlimited. With common random numbers, the low, baseline and high variants of a commission rate
//! then see the same clips, viewers and payments, and only the split of each payment changes:
//! commission settled is `floor(net * rate)` summed over the same payments, so its elasticity to
//! the rate is 1 up to rounding to the fen, and the platform fee (the commission base is revenue
//! net of fees) can only lower it. The whole file runs in a few seconds in release.

mod common;

use common::{cpsim, png_size, tmp};
use std::fs;
use std::path::Path;
use std::process::Output;

const MARKET: &str = "tests/fixtures/mechanical.toml";
const HEADER: &str =
    "parameter,value,low_value,high_value,metric,m_low,m_base,m_high,elasticity,ci95_low,ci95_high,rank,note";
const OUTCOMES: [&str; 4] = ["gmv", "commission_settled", "creators_paid", "operator_net"];

fn sensitivity(out: &Path, args: &[&str]) -> Output {
    cpsim().args(["sensitivity"]).args(args).arg("--out").arg(out).output().expect("cpsim runs")
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.expect("a folder entry").file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// The CSV rows as maps from column name to cell.
fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("sensitivity.csv reads");
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header.join(","), HEADER);
    r.records().map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(str::to_owned)).collect()).collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: `{s}`"))
}

#[test]
fn ranks_parameters_draws_a_tornado_and_is_thread_independent() {
    let (a, b) = (tmp(), tmp());
    let run2 = sensitivity(a.path(), &[MARKET, "--threads", "2"]);
    assert!(run2.status.success(), "stderr:\n{}", String::from_utf8_lossy(&run2.stderr));
    let run1 = sensitivity(b.path(), &[MARKET, "--threads", "1", "--quiet"]);
    assert!(run1.status.success(), "stderr:\n{}", String::from_utf8_lossy(&run1.stderr));
    assert!(run1.stdout.is_empty(), "--quiet printed to stdout");

    // The terminal ranking.
    let stdout = String::from_utf8_lossy(&run2.stdout);
    assert!(stdout.contains("rank  parameter"), "{stdout}");
    assert!(stdout.contains("categories.*.commission_*"), "{stdout}");
    assert!(stdout.contains("skipped operators.paid_traffic_rmb_per_day: zero in the baseline"), "{stdout}");

    // Only the result folder is left; it holds exactly its three files, byte-identical at any
    // thread count.
    assert_eq!(entries(a.path()), ["sensitivity-mechanical"]);
    let dir = a.path().join("sensitivity-mechanical");
    assert_eq!(entries(&dir), ["manifest.json", "sensitivity.csv", "tornado.png"]);
    for f in entries(&dir) {
        let other = b.path().join("sensitivity-mechanical").join(&f);
        assert!(fs::read(dir.join(&f)).unwrap() == fs::read(&other).unwrap(), "{f} differs at 1 and 2 threads");
    }

    // CSV shape: every parameter of the manifest once per outcome; ranks 1..k, then the skipped.
    let manifest: serde_json::Value = serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let params = manifest["parameters"].as_array().unwrap().len();
    assert!(params >= 25, "the default list has {params} parameters on this market");
    let rows = read_csv(&dir.join("sensitivity.csv"));
    assert_eq!(rows.len(), OUTCOMES.len() * params);
    for (k, metric) in OUTCOMES.iter().enumerate() {
        let block = &rows[k * params..(k + 1) * params];
        assert!(block.iter().all(|r| r["metric"] == *metric));
        let ranked: Vec<_> = block.iter().take_while(|r| !r["rank"].is_empty()).collect();
        assert!(ranked.len() >= 20, "{metric}: only {} ranked", ranked.len());
        assert!(block[ranked.len()..].iter().all(|r| r["rank"].is_empty() && !r["note"].is_empty()));
        let mut last = f64::INFINITY;
        for (i, r) in ranked.iter().enumerate() {
            assert_eq!(num(&r["rank"]), (i + 1) as f64);
            let (e, lo, hi) = (num(&r["elasticity"]), num(&r["ci95_low"]), num(&r["ci95_high"]));
            assert!(lo <= e + 1e-9 && e <= hi + 1e-9, "{metric} {}: {lo} {e} {hi}", r["parameter"]);
            assert!(e.abs() <= last + 1e-9, "{metric}: not sorted by |elasticity|");
            last = e.abs();
        }
    }
    let row = |p: &str, m: &str| rows.iter().find(|r| r["parameter"] == p && r["metric"] == m).unwrap();

    // By construction (see the top of this file): commission rates up 10%, commission settled up
    // 10%; platform fees up, commission settled down.
    let c = row("categories.*.commission_*", "commission_settled");
    let (e, lo) = (num(&c["elasticity"]), num(&c["ci95_low"]));
    assert!(e > 0.0 && lo > 0.0, "commission rate on commission settled: {e} [{lo}, ..]");
    assert!((e - 1.0).abs() < 0.05, "commission settled is proportional to the rate here, got {e}");
    assert!(num(&c["m_low"]) < num(&c["m_base"]) && num(&c["m_base"]) < num(&c["m_high"]));
    assert_eq!(c["value"].split(' ').count(), 12, "six categories x min and max");
    let f = row("categories.*.fee_*", "commission_settled");
    assert!(num(&f["elasticity"]) < 0.0 && num(&f["ci95_high"]) < 0.0, "fees on commission: {:?}", f);

    // Skipped and clamped parameters say why.
    let z = row("operators.paid_traffic_rmb_per_day", "gmv");
    assert!(z["rank"].is_empty() && z["elasticity"].is_empty() && z["note"].contains("zero"), "{z:?}");
    let w = row("categories.*.window_days", "gmv");
    assert!(w["note"].contains("rounded"), "{w:?}");

    // One PNG, three panels under one another.
    let (width, height) = png_size(&fs::read(dir.join("tornado.png")).unwrap());
    assert_eq!(width, 1200);
    assert!(height > 1200, "three panels, got height {height}");
}

#[test]
fn explicit_params_and_patterns() {
    let out = tmp();
    let o = sensitivity(
        out.path(),
        &[MARKET, "--params", "categories.short_drama.p_pay,creators.count", "--reps", "2", "--step", "0.2", "--quiet"],
    );
    assert!(o.status.success(), "stderr:\n{}", String::from_utf8_lossy(&o.stderr));
    let rows = read_csv(&out.path().join("sensitivity-mechanical").join("sensitivity.csv"));
    assert_eq!(rows.len(), 2 * OUTCOMES.len());
    let count = rows.iter().find(|r| r["parameter"] == "creators.count").unwrap();
    assert_eq!(
        (count["value"].as_str(), count["low_value"].as_str(), count["high_value"].as_str()),
        ("300", "240", "360")
    );
    let p = rows.iter().find(|r| r["parameter"] == "categories.short_drama.p_pay").unwrap();
    assert_eq!((p["low_value"].as_str(), p["high_value"].as_str()), ("0.04", "0.06"));
}

/// Asserts exit code 2, no panic, nothing written; returns stderr.
fn refused(args: &[&str]) -> String {
    let out = tmp();
    let o = sensitivity(out.path(), args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{args:?}: expected exit code 2\nstderr:\n{err}");
    assert!(!err.contains("panicked"), "{args:?}: panicked:\n{err}");
    assert!(entries(out.path()).is_empty(), "{args:?} wrote {:?}", entries(out.path()));
    err
}

#[test]
fn bad_input_exits_2_naming_the_key() {
    let err = refused(&[MARKET, "--params", "categories.short_drama.p_pya"]);
    assert!(err.contains("did you mean `categories.short_drama.p_pay`?"), "{err}");
    insta::with_settings!({
        description => "stderr of `cpsim sensitivity tests/fixtures/mechanical.toml --params categories.short_drama.p_pya`",
        omit_expression => true,
    }, {
        insta::assert_snapshot!("unknown_param", err);
    });
    let err = refused(&[MARKET, "--params", "creators.count,platform.feed_suply"]);
    assert!(err.contains("`platform.feed_suply`") && err.contains("did you mean `platform.feed_supply`?"), "{err}");
    let err = refused(&[MARKET, "--params", "platform.settlement"]);
    assert!(err.contains("`platform.settlement` is not a number"), "{err}");
    let err = refused(&[MARKET, "--params", "scenario.seed"]);
    assert!(err.contains("`scenario.seed`"), "{err}");
    let err = refused(&[MARKET, "--step", "1.5"]);
    assert!(err.contains("--step must be a share between 0 and 1"), "{err}");
    let err = refused(&[MARKET, "--reps", "0"]);
    assert!(err.contains("--reps"), "{err}");
    let err = refused(&["scenarios/sweep-commission.toml"]);
    assert!(err.contains("not a sweep"), "{err}");
    let err = refused(&["tests/fixtures/bad/probability_range.toml"]);
    assert!(err.contains("`categories.short_drama.p_pay`"), "{err}");
    let err = refused(&["tests/fixtures/no-such-file.toml"]);
    assert!(err.contains("no-such-file.toml"), "{err}");
}
