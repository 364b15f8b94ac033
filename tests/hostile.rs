//! Hostile inputs and hostile conditions: names that try to break out of CSV cells and HTML,
//! file names that try to leave `--out`, absurd sizes, two runs on one folder, a run killed at
//! random moments, edge values of the model, and mutated scenario files (a proptest fuzzer).
//! See docs/HOSTILE.md.

mod common;

use common::{cpsim, text, tmp};
use cpsim::model::metrics::Flow;
use cpsim::model::sim::run_replication;
use cpsim::scenario;
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn bin_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("cpsim")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).expect("write a scenario");
    p
}

/// Rows of a CSV file as parsed by the csv crate (header included), checking each row has as
/// many fields as the header.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).expect("a CSV file");
    let rows: Vec<Vec<String>> =
        r.records().map(|x| x.expect("a well-formed CSV row").iter().map(str::to_owned).collect()).collect();
    let width = rows[0].len();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), width, "{}: row {i} has {} fields, header {width}", path.display(), row.len());
    }
    rows
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let k = rows[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name}"));
    rows[1..].iter().map(|r| r[k].clone()).collect()
}

/// No cell of a CSV file starts with a formula character.
fn assert_no_formula(path: &Path) {
    for row in csv_rows(path) {
        for cell in row {
            let bad = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err());
            assert!(!bad, "{}: cell {cell:?} would be read as a formula", path.display());
        }
    }
}

const TINY: &str = "[scenario]\ndays = 10\nreplications = 2\nseed = 7\n[platform]\nfeed_supply = 200_000\n\
                    [creators]\ncount = 200\n[operators]\ntitles = 12\n";

// ---------------------------------------------------------------------------------------------
// 1. Escaped outputs
// ---------------------------------------------------------------------------------------------

#[test]
fn csv_field_quotes_and_neutralises() {
    use cpsim::report::output::{csv_field, csv_param};
    assert_eq!(csv_field("novel"), "novel");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("=1+1"), "'=1+1");
    assert_eq!(csv_field("+1"), "'+1");
    assert_eq!(csv_field("-1"), "'-1");
    assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(csv_field("\tx"), "'\tx");
    assert_eq!(csv_field("\rx"), "\"'\rx\"");
    assert_eq!(csv_field("a\nb"), "\"a\nb\"");
    assert_eq!(csv_field(" x"), "\" x\"");
    assert_eq!(csv_field("=HYPERLINK(\"u\",\"a,b\")"), "\"'=HYPERLINK(\"\"u\"\",\"\"a,b\"\")\"");
    // Numbers we write keep their sign; strings are text.
    assert_eq!(csv_param(&toml::Value::Float(-0.5)), "-0.5");
    assert_eq!(csv_param(&toml::Value::Integer(-3)), "-3");
    assert_eq!(csv_param(&toml::Value::String("-3".into())), "'-3");
    assert_eq!(csv_param(&toml::Value::Boolean(true)), "true");
}

