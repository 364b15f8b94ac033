//! `cpsim calibrate`, `forecast` and `synthesize` through the binary: byte-identical posteriors
//! at 1 and 2 threads, a stopped calibration resumed to the bytes of an uninterrupted one, a
//! small parameter recovery with fixed seeds, a paired forecast, and every kind of bad observed
//! file refused with its file, line and column (exit 2, nothing written).

mod common;

use common::{cpsim, text, tmp, tree, ROOT};
use std::path::Path;

const SMALL: &str = "tests/fixtures/calibrate/small.toml";
const TINY: &str = "tests/fixtures/calibrate/tiny.toml";
const OBS: &str = "tests/fixtures/calibrate/observed-14.csv";

fn calibrate(file: &str, out: &Path, extra: &[&str], env: Option<(&str, &str)>) -> std::process::Output {
    let mut cmd = cpsim();
    cmd.args(["calibrate", file, "--observed", OBS, "--quiet", "--out"]).arg(out).args(extra);
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Runs every shard of the next batch (one after the other, as array tasks would), then merges;
/// until the merge says the calibration is finished. Returns the merges' messages.
fn sharded(file: &str, out: &Path, n: u32) -> Vec<String> {
    let mut said = Vec::new();
    for _round in 0..40 {
        for k in 1..=n {
            let o = calibrate(file, out, &["--threads", "1", "--shard", &format!("{k}/{n}")], None);
            assert!(o.status.success(), "shard {k}/{n}: {}", text(&o.stderr));
        }
        let m = cpsim().args(["calibrate", file, "--observed", OBS, "--merge", "--out"]).arg(out).output().unwrap();
        assert!(m.status.success(), "merge: {}", text(&m.stderr));
        let t = text(&m.stdout);
        said.push(t.lines().next().unwrap_or_default().to_owned());
        if t.contains("the calibration is finished") {
            return said;
        }
        assert!(t.contains("run the shards again"), "{t}");
    }
    panic!("no end after 40 rounds of shards: {said:?}");
}

#[test]
fn posterior_is_byte_identical_at_one_and_two_threads_and_in_shards() {
    let (a, b, c) = (tmp(), tmp(), tmp());
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let o = calibrate(SMALL, dir.path(), &["--threads", threads], None);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    // Three shards a batch, merged batch by batch: some generations need more than one batch.
    let said = sharded(SMALL, c.path(), 3);
    assert!(said.iter().any(|l| l.contains("particles accepted after 1 batch")), "{said:?}");
    assert!(!c.path().join("calibrate-small.shards").exists(), "merged parts were left behind");
    let (fa, fb) = (tree(&a.path().join("calibrate-small")), tree(&b.path().join("calibrate-small")));
    let fc = tree(&c.path().join("calibrate-small"));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fc.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fc[name], "{name} differs between a run in shards and one without");
    }
    for name in [
        "posterior.csv",
        "summary.csv",
        "tolerance.csv",
        "fit.csv",
        "calibrated.toml",
        "charts/pairs.png",
        "index.html",
    ] {
        assert!(fa.contains_key(name), "{name} missing");
    }
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between 1 and 2 threads");
    }
    let tol = String::from_utf8(fa["tolerance.csv"].clone()).unwrap();
    assert_eq!(tol.lines().count(), 4, "three generations:\n{tol}");
}

