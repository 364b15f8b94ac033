//! Sweeps, shards and resuming, through the binary: shard outputs merge into files byte-identical
//! to the unsharded run; a missing shard is refused by name; a rerun skips finished variants and
//! redoes changed ones.

mod common;

use common::{cpsim, tree};
use predicates::str::contains;
use std::fs;
use std::path::PathBuf;

const SWEEP: &str = r#"
[scenario]
days = 12
replications = 3
seed = 5
[creators]
count = 300
[operators]
titles = 10
[platform]
feed_supply = 300_000
[sweep]
"categories.short_drama.commission_max" = [0.6, 0.9]
"wechat.dropoff" = { from = 0.1, to = 0.5, steps = 2 }
"#;

fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("sw.toml");
    fs::write(&file, SWEEP).unwrap();
    (tmp, file)
}

#[test]
fn shards_merge_byte_identical_to_the_unsharded_run() {
    let (tmp, file) = setup();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    cpsim().args(["run", file.to_str().unwrap(), "--quiet", "--out", whole.to_str().unwrap()]).assert().success();
    let a = tree(&whole.join("sw"));
    assert!(a.contains_key("sweep.csv"));
    assert_eq!(a.keys().filter(|p| p.ends_with("summary.csv")).count(), 4, "2 x 2 grid");
    for k in 1..=3 {
        let shard = format!("{k}/3");
        cpsim()
            .args(["run", file.to_str().unwrap(), "--quiet", "--shard", &shard, "--out", parts.to_str().unwrap()])
            .assert()
            .success();
    }
    let shards = parts.join("sw.shards");
    cpsim().args(["merge", shards.to_str().unwrap(), "--quiet"]).assert().success();
    let b = tree(&parts.join("sw"));
    assert_eq!(a.len(), b.len());
    for ((pa, da), (pb, db)) in a.iter().zip(&b) {
        assert_eq!(pa, pb);
        assert!(da == db, "{pa} differs after merge");
    }
}

#[test]
fn a_failed_shard_is_named_and_a_rerun_of_it_completes_the_merge() {
    let (tmp, file) = setup();
    let (whole, parts) = (tmp.path().join("whole"), tmp.path().join("parts"));
    cpsim().args(["run", file.to_str().unwrap(), "--quiet", "--out", whole.to_str().unwrap()]).assert().success();
    for k in 1..=2 {
        let mut c = cpsim();
        c.args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--shard",
            &format!("{k}/2"),
            "--out",
            parts.to_str().unwrap(),
        ]);
        if k == 2 {
            c.env("CPSIM_FAIL_SHARD", "2").assert().code(2).stderr(contains("shard 2/2 failed"));
        } else {
            c.assert().success();
        }
    }
    let shards = parts.join("sw.shards");
    cpsim()
        .args(["merge", shards.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("missing shard(s) 2/2 (shard-2-of-2)"));
    assert!(!parts.join("sw").exists(), "a refused merge writes nothing");
    cpsim()
        .args(["run", file.to_str().unwrap(), "--quiet", "--shard", "2/2", "--out", parts.to_str().unwrap()])
        .assert()
        .success();
    cpsim().args(["merge", shards.to_str().unwrap(), "--quiet"]).assert().success();
    assert_eq!(tree(&whole.join("sw")), tree(&parts.join("sw")));
}

#[test]
fn a_rerun_skips_finished_variants_and_redoes_changed_ones() {
    let (tmp, file) = setup();
    let out = tmp.path().join("out");
    let run = || cpsim().args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap()]).assert().success();
    run().stderr(contains("12 replications run"));
    let before = tree(&out.join("sw"));
    // Half-done: one variant's folder lost.
    fs::remove_dir_all(out.join("sw").join("v002")).unwrap();
    run().stderr(contains("3 replications run"));
    assert_eq!(before, tree(&out.join("sw")), "a resumed sweep writes the same bytes");
    run().stderr(contains("0 replications run"));
    // A changed scenario is never mixed with old results: every variant is redone, and
    // variants it no longer has are removed.
    fs::write(&file, SWEEP.replace("seed = 5", "seed = 6").replace("steps = 2", "steps = 1")).unwrap();
    run().stderr(contains("6 replications run"));
    assert!(!out.join("sw").join("v003").exists());
    let sweep = fs::read_to_string(out.join("sw").join("sweep.csv")).unwrap();
    assert_eq!(sweep.lines().count(), 3);
}