/// Category ids and names that are CSV and formula injections, a scenario name and a category
/// that are HTML injections: the CSV files parse to the same number of fields on every row, no
/// cell is a formula, the ids read back (neutralised), and report.html holds no raw markup.
#[test]
fn hostile_names_are_escaped_in_csv_and_html() {
    let d = tmp();
    let scen = r#"
[scenario]
name = "<script>alert(1)</script>"
categories = ["a,\"b\"\nc", "=1+1", "-2+3", "<b>x</b>"]
days = 6
replications = 2
seed = 3
[platform]
feed_supply = 200_000
[creators]
count = 150
[operators]
titles = 16
[categories."a,\"b\"\nc"]
base = "short_drama"
name = "=cmd|' /C calc'!A0"
share = 0.25
[categories."=1+1"]
base = "mini_game"
share = 0.25
[categories."-2+3"]
base = "novel"
share = 0.25
[categories."<b>x</b>"]
base = "novel"
share = 0.25
[[subsidies]]
name = "@SUM(1+1)*cmd|' /C calc'!A0"
form = "per_clip"
per_clip_rmb = 1
budget_rmb = 100
"#;
    let f = write(d.path(), "names.toml", scen);
    let out = d.path().join("out");
    let o = cpsim().args(["run", "--quiet", "--out"]).arg(&out).arg(&f).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let dir = out.join("names");
    let plans = csv_rows(&dir.join("plans.csv"));
    let cats: std::collections::BTreeSet<String> = column(&plans, "category").into_iter().collect();
    let allowed = ["a,\"b\"\nc", "'=1+1", "'-2+3", "<b>x</b>"];
    assert!(!cats.is_empty());
    for c in &cats {
        assert!(allowed.contains(&c.as_str()), "unexpected category cell {c:?}");
    }
    let daily = csv_rows(&dir.join("daily.csv"));
    let keys: std::collections::BTreeSet<String> = column(&daily, "key").into_iter().collect();
    for id in allowed {
        assert!(keys.contains(id), "daily.csv lacks key {id:?}: {keys:?}");
    }
    for f in ["plans.csv", "daily.csv", "creators.csv", "replications.csv", "plans_daily.csv"] {
        assert_no_formula(&dir.join(f));
    }
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!html.contains("<script>alert"), "raw script in report.html");
    assert!(!html.contains("<b>x</b>"), "raw markup in report.html");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name is shown, escaped");
    // JSON stays valid with the hostile names.
    let m: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["scenario"], "<script>alert(1)</script>");
}

/// String values of a sweep (here `scenario.name`) are text cells of sweep.csv.
#[test]
fn sweep_string_values_are_escaped() {
    let d = tmp();
    let scen = format!(
        "{TINY}[sweep]\nmode = \"zip\"\n\"scenario.name\" = [\"=HYPERLINK(\\\"http://x\\\",\\\"a,b\\\")\", \"a,b\", \"-2\"]\n\
         \"creators.count\" = [100, 120, 140]\n"
    );
    let f = write(d.path(), "sw.toml", &scen);
    let out = d.path().join("out");
    let o = cpsim().args(["run", "--quiet", "--reps", "1", "--out"]).arg(&out).arg(&f).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let rows = csv_rows(&out.join("sw/sweep.csv"));
    assert_eq!(rows.len(), 4);
    assert_eq!(
        column(&rows, "scenario.name"),
        vec!["'=HYPERLINK(\"http://x\",\"a,b\")".to_string(), "a,b".into(), "'-2".into()]
    );
    assert_eq!(column(&rows, "creators.count"), vec!["100", "120", "140"]);
    assert_no_formula(&out.join("sw/sweep.csv"));
}

/// File names whose stem could leave `--out` or hide a folder are refused before any work.
#[test]
fn stems_cannot_escape_out() {
    let d = tmp();
    let out = d.path().join("out");
    fs::create_dir_all(d.path().join("sub")).unwrap();
    write(d.path(), ".hidden.toml", TINY);
    for bad in ["..", "sub/..", ".", ".hidden.toml", "sub/."] {
        let o = cpsim().current_dir(d.path()).args(["run", "--quiet", "--out"]).arg(&out).arg(bad).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o.stderr));
        assert!(!text(&o.stderr).contains("panicked"));
    }
    assert!(!out.exists(), "nothing written for refused stems");
    // Only the scenario files and the sub folder: nothing escaped beside --out.
    let mut names: Vec<String> =
        fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    names.sort();
    assert_eq!(names, vec![".hidden.toml", "sub"]);
}

#[test]
fn control_characters_in_a_name_do_not_reach_the_terminal() {
    let d = tmp();
    let scen = TINY.replace("[scenario]\n", "[scenario]\nname = \"red\\u001b[31m\\rbell\\u0007\"\n");
    let f = write(d.path(), "ctl.toml", &scen);
    let o = cpsim().args(["run", "--out"]).arg(d.path().join("out")).arg(&f).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(!stdout.contains(['\u{1b}', '\r', '\u{7}']), "raw control characters printed: {stdout:?}");
    assert!(stdout.contains("red\\u{1b}[31m\\u{d}bell\\u{7}"), "the name is shown, escaped: {stdout:?}");
}

