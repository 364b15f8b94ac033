//! Running a sensitivity plan and reporting it: elasticities per parameter and outcome, ranked, as
//! `sensitivity.csv`, a terminal table and the result folder.

use super::{KeyChange, Param, Plan, SensitivityError};
use crate::model::metrics::{metric_index, metric_value, stat, Stat, Unit as MetricUnit, METRICS};
use crate::model::own::{own_metric_index, OWN_METRICS};
use crate::report::output::{csv_field, put, OutputError};
use crate::study::runner::{self, Unit};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use toml::Value;

/// One parameter's effect on one outcome.
#[derive(Clone, Debug)]
pub struct Row {
    /// Index into [`Plan::params`].
    pub param: usize,
    /// An outcome of [`Plan::outcomes`].
    pub metric: String,
    pub unit: MetricUnit,
    pub low: Stat,
    pub base: Stat,
    pub high: Stat,
    /// Elasticity: mean and 95% interval over replications (NaN when undefined).
    pub elasticity: Stat,
    /// 1 = largest |elasticity| for this outcome; `None` for skipped parameters.
    pub rank: Option<usize>,
}

const NAN: Stat = Stat { mean: f64::NAN, sd: f64::NAN, lo: f64::NAN, hi: f64::NAN };

/// Runs every unit of the plan on the current rayon pool (`tick` after each) and computes the
/// rows: for each outcome, ranked parameters first, then the skipped ones.
pub fn run(plan: &Plan, stop: &AtomicBool, tick: &(dyn Fn() + Sync)) -> Result<Vec<Row>, SensitivityError> {
    let units = runner::units(&plan.studies);
    let got: Mutex<Vec<(Unit, Vec<Option<f64>>)>> = Mutex::new(Vec::with_capacity(units.len()));
    let outcomes = plan.outcomes();
    runner::run_units::<std::convert::Infallible>(
        &plan.studies,
        &units,
        stop,
        &|u, d| {
            let values = outcomes.iter().map(|k| metric_value(d, k)).collect();
            got.lock().unwrap_or_else(|e| e.into_inner()).push((u, values));
            tick();
            Ok(())
        },
        &|_, _, _| Ok(()),
    )
    .unwrap_or(());
    if stop.load(Ordering::SeqCst) {
        return Err(SensitivityError::Interrupted);
    }
    let mut got = got.into_inner().unwrap_or_else(|e| e.into_inner());
    got.sort_by_key(|(u, _)| *u);
    Ok(rows(plan, &got))
}

/// The unit an outcome is reported in.
fn outcome_unit(metric: &str) -> MetricUnit {
    match metric.strip_prefix("plans.").and_then(|k| k.rsplit_once('.')) {
        Some((_, m)) => own_metric_index(m).map_or(MetricUnit::Count, |k| OWN_METRICS[k].1),
        None => metric_index(metric).map_or(MetricUnit::Count, |k| METRICS[k].1),
    }
}

