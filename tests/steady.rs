//! A market already running on day 0 (issue 18, docs/VALIDATION.md "A market already running"):
//! on the 2024 baseline at CI scale, the means a day of GMV, opens and commission settled over
//! days 0-20 are within 10% of days 60-89, and each category's share of clips in week 1 is within
//! 20% of week 12's; each tolerance is widened by the sampling error of the difference (3 standard
//! errors over the replications). The same checks fail on the empty market (`burn_in_days = 0`),
//! so they can fail.

use cpsim::model::metrics::{Flow, Flows};
use cpsim::model::sim::run_replication;
use cpsim::scenario::{self, Scenario};
use rayon::prelude::*;
use std::path::Path;

/// Half the episodes' baseline (5 000 creators, 50 titles, 5 000 000 impressions a day: the same
/// supply per creator and creators per title), 4 replications.
const SCALE: f64 = 0.5;
const REPS: u32 = 4;

fn baseline(burn_in_days: u32) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/episodes/baseline-2024.toml");
    let mut doc: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let get = |doc: &toml::Table, t: &str, k: &str| doc[t].as_table().unwrap()[k].clone();
    let scaled = |v: toml::Value| match v {
        toml::Value::Integer(i) => toml::Value::Integer((i as f64 * SCALE).round() as i64),
        toml::Value::Float(x) => toml::Value::Float(x * SCALE),
        other => panic!("not a number: {other}"),
    };
    for (t, k) in [("creators", "count"), ("operators", "titles"), ("platform", "feed_supply")] {
        let v = scaled(get(&doc, t, k));
        doc[t].as_table_mut().unwrap().insert(k.into(), v);
    }
    let sc = doc["scenario"].as_table_mut().unwrap();
    sc.insert("replications".into(), i64::from(REPS).into());
    sc.insert("burn_in_days".into(), i64::from(burn_in_days).into());
    scenario::parse(&toml::to_string(&doc).unwrap(), "steady").unwrap()
}

/// Per replication: (the days-0-20 / days-60-89 differences of GMV, opens and settled a day,
/// each relative to the late mean of all replications) and the category shares of week 1 and 13.
struct Rep {
    early: [f64; 3],
    late: [f64; 3],
    week1: Vec<f64>,
    week12: Vec<f64>,
}

fn measure(s: &Scenario) -> Vec<Rep> {
    let ncat = s.categories.len();
    (0..s.replications)
        .into_par_iter()
        .map(|rep| {
            let r = run_replication(s, rep, false);
            assert_eq!(r.daily.len(), 90);
            let day = |t: usize| {
                let mut all = Flows::default();
                r.daily[t].iter().for_each(|f| all.absorb(f));
                all
            };
            let mean = |lo: usize, hi: usize, f: Flow| {
                (lo..=hi).map(|t| day(t).get(f) as f64).sum::<f64>() / (hi - lo + 1) as f64
            };
            let flows = [Flow::Gmv, Flow::Opens, Flow::CommissionSettled];
            let shares = |week: usize| {
                let clips: Vec<f64> = (0..ncat)
                    .map(|c| {
                        (7 * week..7 * week + 7)
                            .map(|t| {
                                (r.daily[t][2 * c].get(Flow::Clips) + r.daily[t][2 * c + 1].get(Flow::Clips)) as f64
                            })
                            .sum()
                    })
                    .collect();
                let total: f64 = clips.iter().sum();
                clips.iter().map(|x| x / total).collect::<Vec<f64>>()
            };
            Rep {
                early: flows.map(|f| mean(0, 20, f)),
                late: flows.map(|f| mean(60, 89, f)),
                week1: shares(0),
                week12: shares(11),
            }
        })
        .collect()
}

/// Whether `early` is within `rel` of `late` (relative to late's mean), allowing 3 standard errors
/// of the mean paired difference; returns a line saying so.
fn within(name: &str, early: &[f64], late: &[f64], rel: f64) -> (bool, String) {
    let n = early.len() as f64;
    let d: Vec<f64> = early.iter().zip(late).map(|(a, b)| a - b).collect();
    let m = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let base = late.iter().sum::<f64>() / n;
    let tol = rel * base + 3.0 * sd / n.sqrt();
    let ok = m.abs() <= tol;
    (ok, format!("{name}: early - late {m:.4} vs tolerance {tol:.4} (late {base:.4})"))
}

fn checks(s: &Scenario) -> Vec<(bool, String)> {
    let reps = measure(s);
    let mut out = Vec::new();
    for (k, name) in ["gmv", "opens", "commission_settled"].iter().enumerate() {
        let e: Vec<f64> = reps.iter().map(|r| r.early[k]).collect();
        let l: Vec<f64> = reps.iter().map(|r| r.late[k]).collect();
        out.push(within(name, &e, &l, 0.10));
    }
    for (c, cat) in s.categories.iter().enumerate() {
        let e: Vec<f64> = reps.iter().map(|r| r.week1[c]).collect();
        let l: Vec<f64> = reps.iter().map(|r| r.week12[c]).collect();
        out.push(within(&format!("share of clips, {}", cat.id), &e, &l, 0.20));
    }
    out
}

#[test]
fn the_baseline_is_steady_from_day_0() {
    let s = baseline(scenario::defaults::DEFAULT_BURN_IN_DAYS);
    for (ok, line) in checks(&s) {
        println!("{line}");
        assert!(ok, "{line}");
    }
}

#[test]
fn the_empty_market_is_not() {
    let failed: Vec<String> = checks(&baseline(0)).into_iter().filter(|c| !c.0).map(|c| c.1).collect();
    println!("{failed:#?}");
    assert!(failed.len() >= 3, "the empty market passes the steady checks: {failed:?}");
}