// ---------------------------------------------------------------------------------------------
// 2. Resource guards
// ---------------------------------------------------------------------------------------------

#[test]
fn a_billion_creators_is_refused() {
    let d = tmp();
    let f = write(d.path(), "big.toml", "[scenario]\nreplications = 100\n[creators]\ncount = 1_000_000_000\n");
    let o = cpsim()
        .env("CPSIM_MEMORY_BYTES", (8u64 << 30).to_string())
        .args(["run", "--out"])
        .arg(d.path().join("out"))
        .arg(&f)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("refusing to run") && err.contains("creators.count"), "{err}");
    assert!(err.contains("--force"), "{err}");
}

#[test]
fn a_sweep_of_more_than_ten_million_units_is_refused() {
    let d = tmp();
    let scen = format!("{TINY}[sweep]\n\"platform.feed_supply\" = {{ from = 100_000, to = 200_000, steps = 1000 }}\n");
    let f = write(d.path(), "huge.toml", &scen);
    let started = Instant::now();
    let o = cpsim()
        .args(["run", "--reps", "10001", "--out"])
        .arg(d.path().join("out"))
        .arg(&f)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("10001000 units"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30), "refused at once");
}

#[test]
fn force_overrides_the_guard() {
    let d = tmp();
    let f = write(d.path(), "t.toml", TINY);
    let out = d.path().join("out");
    // A machine with 1 MB: the tiny scenario is "too big"...
    let o = cpsim()
        .env("CPSIM_MEMORY_BYTES", "1000000")
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("memory"), "{}", text(&o.stderr));
    assert!(!out.join("t").exists());
    // ...and --force runs it anyway.
    let o = cpsim()
        .env("CPSIM_MEMORY_BYTES", "1000000")
        .args(["run", "--quiet", "--force", "--out"])
        .arg(&out)
        .arg(&f)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(out.join("t/summary.csv").is_file());
}

#[test]
fn guard_function_with_a_small_budget() {
    use cpsim::study::guard::{check, estimate};
    let d = tmp();
    let f = write(d.path(), "g.toml", TINY);
    let st = cpsim::study::sweep::load(&f, Default::default()).unwrap();
    let e = estimate(std::slice::from_ref(&st), 8);
    assert_eq!(e.units, 2);
    assert_eq!(e.concurrent, 2, "min(threads, units)");
    assert!(e.peak > 0.0 && e.peak < 1e9, "{e:?}");
    assert!(check(&e, 16 << 30).is_ok());
    let r = check(&e, (e.peak * 0.9) as u64).unwrap_err();
    assert!(r.to_string().contains("creators.count"), "{r}");
    // Moderately over: `guard(.., force = true)` does not check at all.
    assert!(cpsim::study::guard::guard(std::slice::from_ref(&st), 8, true).is_ok());
    // More threads than units do not count.
    assert_eq!(estimate(std::slice::from_ref(&st), 64).concurrent, 2);
}

// ---------------------------------------------------------------------------------------------
// 3. One run per output folder
// ---------------------------------------------------------------------------------------------

const SLOW: &str = "[scenario]\ndays = 60\nreplications = 4\nseed = 7\n[platform]\nfeed_supply = 2_000_000\n\
                    [creators]\ncount = 20_000\n[operators]\ntitles = 60\n";