/// The rows from the outcomes of every unit ([`Plan::outcomes`] in order), sorted by unit.
pub fn rows(plan: &Plan, got: &[(Unit, Vec<Option<f64>>)]) -> Vec<Row> {
    let reps = plan.replications() as usize;
    let value = |study: usize, variant: usize, rep: usize, k: usize| -> Option<f64> {
        let u = Unit { study, variant, rep: rep as u32 };
        let i = got.binary_search_by_key(&u, |(x, _)| *x).ok()?;
        got[i].1.get(k).copied().flatten()
    };
    let mut out = Vec::new();
    for (k, metric) in plan.outcomes().into_iter().enumerate() {
        let unit = outcome_unit(&metric);
        let base_vals: Vec<Option<f64>> = (0..reps).map(|r| value(0, 0, r, k)).collect();
        let base = stat(&base_vals.iter().flatten().copied().collect::<Vec<_>>());
        let mut block: Vec<Row> = plan
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let Some(s) = p.study else {
                    return Row {
                        param: i,
                        metric: metric.clone(),
                        unit,
                        low: NAN,
                        base,
                        high: NAN,
                        elasticity: NAN,
                        rank: None,
                    };
                };
                let lows: Vec<Option<f64>> = (0..reps).map(|r| value(s, 0, r, k)).collect();
                let highs: Vec<Option<f64>> = (0..reps).map(|r| value(s, 1, r, k)).collect();
                let es: Vec<f64> = (0..reps)
                    .filter_map(|r| match (lows[r], base_vals[r], highs[r]) {
                        (Some(l), Some(b), Some(h)) if b != 0.0 => Some((h - l) / b / p.change),
                        _ => None,
                    })
                    .filter(|e| e.is_finite())
                    .collect();
                let some = |v: &[Option<f64>]| stat(&v.iter().flatten().copied().collect::<Vec<_>>());
                let elasticity = if es.is_empty() { NAN } else { stat(&es) };
                Row {
                    param: i,
                    metric: metric.clone(),
                    unit,
                    low: some(&lows),
                    base,
                    high: some(&highs),
                    elasticity,
                    rank: None,
                }
            })
            .collect();
        let mut order: Vec<usize> = (0..block.len()).filter(|&i| block[i].elasticity.mean.is_finite()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (block[a].elasticity.mean.abs(), block[b].elasticity.mean.abs());
            y.total_cmp(&x).then(a.cmp(&b))
        });
        for (r, &i) in order.iter().enumerate() {
            block[i].rank = Some(r + 1);
        }
        block.sort_by_key(|row| (row.rank.is_none(), row.rank.unwrap_or(0), row.param));
        out.extend(block);
    }
    out
}

fn fmt_value(v: &Value) -> String {
    match v {
        Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

/// A parameter's values (baseline, low, high): the number for one key, the values of every
/// key separated by spaces otherwise.
fn values(p: &Param) -> [String; 3] {
    let join = |f: fn(&KeyChange) -> &Value| p.keys.iter().map(|k| fmt_value(f(k))).collect::<Vec<_>>().join(" ");
    [join(|k| &k.base), join(|k| &k.low), join(|k| &k.high)]
}

fn fmt_metric(x: f64, unit: MetricUnit) -> String {
    match unit {
        _ if !x.is_finite() => String::new(),
        MetricUnit::Share => format!("{x:.6}"),
        _ => format!("{x:.2}"),
    }
}

fn fmt_e(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        String::new()
    }
}

/// `sensitivity.csv`: one row per parameter and outcome.
pub fn csv(plan: &Plan, rows: &[Row]) -> String {
    let mut out = String::from(
        "parameter,value,low_value,high_value,metric,m_low,m_base,m_high,elasticity,ci95_low,ci95_high,rank,note\n",
    );
    // A number is written as it is (a negative one keeps its sign); text is escaped.
    let cell = |s: &str| if s.parse::<f64>().is_ok() { s.to_owned() } else { csv_field(s) };
    for r in rows {
        let p = &plan.params[r.param];
        let [v, lo, hi] = values(p);
        let u = r.unit;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&p.name),
            cell(&v),
            cell(&lo),
            cell(&hi),
            csv_field(&r.metric),
            fmt_metric(r.low.mean, u),
            fmt_metric(r.base.mean, u),
            fmt_metric(r.high.mean, u),
            fmt_e(r.elasticity.mean),
            fmt_e(r.elasticity.lo),
            fmt_e(r.elasticity.hi),
            r.rank.map(|x| x.to_string()).unwrap_or_default(),
            csv_field(&p.note)
        );
    }
    out
}

/// Panel titles of the outcomes.
pub fn outcome_title(metric: &str) -> String {
    if let Some((name, m)) = metric.strip_prefix("plans.").and_then(|k| k.rsplit_once('.')) {
        return format!("{name}: {}", m.replace('_', " "));
    }
    match metric {
        "gmv" => "GMV",
        "commission_settled" => "Commission settled",
        "creators_paid" => "Creators paid",
        "operator_net" => "Operator net",
        _ => "metric",
    }
    .to_owned()
}