#[test]
fn a_stopped_calibration_resumes_to_the_same_bytes() {
    let (whole, parts) = (tmp(), tmp());
    let o = calibrate(SMALL, whole.path(), &[], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stopped = calibrate(SMALL, parts.path(), &[], Some(("CPSIM_STOP_AFTER_GENERATION", "1")));
    assert_eq!(stopped.status.code(), Some(130), "{}", text(&stopped.stderr));
    assert!(text(&stopped.stderr).contains("interrupted after generation 1"), "{}", text(&stopped.stderr));
    assert!(parts.path().join("calibrate-small.state.json").is_file(), "state saved");
    assert!(!parts.path().join("calibrate-small").exists(), "no result folder from a stopped run");
    let resumed = cpsim().args(["calibrate", SMALL, "--observed", OBS, "--out"]).arg(parts.path()).output().unwrap();
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    // The resumed run simulates only generations 1 and 2.
    let err = text(&resumed.stderr);
    assert!(!err.contains("generation 0 done"), "generation 0 was run again:\n{err}");
    assert!(err.contains("generation 2 done"), "{err}");
    let (fw, fp) = (tree(&whole.path().join("calibrate-small")), tree(&parts.path().join("calibrate-small")));
    assert_eq!(fw.keys().collect::<Vec<_>>(), fp.keys().collect::<Vec<_>>());
    for (name, bytes) in &fw {
        assert!(bytes == &fp[name], "{name} differs between a resumed and an uninterrupted run");
    }
}

/// Parameter recovery at CI scale: data made by cpsim from known values (tiny.toml's own), a
/// calibration from wide priors with fixed seeds; each true value must lie in its 90% interval
/// and every interval must be narrower than its prior.
#[test]
fn recovers_known_parameters() {
    let out = tmp();
    let o = calibrate(TINY, out.path(), &[], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let summary = std::fs::read_to_string(out.path().join("calibrate-tiny/summary.csv")).unwrap();
    let truth = [
        ("creators.posts_per_day", 0.6),
        ("platform.feed_supply", 300_000.0),
        ("categories.short_drama.ctr", 0.02),
        ("categories.short_drama.p_pay", 0.05),
    ];
    for (key, value) in truth {
        let row: Vec<&str> = summary.lines().find(|l| l.starts_with(key)).unwrap().split(',').collect();
        let (lo, hi, width): (f64, f64, f64) =
            (row[5].parse().unwrap(), row[6].parse().unwrap(), row[7].parse().unwrap());
        assert!(lo <= value && value <= hi, "{key}: truth {value} outside the 90% interval {lo} to {hi}\n{summary}");
        assert!(width < 0.95, "{key}: the posterior is as wide as the prior\n{summary}");
    }
}

#[test]
fn forecast_pairs_decisions_on_the_same_draws() {
    let out = tmp();
    let o = calibrate(SMALL, out.path(), &[], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let dir = out.path().join("calibrate-small");
    let f = cpsim().args(["forecast", "--quiet", "--days", "10", "--draws", "6"]).arg(&dir).output().unwrap();
    assert!(f.status.success(), "{}", text(&f.stderr));
    let fdir = out.path().join("forecast-small");
    let csv = std::fs::read_to_string(fdir.join("forecast.csv")).unwrap();
    // 5 series x 2 decisions x (14 observed + 10 forecast days), and a header.
    assert_eq!(csv.lines().count(), 1 + 5 * 2 * 24);
    let paired = std::fs::read_to_string(fdir.join("paired.csv")).unwrap();
    let imp: Vec<&str> = paired.lines().find(|l| l.starts_with("market.impressions,")).unwrap().split(',').collect();
    assert_eq!(imp[1], "feed 450 000");
    assert!(fdir.join("charts/fan-market.gmv.png").is_file());
    // A decision takes effect on the first day past the data: over the 14 observed days both
    // decisions replay the same market, after them the larger feed shows.
    let bands = |decision: &str, series: &str| -> Vec<String> {
        let lead = format!("{series},{decision},");
        csv.lines().filter(|l| l.starts_with(&lead)).map(|l| l.splitn(5, ',').nth(4).unwrap().to_string()).collect()
    };
    let (same, more) = (bands("as calibrated", "market.impressions"), bands("feed 450 000", "market.impressions"));
    assert_eq!(same[..14], more[..14], "the observed window differs between decisions");
    assert_ne!(same[14..], more[14..], "the decision changed nothing");
    // A decision from the first forecast day cannot change what the market is built with.
    let text_of = std::fs::read_to_string(dir.join("calibrated.toml")).unwrap();
    let bent = text_of.replace("\"platform.feed_supply\" = 450000.0", "\"creators.count\" = 500");
    assert_ne!(bent, text_of, "the fixture's decision line moved");
    let bad = tmp();
    let bad_dir = bad.path().join("calibrate-small");
    std::fs::create_dir(&bad_dir).unwrap();
    for f in ["posterior.csv", "observed.csv"] {
        std::fs::copy(dir.join(f), bad_dir.join(f)).unwrap();
    }
    std::fs::write(bad_dir.join("calibrated.toml"), &bent).unwrap();
    let b =
        cpsim().args(["forecast", "--quiet", "--draws", "2", "--out"]).arg(bad.path()).arg(&bad_dir).output().unwrap();
    assert_eq!(b.status.code(), Some(2), "{}", text(&b.stderr));
    let err = text(&b.stderr);
    assert!(
        err.contains("forecast.decisions[1]") && err.contains("creators.count") && err.contains("from = \"start\""),
        "{err}"
    );
    assert!(!bad.path().join("forecast-small").exists(), "no output from a refused forecast");
    // Same bytes at another thread count.
    let again = tmp();
    let g = cpsim()
        .args(["forecast", "--quiet", "--days", "10", "--draws", "6", "--threads", "1", "--out"])
        .arg(again.path())
        .arg(&dir)
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", text(&g.stderr));
    let (fa, fb) = (tree(&fdir), tree(&again.path().join("forecast-small")));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between 1 thread and all");
    }
}

#[test]
fn synthesize_writes_a_labelled_observed_file() {
    let o = cpsim().args(["synthesize", TINY, "--series", "market.gmv,market.clips", "--days", "3"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let t = text(&o.stdout);
    assert!(t.starts_with("# SYNTHETIC DATA"), "{t}");
    assert_eq!(t.lines().filter(|l| !l.starts_with('#')).count(), 4);
}

/// Each committed synthetic observed file is what its header's command makes with this build,
/// so that a change of the streams cannot leave one stale without failing here.
#[test]
fn committed_observed_files_are_this_builds() {
    for file in [OBS, "scenarios/calibrate-my-plan.observed.csv"] {
        let committed = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        let header = committed.lines().nth(1).unwrap_or_default();
        let command = header.split('`').nth(1).unwrap_or_default();
        let args: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(args.first(), Some(&"cpsim"), "{file}: no command in its header: {header}");
        let o = cpsim().current_dir(ROOT).args(&args[1..]).output().unwrap();
        assert!(o.status.success(), "{file}: {}", text(&o.stderr));
        assert!(text(&o.stdout) == committed, "{file} is not what `{command}` makes now: re-make it");
    }
}

/// Bad shard input: K above N, a merge with a shard missing, a part of another calibration (other
/// seed) or of another shard count; each exit 2 with a message naming the shard, state untouched.
#[test]
fn bad_shards_are_refused() {
    let out = tmp();
    let o = calibrate(SMALL, out.path(), &["--shard", "4/3"], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("need 1 <= K <= N"), "{}", text(&o.stderr));
    let merge =
        || cpsim().args(["calibrate", SMALL, "--observed", OBS, "--merge", "--out"]).arg(out.path()).output().unwrap();
    let m = merge();
    assert_eq!(m.status.code(), Some(2), "{}", text(&m.stderr));
    assert!(text(&m.stderr).contains("no shard parts"), "{}", text(&m.stderr));
    let o = calibrate(SMALL, out.path(), &["--shard", "1/2"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let m = merge();
    assert_eq!(m.status.code(), Some(2), "{}", text(&m.stderr));
    assert!(text(&m.stderr).contains("missing shard(s) 2/2 (shard-2-of-2.json)"), "{}", text(&m.stderr));
    // Shard 2 of another seed: another calibration.
    let o = calibrate(SMALL, out.path(), &["--shard", "2/2", "--seed", "99"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let m = merge();
    assert_eq!(m.status.code(), Some(2), "{}", text(&m.stderr));
    let err = text(&m.stderr);
    assert!(err.contains("shard-2-of-2.json") && err.contains("another calibration"), "{err}");
    // A part of another shard count beside them.
    std::fs::remove_file(out.path().join("calibrate-small.shards/shard-2-of-2.json")).unwrap();
    let o = calibrate(SMALL, out.path(), &["--shard", "3/3"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let m = merge();
    assert_eq!(m.status.code(), Some(2), "{}", text(&m.stderr));
    assert!(text(&m.stderr).contains("a shard of 3 beside shards of 2"), "{}", text(&m.stderr));
    assert!(!out.path().join("calibrate-small.state.json").exists(), "a refused merge wrote the state");
    assert!(!out.path().join("calibrate-small").exists(), "a refused merge wrote results");
}

fn refused(file: &str, observed: &str) -> String {
    let out = tmp();
    let o = cpsim().args(["calibrate", file, "--observed", observed, "--out"]).arg(out.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "exit 2 for {observed}: {}", text(&o.stderr));
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none(), "nothing written for {observed}");
    text(&o.stderr)
}

#[test]
fn bad_observed_files_name_file_line_and_column() {
    for case in ["not-a-number", "unknown-metric", "outside-calendar", "out-of-order", "short-row", "unknown-category"]
    {
        let path = format!("tests/fixtures/calibrate/bad/{case}.csv");
        let err = refused(SMALL, &path);
        assert!(err.contains(&path), "{err}");
        insta::with_settings!({ description => format!("stderr of `cpsim calibrate {SMALL} --observed {path}`"), omit_expression => true }, {
            insta::assert_snapshot!(format!("observed_{case}"), err);
        });
    }
    let err = refused(SMALL, "tests/fixtures/calibrate/no-such-file.csv");
    assert!(err.contains("cannot read observed data file tests/fixtures/calibrate/no-such-file.csv"), "{err}");
}

#[test]
fn bad_calibrate_table_names_every_key() {
    let err = refused("tests/fixtures/calibrate/bad-config.toml", OBS);
    insta::with_settings!({ description => "stderr of `cpsim calibrate tests/fixtures/calibrate/bad-config.toml`", omit_expression => true }, {
        insta::assert_snapshot!("calibrate_bad_config", err);
    });
}