#[test]
fn a_second_run_on_the_same_out_is_refused() {
    let d = tmp();
    let f = write(d.path(), "slow.toml", SLOW);
    let g = write(d.path(), "other.toml", TINY);
    let out = d.path().join("out");
    let mut first = std::process::Command::new(bin_path())
        .args(["run", "--quiet", "--threads", "1", "--out"])
        .arg(&out)
        .arg(&f)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lock = out.join(".cpsim.lock");
    let t0 = Instant::now();
    while !lock.exists() && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(lock.exists(), "the first run holds a lock");
    let o = cpsim().args(["run", "--quiet", "--out"]).arg(&out).arg(&g).output().unwrap();
    let still_running = first.try_wait().unwrap().is_none();
    let err = text(&o.stderr);
    if still_running {
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("another cpsim run") && err.contains(&first.id().to_string()), "{err}");
        assert!(!out.join("other").exists());
    }
    let status = first.wait().unwrap();
    assert!(status.success());
    assert!(still_running, "the first run ended before the second started: make SLOW slower");
    assert!(!lock.exists(), "the lock is removed at exit");
    // A failing run removes its lock too.
    let bad = write(d.path(), "bad.toml", "[scenario]\ndays = 5\n[creators]\ncount = 100\n[operators]\ntitles = 5\n");
    let o = cpsim()
        .env("CPSIM_MEMORY_BYTES", "1000")
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!lock.exists());
}

#[test]
fn a_stale_lock_of_a_dead_pid_is_taken_over() {
    let d = tmp();
    let f = write(d.path(), "t.toml", TINY);
    let out = d.path().join("out");
    fs::create_dir_all(&out).unwrap();
    // Beyond Linux's pid_max (4194304): never a live process.
    fs::write(out.join(".cpsim.lock"), "4999999\n").unwrap();
    let o = cpsim().args(["run", "--quiet", "--out"]).arg(&out).arg(&f).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!out.join(".cpsim.lock").exists());
}

// ---------------------------------------------------------------------------------------------
// 4. Crash-safe writes: SIGKILL at random moments
// ---------------------------------------------------------------------------------------------

const RESULT_FILES: [&str; 10] = [
    "summary.json",
    "summary.csv",
    "replications.csv",
    "daily.csv",
    "manifest.json",
    "creators.csv",
    "plans.csv",
    "plans_daily.csv",
    "report.html",
    "charts",
];

/// A result folder is complete: every file, a manifest that parses, as many rows of
/// replications.csv as the manifest says, every chart.
fn assert_complete(dir: &Path) {
    for f in RESULT_FILES {
        assert!(dir.join(f).exists(), "{}: {f} missing", dir.display());
    }
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).expect("manifest parses");
    let reps = m["replications"].as_u64().expect("replications");
    let rows = csv_rows(&dir.join("replications.csv"));
    assert_eq!(rows.len() as u64 - 1, reps, "{}", dir.display());
    for c in cpsim::report::charts::SCENARIO_CHARTS {
        let p = dir.join("charts").join(c);
        assert!(fs::metadata(&p).map(|m| m.len() > 0).unwrap_or(false), "{} missing", p.display());
    }
}

/// `out/<stem>` is either absent or complete; with a sweep, each `vNNN` likewise and sweep.csv
/// absent or with every variant.
fn assert_absent_or_complete(out: &Path, stem: &str, variants: usize) {
    let dir = out.join(stem);
    if !dir.exists() {
        return;
    }
    if variants == 0 {
        assert_complete(&dir);
        return;
    }
    for e in fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with('v') {
            assert_complete(&dir.join(&name));
        } else {
            // Sweep-level files: sweep.csv (renamed into place), the sweep's charts and page
            // (drawn in place after sweep.csv by charts::draw_sweep), hidden temporaries.
            let known = ["sweep.csv", "sweep.html", "charts"].contains(&name.as_str()) || name.starts_with('.');
            assert!(known, "unexpected {name} in {}", dir.display());
        }
    }
    if dir.join("sweep.csv").exists() {
        assert_eq!(csv_rows(&dir.join("sweep.csv")).len(), variants + 1);
    }
}