/// The ranking for the terminal: parameters in order of their effect on GMV, with the
/// elasticity and 95% interval on each outcome; at most `top` rows, then the skipped ones.
pub fn table(plan: &Plan, rows: &[Row], top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: elasticities (mean [95% interval]) to a {:.0}% change, {} replications, common random numbers",
        plan.stem,
        plan.step * 100.0,
        plan.replications()
    );
    let w = plan.params.iter().map(|p| p.name.chars().count()).max().unwrap_or(9).clamp(9, 40);
    let _ = write!(out, "{:>4}  {:<w$}", "rank", "parameter");
    let outcomes = plan.outcomes();
    for m in &outcomes {
        let _ = write!(out, "  {m:>26}");
    }
    out.push('\n');
    let of = |metric: &str, i: usize| rows.iter().find(|r| r.metric == metric && r.param == i);
    let ranked: Vec<&Row> = rows.iter().filter(|r| r.metric == outcomes[0] && r.rank.is_some()).collect();
    for r in ranked.iter().take(top) {
        let _ = write!(out, "{:>4}  {:<w$}", r.rank.unwrap_or(0), plan.params[r.param].name);
        for m in &outcomes {
            let cell = match of(m, r.param) {
                Some(x) if x.elasticity.mean.is_finite() => {
                    let e = x.elasticity;
                    let ci = if e.lo.is_finite() && e.hi.is_finite() {
                        format!("[{:+.2}, {:+.2}]", e.lo, e.hi)
                    } else {
                        "[n/a]".into()
                    };
                    format!("{:+.3} {ci}", e.mean)
                }
                _ => "-".into(),
            };
            let _ = write!(out, "  {cell:>26}");
        }
        out.push('\n');
    }
    if ranked.len() > top {
        let _ = writeln!(out, "      ... {} more in sensitivity.csv", ranked.len() - top);
    }
    for p in plan.params.iter().filter(|p| p.study.is_none()) {
        let _ = writeln!(out, "      skipped {}: {}", p.name, p.note);
    }
    out
}

/// Writes `sensitivity.csv`, `tornado.png` and `manifest.json` into `dir`, atomically.
pub fn write(dir: &Path, plan: &Plan, rows: &[Row], file: &str) -> Result<(), OutputError> {
    let outcomes = plan.outcomes();
    let panels: Vec<crate::report::charts::tornado::Panel> = outcomes
        .iter()
        .map(|m| {
            let bars: Vec<crate::report::charts::tornado::Bar> = rows
                .iter()
                .filter(|r| r.metric == *m && r.rank.is_some())
                .map(|r| crate::report::charts::tornado::Bar {
                    name: plan.params[r.param].name.clone(),
                    mean: r.elasticity.mean,
                    lo: r.elasticity.lo,
                    hi: r.elasticity.hi,
                })
                .collect();
            crate::report::charts::tornado::Panel { title: outcome_title(m), bars }
        })
        .collect();
    let name = &plan.studies[0].variants[0].scenario.name;
    let title = format!("Sensitivity: elasticities to a ±{:.0}% change — {name}", plan.step * 100.0);
    let subtitle = format!(
        "% change of the outcome per % change of the parameter; mean and 95% interval over {} paired replications",
        plan.replications()
    );
    let manifest = serde_json::json!({
        "cpsim_version": env!("CARGO_PKG_VERSION"),
        "scenario_file": file,
        "scenario_hash": plan.studies[0].variants[0].hash,
        "seed": plan.seed(),
        "replications": plan.replications(),
        "step": plan.step,
        "outcomes": outcomes,
        "parameters": plan.params.iter().map(|p| serde_json::json!({
            "name": p.name,
            "keys": p.keys.iter().map(|k| k.key.clone()).collect::<Vec<_>>(),
            "change": p.change,
            "note": p.note,
        })).collect::<Vec<_>>(),
    });
    crate::report::output::write_atomically(dir, |tmp| {
        put(tmp, "sensitivity.csv", &csv(plan, rows))?;
        put(tmp, "manifest.json", &format!("{}\n", serde_json::to_string_pretty(&manifest).unwrap_or_default()))?;
        crate::report::charts::tornado::draw_tornado(&tmp.join("tornado.png"), &title, &subtitle, &panels)?;
        Ok(())
    })
}
