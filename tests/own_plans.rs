//! Own plans (`[[plans]]`): bad input is refused by key path and line (exit 2, no output, insta
//! snapshots); the generated market is drawn the same with and without own plans; a higher rate
//! with an unlimited budget draws more clips (paired); budgets are never exceeded and the
//! ledger identities hold to the fen on the own plans' rows; and the own-plan files are
//! byte-identical at 1 and 2 threads and across shards and merge.

mod common;

use common::{cpsim, text, tmp, tree};
use cpsim::model::metrics::{metric_value, stat, Flow, RepData};
use cpsim::model::own::{own_metric_index, OWN_METRICS};
use cpsim::scenario;
use cpsim::study::runner::run_rep;
use std::fs;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

fn bad_case(case: &str, must_contain: &[&str]) {
    let file = format!("tests/fixtures/own_plans/{case}.toml");
    let out = tmp();
    for cmd in [vec!["check", file.as_str()], vec!["run", file.as_str(), "--quiet", "--out"]] {
        let mut c = cpsim();
        c.args(&cmd);
        if cmd[0] == "run" {
            c.arg(out.path());
        }
        let o = c.output().unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: expected exit 2, got {:?}\n{err}", o.status);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(&file), "the message does not name {file}:\n{err}");
        for s in must_contain {
            assert!(err.contains(s), "the message for {file} lacks `{s}`:\n{err}");
        }
        assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0, "{cmd:?} wrote output");
        if cmd[0] == "check" {
            let err = err
                .lines()
                .map(|l| match l.find(", expected one of `") {
                    Some(i) => format!("{}, expected one of [the keys of this table]", &l[..i]),
                    None => l.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            insta::with_settings!({ description => format!("stderr of `cpsim check {file}`"), omit_expression => true }, {
                insta::assert_snapshot!(format!("bad_{case}"), err);
            });
        }
    }
}

#[test]
fn bad_end_before_start() {
    bad_case("end_before_start", &["line 11, column 7: `plans[0].end`", "2024-03-20"]);
}

#[test]
fn bad_unknown_category() {
    bad_case("unknown_category", &["line 7, column 12: `plans[0].category`", "did you mean \"short_drama\""]);
}

#[test]
fn bad_negative_budget() {
    bad_case("negative_budget", &["line 9, column 14: `plans[0].budget_rmb`", "got -5"]);
}

#[test]
fn bad_budget_word() {
    bad_case("budget_word", &["`plans[0].budget_rmb`", "did you mean \"unlimited\""]);
}

#[test]
fn bad_commission_range() {
    bad_case("commission_range", &["line 8, column 14: `plans[0].commission`", "between 0 and 1"]);
}

#[test]
fn bad_duplicate_name() {
    bad_case("duplicate_name", &["line 12, column 8: `plans[1].name`", "plans[0]"]);
}

#[test]
fn bad_missing_keys() {
    bad_case("missing_keys", &["4 invalid values", "`name`", "`category`", "`commission`", "`budget_rmb`"]);
}

#[test]
fn bad_unknown_key() {
    bad_case("unknown_key", &["line 8", "did you mean `commission`?"]);
}

#[test]
fn bad_outside_run() {
    bad_case("outside_run", &["`plans[0].start`", "never run"]);
}

#[test]
fn bad_name_with_dot() {
    bad_case("bad_name", &["`plans[0].name`", "must not contain"]);
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// A small market that launches titles through the run (so later generated titles come after
/// the own ones in the market's vectors) and lets creators enter.
const MARKET: &str = r#"
[scenario]
start_date = 2024-03-01
days = 30
replications = 3
seed = 7
[platform]
feed_supply = 300_000
[creators]
count = 500
entry_rate = 0.02
[operators]
titles = 20
"#;

fn with_plan(rate: f64, budget: &str, extra: &str) -> String {
    format!(
        "{MARKET}\n[[plans]]\nname = \"我的短剧\"\ncategory = \"short_drama\"\ncommission = {rate}\nbudget_rmb = {budget}\nstart = 2024-03-03\nend = 2024-03-25\n{extra}"
    )
}

fn run_dir(dir: &Path, text: &str, stem: &str, extra: &[&str]) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let file = dir.join(format!("{stem}.toml"));
    fs::write(&file, text).unwrap();
    let out = dir.join("out");
    cpsim()
        .args(["run", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
        .args(extra)
        .assert()
        .success();
    out.join(stem)
}

/// The given columns of a CSV file, for the rows that `keep` accepts.
fn columns(path: &Path, cols: &[&str], keep: impl Fn(&[&str]) -> bool) -> Vec<String> {
    let t = fs::read_to_string(path).unwrap();
    let mut lines = t.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx: Vec<usize> = cols.iter().map(|c| head.iter().position(|h| h == c).expect(c)).collect();
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| keep(f))
        .map(|f| idx.iter().map(|i| f[*i]).collect::<Vec<_>>().join(","))
        .collect()
}

#[test]
fn own_plans_leave_the_generated_market_drawn_the_same() {
    let dir = tmp();
    // Without a burn-in: with one, creators.csv lists the creators active on day 0 or paid
    // after it, and an own plan changes who is paid, so the list (not the draws) can differ.
    let no_burn_in = |t: &str| t.replace("seed = 7\n", "seed = 7\nburn_in_days = 0\n");
    let none = run_dir(&dir.path().join("a"), &no_burn_in(MARKET), "m", &[]);
    let own = run_dir(&dir.path().join("b"), &no_burn_in(&with_plan(0.7, "3000", "")), "m", &[]);
    let other = run_dir(&dir.path().join("c"), &no_burn_in(&with_plan(0.5, "\"unlimited\"", "")), "m", &[]);
    // What is drawn (not what happens after): titles, rates, budgets and dates of plans, and
    // creators' followers and entry days. Own plans come after the generated rows.
    let drawn = ["plan", "title", "category", "landing", "rate", "budget", "start_day", "end_day", "start_date"];
    let generated = |f: &[&str]| f.last() == Some(&"");
    let a = columns(&none.join("plans.csv"), &drawn, generated);
    let b = columns(&own.join("plans.csv"), &drawn, generated);
    let c = columns(&other.join("plans.csv"), &drawn, generated);
    assert!(a.len() > 20, "the market should launch plans during the run: {}", a.len());
    assert_eq!(a, b, "plans.csv's generated rows changed with an own plan");
    assert_eq!(a, c, "plans.csv's generated rows changed with the own plan's rate and budget");
    let own_rows =
        columns(&own.join("plans.csv"), &["plan", "rate", "budget", "start_date", "end_date"], |f| !generated(f));
    assert_eq!(own_rows, vec![format!("{},0.700000,3000.00,2024-03-03,2024-03-25", a.len())]);
    let creators = |d: &Path| columns(&d.join("creators.csv"), &["creator", "followers", "entry_day"], |_| true);
    let (ca, cb) = (creators(&none), creators(&own));
    // Entry responds to earnings, so the counts of entrants may differ; the creators both runs
    // have are the same creators.
    let n = ca.len().min(cb.len());
    assert!(n >= 500);
    assert_eq!(ca[..n], cb[..n], "creators.csv's followers changed with an own plan");
}

fn reps_of(text: &str, n: u32) -> Vec<RepData> {
    let s = scenario::parse(text, "t").unwrap();
    (0..n).map(|r| run_rep(&s, r)).collect()
}

#[test]
fn a_higher_rate_with_an_unlimited_budget_draws_more_clips() {
    let n = 8;
    let low = reps_of(&with_plan(0.2, "\"unlimited\"", ""), n);
    let high = reps_of(&with_plan(0.9, "\"unlimited\"", ""), n);
    let clips = |d: &RepData| metric_value(d, "plans.我的短剧.clips").unwrap();
    let diff: Vec<f64> = low.iter().zip(&high).map(|(a, b)| clips(b) - clips(a)).collect();
    let st = stat(&diff);
    assert!(st.lo > 0.0, "paired difference of clips (0.9 - 0.2): {st:?} from {diff:?}");
}

#[test]
fn budgets_hold_and_the_ledger_adds_up_to_the_fen_on_own_rows() {
    let text = with_plan(0.8, "500", "\n[[plans]]\nname = \"novel-2\"\ncategory = \"novel\"\ncommission = 0.5\nbudget_rmb = 200\nlanding = \"wechat\"\n");
    let reps = reps_of(&text, 3);
    let k = |m: &str| own_metric_index(m).unwrap();
    let mut ran_out = 0;
    for r in &reps {
        assert_eq!(r.own_plans.len(), 2);
        for (p, budget) in r.own_plans.iter().zip([500.0, 200.0]) {
            let m = |name: &str| p.metrics[k(name)].unwrap();
            assert!(m("budget_used") <= budget, "{}: used {} of {budget}", p.name, m("budget_used"));
            assert_eq!(m("budget_used"), m("commission_accrued"));
            ran_out += m("budget_ran_out") as u32;
            let mut t = cpsim::model::metrics::Flows::default();
            let mut days_in_square = 0;
            for f in &p.daily {
                t.absorb(f);
                // Identity of every day's split, to the fen.
                assert_eq!(
                    f.get(Flow::Gmv)
                        - f.get(Flow::Refunds)
                        - f.get(Flow::PlatformFees)
                        - f.get(Flow::CommissionAccrued),
                    f.get(Flow::OperatorNet),
                    "{}",
                    p.name
                );
                days_in_square += f.get(Flow::OpenPlans);
            }
            assert!(t.get(Flow::CommissionSettled) <= t.get(Flow::CommissionAccrued));
            assert!(days_in_square <= 23, "in the square only between its dates: {days_in_square}");
            assert_eq!(t.get(Flow::Clips) as f64, m("clips"));
        }
        // The own plans are part of the market: the market's totals contain them.
        let market_clips = metric_value(r, "clips").unwrap();
        let own: f64 = r.own_plans.iter().map(|p| p.metrics[k("clips")].unwrap()).sum();
        assert!(own > 0.0 && own <= market_clips);
    }
    assert!(ran_out > 0, "the small budgets should run out in some replication");
    assert_eq!(OWN_METRICS.len(), reps[0].own_plans[0].metrics.len());
    assert_eq!(metric_value(&reps[0], "plans.nobody.clips"), None);
    assert_eq!(metric_value(&reps[0], "plans.novel-2.no_such_metric"), None);
}

#[test]
fn own_plan_files_are_byte_identical_across_threads_and_shards() {
    let dir = tmp();
    let text = with_plan(0.7, "800", "paid_traffic_rmb_per_day = 20\n");
    let file = dir.path().join("m.toml");
    fs::write(&file, &text).unwrap();
    let run = |out: &str, extra: &[&str]| {
        let out = dir.path().join(out);
        cpsim()
            .args(["run", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
            .args(extra)
            .assert()
            .success();
        out.join("m")
    };
    let (one, two) = (run("t1", &["--threads", "1"]), run("t2", &["--threads", "2"]));
    let (a, b) = (tree(&one), tree(&two));
    assert!(a.contains_key("own_plans.csv"));
    assert!(a.contains_key("own_plans_daily.csv"));
    assert!(a.contains_key("charts/own_plan_0.png"));
    let report = fs::read_to_string(one.join("report.html")).unwrap();
    let (lead, summary) = (report.find("<h2>Your plans</h2>").unwrap(), report.find("<h2>Summary</h2>").unwrap());
    assert!(lead < summary && report.contains("id=\"own_plan_0\""), "the report leads with the own plans");
    assert_eq!(a, b, "output differs between 1 and 2 threads");
    let parts = dir.path().join("parts");
    for k in ["1/2", "2/2"] {
        cpsim()
            .args(["run", file.to_str().unwrap(), "--quiet", "--shard", k, "--out", parts.to_str().unwrap()])
            .assert()
            .success();
    }
    cpsim().args(["merge", parts.join("m.shards").to_str().unwrap(), "--quiet"]).assert().success();
    let merged = tree(&parts.join("m"));
    assert_eq!(a.keys().collect::<Vec<_>>(), merged.keys().collect::<Vec<_>>());
    for ((pa, da), (_, db)) in a.iter().zip(&merged) {
        assert!(da == db, "{pa} differs after merge");
    }
}

#[test]
fn sweeps_and_compare_carry_own_plan_metrics() {
    let dir = tmp();
    let sweep =
        format!("{}\n[sweep]\n\"plans.我的短剧.commission\" = [0.3, 0.8]\n", with_plan(0.5, "\"unlimited\"", ""));
    let out = run_dir(&dir.path().join("s"), &sweep, "sw", &[]);
    let csv = fs::read_to_string(out.join("sweep.csv")).unwrap();
    let head: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = head.iter().position(|h| *h == "plans.我的短剧.clips_mean").expect("own-plan columns in sweep.csv");
    assert_eq!(head[1], "plans.我的短剧.commission");
    let clips: Vec<f64> = csv.lines().skip(1).map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect();
    assert_eq!(clips.len(), 2);
    assert!(clips[1] > clips[0], "more clips at 0.8 than at 0.3: {clips:?}");
    // "My operator net against my rate" is one chart: the own plan's panels, ahead of the market's.
    let charts = out.join("charts");
    for f in ["sweep_1_own_1.png", "sweep_1.png"] {
        let png = fs::read(charts.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(common::png_size(&png).0, 1200, "{f}");
    }
    let html = fs::read_to_string(charts.join("sweep.html")).unwrap();
    let own = html.find("id=\"sweep_1_own_1\"").expect("own-plan chart on sweep.html");
    assert!(own < html.find("id=\"sweep_1\"").expect("market chart on sweep.html"), "own plan's chart first");
    assert!(
        html.contains("<th>Operator net (运营方净收入), own plan 我的短剧</th>"),
        "own plan's operator net in the table"
    );
    assert!(html.contains("operator net, clips, GMV and commission settled of own plan 我的短剧"));

    let a = dir.path().join("a.toml");
    let b = dir.path().join("b.toml");
    fs::write(&a, with_plan(0.3, "\"unlimited\"", "")).unwrap();
    fs::write(&b, with_plan(0.8, "\"unlimited\"", "")).unwrap();
    let cmp = dir.path().join("cmp");
    cpsim()
        .args(["compare", a.to_str().unwrap(), b.to_str().unwrap(), "--reps", "6", "--out", cmp.to_str().unwrap()])
        .assert()
        .success();
    let paired = fs::read_to_string(cmp.join("compare-a-vs-b").join("paired.csv")).unwrap();
    let row = paired.lines().find(|l| l.starts_with("plans.我的短剧.clips,")).expect("own-plan rows in paired.csv");
    let diff_lo: f64 = row.split(',').nth(5).unwrap().parse().unwrap();
    assert!(diff_lo > 0.0, "{row}");
}