#[test]
fn killed_runs_leave_absent_or_complete_results() {
    let d = tmp();
    let plain = write(d.path(), "plain.toml", "[scenario]\ndays = 30\nburn_in_days = 0\nreplications = 3\nseed = 5\n[platform]\nfeed_supply = 500_000\n[creators]\ncount = 4_000\n[operators]\ntitles = 30\n");
    let sweep = write(
        d.path(),
        "swept.toml",
        "[scenario]\ndays = 15\nburn_in_days = 0\nreplications = 2\nseed = 5\n[platform]\nfeed_supply = 300_000\n[creators]\ncount = 600\n[operators]\ntitles = 20\n[sweep]\n\"creators.count\" = [400, 500, 600, 700]\n",
    );
    let out = d.path().join("out");
    let run = || {
        std::process::Command::new(bin_path())
            .args(["run", "--quiet", "--out"])
            .arg(&out)
            .arg(&plain)
            .arg(&sweep)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Measure a full run, then start afresh.
    let t0 = Instant::now();
    assert!(run().wait().unwrap().success());
    let full = t0.elapsed();
    assert_absent_or_complete(&out, "plain", 0);
    assert_absent_or_complete(&out, "swept", 4);
    fs::remove_dir_all(&out).unwrap();
    // Deterministic delays from a fixed seed (xorshift).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    // 21 kills take about 13 full runs: on a loaded machine a full run is slower, so the budget
    // scales with it instead of cutting the kills short.
    let budget = Duration::from_secs(32).max(full * 14);
    let started = Instant::now();
    let mut kills = 0;
    let (mut plain_present, mut variants_present, mut temps_seen) = (0, 0, 0);
    while kills < 21 && started.elapsed() < budget {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Up to 1.2 full runs, so that some runs finish and the next replaces their results.
        let delay = Duration::from_micros(x % (full.as_micros() as u64 * 12 / 10).max(1));
        // Every third run starts from an empty folder, so kills also land before any result
        // exists; the others find the previous results and replace them.
        if kills % 3 == 0 {
            let _ = fs::remove_dir_all(&out);
        }
        let mut child = run();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        kills += 1;
        assert_absent_or_complete(&out, "plain", 0);
        assert_absent_or_complete(&out, "swept", 4);
        plain_present += out.join("plain").exists() as usize;
        variants_present += fs::read_dir(out.join("swept"))
            .map(|r| r.flatten().filter(|e| e.file_name().to_string_lossy().starts_with('v')).count())
            .unwrap_or(0);
        temps_seen += [out.clone(), out.join("swept")]
            .iter()
            .flat_map(|d| fs::read_dir(d).into_iter().flatten().flatten())
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.contains(".tmp-") || n.contains(".old-")
            })
            .count();
        // The killed run's lock may remain; the next run takes it over (its pid is dead).
    }
    eprintln!(
        "killed {kills} runs (full run {full:?}): plain present after {plain_present}, {variants_present} variant \
         folders seen, {temps_seen} stale temporaries seen"
    );
    assert!(kills >= 20, "only {kills} kills in {budget:?} (a run takes {full:?})");
    // A run after the kills finishes, leaves everything complete and no temporary of a dead pid.
    assert!(run().wait().unwrap().success(), "a run after the kills succeeds");
    assert_absent_or_complete(&out, "plain", 0);
    assert_absent_or_complete(&out, "swept", 4);
    assert!(out.join("plain/summary.csv").exists() && out.join("swept/sweep.csv").exists());
    for dir in [out.clone(), out.join("swept")] {
        for e in fs::read_dir(&dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stale = name.contains(".tmp-") || name.contains(".old-") || name.contains("write-test");
            assert!(!stale, "stale {name} in {}", dir.display());
        }
    }
    assert!(!out.join(".cpsim.lock").exists());
}

// ---------------------------------------------------------------------------------------------
// 5. Edge values
// ---------------------------------------------------------------------------------------------

const EDGE_BASE: &str = "[scenario]\nseed = 11\nreplications = 1\n";

fn edge_case(days: u32, body: &str) -> String {
    format!("{EDGE_BASE}days = {days}\n{body}\n")
}

/// Scenario sections for each edge case; `[platform]`, `[creators]`, `[operators]` given by the
/// case or a small default.
fn edge_cases() -> Vec<(&'static str, String)> {
    let small = "[platform]\nfeed_supply = 100_000\n[creators]\ncount = 100\n[operators]\ntitles = 10\n";
    let cats = |extra: &str| format!("[categories.short_drama]\n{extra}\n[categories.mini_game]\n{extra}\n");
    let mut v: Vec<(&'static str, String)> = Vec::new();
    let mut add = |name: &'static str, days: u32, body: String| v.push((name, edge_case(days, &body)));
    for p in ["0.0", "1.0"] {
        add("p_pay", 20, format!("{small}{}", cats(&format!("p_pay = {p}"))));
        add("ctr", 20, format!("{small}{}", cats(&format!("ctr = {p}"))));
        add("refund", 20, format!("{small}{}", cats(&format!("refund = {p}"))));
        add("dropoff", 20, format!("{small}[wechat]\ndropoff = {p}\n{}", cats("wechat_share = 1.0")));
    }
    add("zero budget", 20, "[platform]\nfeed_supply = 100_000\n[creators]\ncount = 100\n[operators]\ntitles = 10\nbudget_median_rmb = 0\nunlimited_budget_share = 0\n".into());
    add("unlimited budgets", 20, "[platform]\nfeed_supply = 100_000\n[creators]\ncount = 100\n[operators]\ntitles = 10\nunlimited_budget_share = 1\n".into());
    add(
        "zero feed supply",
        20,
        "[platform]\nfeed_supply = 0\n[creators]\ncount = 100\n[operators]\ntitles = 10\n".into(),
    );
    add(
        "one creator",
        20,
        "[platform]\nfeed_supply = 100_000\n[creators]\ncount = 1\n[operators]\ntitles = 10\n".into(),
    );
    add(
        "zero creators",
        20,
        "[platform]\nfeed_supply = 100_000\n[creators]\ncount = 0\n[operators]\ntitles = 10\n".into(),
    );
    add(
        "zero titles",
        20,
        "[platform]\nfeed_supply = 100_000\n[creators]\ncount = 100\n[operators]\ntitles = 0\n".into(),
    );
    add(
        "no titles in a category",
        20,
        format!("{small}[categories.short_drama]\nshare = 0\n[categories.novel]\nshare = 1\n"),
    );
    add("1 day", 1, small.into());
    add(
        "3650 days",
        3650,
        "[platform]\nfeed_supply = 20_000\n[creators]\ncount = 20\n[operators]\ntitles = 3\n".into(),
    );
    add("commission rate 1", 20, format!("{small}{}", cats("commission_min = 1.0\ncommission_max = 1.0")));
    add(
        "everything 1",
        20,
        format!(
            "{small}[wechat]\ndropoff = 1.0\n{}",
            cats(
                "p_pay = 1.0\nctr = 1.0\nrefund = 1.0\ncommission_min = 1.0\ncommission_max = 1.0\nwechat_share = 0.5"
            )
        ),
    );
    v
}

#[test]
fn edge_values_run_and_the_ledger_adds_up() {
    let mut failures = Vec::new();
    for (name, text) in edge_cases() {
        let s = match scenario::parse(&text, "edge") {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: refused by validation: {e}\n--- input ---\n{text}"));
                continue;
            }
        };
        let r = match std::panic::catch_unwind(|| run_replication(&s, 0, true)) {
            Ok(r) => r,
            Err(_) => {
                failures.push(format!("{name}: PANIC\n--- input ---\n{text}"));
                continue;
            }
        };
        let t = &r.totals;
        eprintln!(
            "edge {name}: gmv {} fen, clips {}, opens {}, commission {} fen",
            t.get(Flow::Gmv),
            t.get(Flow::Clips),
            t.get(Flow::Opens),
            t.get(Flow::CommissionAccrued)
        );
        let rhs = t.get(Flow::Refunds)
            + t.get(Flow::PlatformFees)
            + t.get(Flow::CommissionAccrued)
            + t.get(Flow::OperatorNet);
        if t.get(Flow::Gmv) != rhs {
            failures.push(format!("{name}: gmv {} != {rhs}\n--- input ---\n{text}", t.get(Flow::Gmv)));
        }
        for (k, m) in r.metrics().iter().enumerate() {
            // Shares of nothing (gini of no earnings) may be NaN, which output writes as empty;
            // an infinity is a bug.
            if m.is_infinite() {
                failures.push(format!("{name}: metric {} is {m}", cpsim::model::metrics::METRICS[k].0));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// 6. Fuzzing: mutated scenario text through load, validate and a 1-day run
// ---------------------------------------------------------------------------------------------

/// Valid seeds for the mutations: every section of the format.
const SEEDS: [&str; 3] = [
    TINY,
    "[scenario]\nname = \"s\"\nstart_date = 2024-03-01\ndays = 5\nreplications = 1\nseed = 1\n\
     [platform]\nfeed_supply = 50_000\nfeed_growth = 0.05\nsettlement = \"weekly\"\nsettlement_delay_days = 3\n\
     [wechat]\ndropoff = 0.3\n[feed]\nlifetime_days = 5\ndecay = 0.5\n[creators]\ncount = 50\nposts_per_day = 0.5\n\
     [operators]\ntitles = 6\nlanding = \"choice\"\npolicy = \"target_clips\"\nbudget_median_rmb = 2000\n\
     [categories.short_drama]\nshare = 0.5\ncommission_min = 0.6\ncommission_max = 0.9\n\
     [categories.mini_game]\nshare = 0.5\nwechat_share = 0.4\n\
     [[subsidies]]\nname = \"bonus\"\nfrom = 2024-03-01\nto = 2024-03-04\ncategories = [\"mini_game\"]\n\
     budget_rmb = 100\nform = \"per_clip\"\nper_clip_rmb = 2\nfirst_clips = 2\n",
    "[scenario]\ndays = 3\nreplications = 1\n[creators]\ncount = 40\n[operators]\ntitles = 4\n\
     [platform]\nfeed_supply = 10_000\n[sweep]\nmode = \"zip\"\n\"creators.count\" = [10, 20]\n\"scenario.name\" = [\"a\", \"=b\"]\n",
];

const VALUES: [&str; 24] = [
    "0",
    "-1",
    "1",
    "0.5",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "1e-320",
    "4294967296",
    "9223372036854775807",
    "\"\"",
    "\"x\"",
    "true",
    "[]",
    "[1, 2]",
    "{}",
    "2024-02-30",
    "1979-05-27T07:32:00Z",
    "\"=1+1\"",
    "0.0",
    "100000000",
    "[\"novel\"]",
];

const KEYS: [&str; 20] = [
    "days",
    "replications",
    "seed",
    "count",
    "titles",
    "feed_supply",
    "share",
    "p_pay",
    "ctr",
    "refund",
    "commission_min",
    "commission_max",
    "lifetime_days",
    "posts_per_day",
    "budget_median_rmb",
    "start_date",
    "dropoff",
    "from",
    "to",
    "settlement_delay_days",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SetValue(usize, usize),
    AddKey(usize, usize, usize),
    Bytes(usize, Vec<u8>),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), 0..VALUES.len()).prop_map(|(l, v)| Mutation::SetValue(l, v)),
        (any::<usize>(), 0..KEYS.len(), 0..VALUES.len()).prop_map(|(l, k, v)| Mutation::AddKey(l, k, v)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..6)).prop_map(|(p, b)| Mutation::Bytes(p, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for m in muts {
        let n = lines.len().max(1);
        match m {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::SetValue(i, v) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if let Some(eq) = l.find('=') {
                    *l = format!("{} {}", &l[..=eq], VALUES[*v]);
                }
            }
            Mutation::AddKey(i, k, v) => lines.insert(i % (lines.len() + 1), format!("{} = {}", KEYS[*k], VALUES[*v])),
            Mutation::Bytes(p, b) => {
                let mut joined = lines.join("\n").into_bytes();
                let at = p % (joined.len() + 1);
                joined.splice(at..at, b.iter().copied());
                lines = String::from_utf8_lossy(&joined).lines().map(str::to_owned).collect();
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            _ => {}
        }
    }
    lines.join("\n") + "\n"
}

/// One fuzz case: load and validate through the same path as `cpsim run` (sweeps included); a
/// small valid scenario is run for one day. Returns whether it validated.
fn fuzz_one(text: &str) -> bool {
    let st = cpsim::study::sweep::load_text(text.to_owned(), "fuzz", Path::new("fuzz.toml"), Default::default());
    let Ok(st) = st else { return false };
    let _ = cpsim::study::guard::estimate(std::slice::from_ref(&st), 2);
    for v in st.variants.iter().take(2) {
        let mut s = v.scenario.clone();
        let small = s.creators.count <= 5_000
            && s.operators.titles <= 2_000
            && s.platform.feed_supply <= 1e7
            && s.creators.posts_per_day <= 10.0;
        if small {
            s.days = 1;
            let r = run_replication(&s, 0, true);
            let t = &r.totals;
            assert_eq!(
                t.get(Flow::Gmv),
                t.get(Flow::Refunds)
                    + t.get(Flow::PlatformFees)
                    + t.get(Flow::CommissionAccrued)
                    + t.get(Flow::OperatorNet),
                "ledger identity\n{text}"
            );
            let _ = cpsim::report::tables::render(&s, r.detail.as_ref().expect("detail"));
        }
    }
    true
}

fn fuzz_strategy() -> impl Strategy<Value = String> {
    (0..SEEDS.len(), prop::collection::vec(mutation(), 1..6)).prop_map(|(s, m)| apply(SEEDS[s], &m))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The CI-sized fuzzer.
    #[test]
    fn fuzz_small(text in fuzz_strategy()) {
        fuzz_one(&text);
    }
}

/// The long fuzzer: `FUZZ_SECONDS=600 cargo test --release --test hostile fuzz_long -- --ignored
/// --nocapture`. Runs cases until the time is up (or `PROPTEST_CASES` cases), catching panics so
/// that every crashing input is collected, and prints the counts.
#[test]
#[ignore]
fn fuzz_long() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let cases: u64 = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    let secs: u64 = std::env::var("FUZZ_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let started = Instant::now();
    let mut runner = TestRunner::new(Config { failure_persistence: None, ..Config::default() });
    let strategy = fuzz_strategy();
    let (mut ran, mut valid) = (0u64, 0u64);
    let mut crashes: Vec<String> = Vec::new();
    std::panic::set_hook(Box::new(|_| {}));
    while ran < cases && started.elapsed().as_secs() < secs {
        let text = strategy.new_tree(&mut runner).expect("a case").current();
        ran += 1;
        match std::panic::catch_unwind(|| fuzz_one(&text)) {
            Ok(true) => valid += 1,
            Ok(false) => {}
            Err(e) => {
                let msg =
                    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                crashes.push(format!("{}\n--- input ---\n{text}", msg.unwrap_or_default()));
            }
        }
    }
    let _ = std::panic::take_hook();
    println!(
        "fuzz_long: {ran} executions, {valid} validated, {} crashes, {:.0} s",
        crashes.len(),
        started.elapsed().as_secs_f64()
    );
    for c in crashes.iter().take(5) {
        println!("=== crash ===\n{c}");
    }
    assert!(crashes.is_empty(), "{} crashing inputs", crashes.len());
}
