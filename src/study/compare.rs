//! Paired comparison of two scenarios: the same replication seeds on both sides (common random
//! numbers), so the interval of a difference B - A is much narrower than that of either run.

use crate::model::metrics::RepData;
use crate::model::metrics::{metric_value, stat, Stat, Unit, METRICS};
use crate::model::own::OWN_METRICS;
use std::fmt::Write as _;

/// One metric of a paired comparison.
#[derive(Clone, Debug)]
pub struct PairedRow {
    /// A headline metric, or an own plan's as `plans.<name>.<metric>`.
    pub metric: String,
    pub unit: Unit,
    pub a: Stat,
    pub b: Stat,
    /// Mean and 95% interval of the per-replication differences B - A.
    pub diff: Stat,
    /// How many times smaller the variance of the paired difference is than that of the
    /// difference of two independent runs (var A + var B) / var(B - A); NaN when undefined.
    pub variance_reduction: f64,
}

/// Compares replication r of A with replication r of B, metric by metric: the headline metrics,
/// then the metrics of every own plan that both sides have (matched by name).
pub fn paired(a: &[RepData], b: &[RepData]) -> Vec<PairedRow> {
    let n = a.len().min(b.len());
    let mut rows: Vec<PairedRow> = METRICS
        .iter()
        .enumerate()
        .map(|(k, (metric, unit))| {
            let pairs: Vec<(f64, f64)> = (0..n).filter_map(|r| Some((a[r].metrics[k]?, b[r].metrics[k]?))).collect();
            let (sa, sb, sd, variance_reduction) = pair_stats(&pairs);
            PairedRow { metric: metric.to_string(), unit: *unit, a: sa, b: sb, diff: sd, variance_reduction }
        })
        .collect();
    for name in shared_own_plans(a, b) {
        for (metric, unit) in OWN_METRICS {
            let key = format!("plans.{name}.{metric}");
            let pairs: Vec<(f64, f64)> =
                (0..n).filter_map(|r| Some((metric_value(&a[r], &key)?, metric_value(&b[r], &key)?))).collect();
            let (sa, sb, sd, variance_reduction) = pair_stats(&pairs);
            rows.push(PairedRow { metric: key, unit: *unit, a: sa, b: sb, diff: sd, variance_reduction });
        }
    }
    rows
}

/// The own plans both sides have, by name, in A's order.
fn shared_own_plans<'a>(a: &'a [RepData], b: &[RepData]) -> Vec<&'a str> {
    let names: Vec<&str> = a.first().map(|r| r.own_plans.iter().map(|p| p.name.as_str()).collect()).unwrap_or_default();
    let in_b = |nm: &&str| b.first().is_some_and(|r| r.own_plans.iter().any(|p| p.name == *nm));
    names.into_iter().filter(in_b).collect()
}

/// Statistics of (A, B) pairs: A, B, the differences B - A, and the variance reduction
/// `(var A + var B) / var(B - A)` (NaN when the differences do not vary).
pub fn pair_stats(pairs: &[(f64, f64)]) -> (Stat, Stat, Stat, f64) {
    let xs: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let ds: Vec<f64> = pairs.iter().map(|p| p.1 - p.0).collect();
    let (sa, sb, sd) = (stat(&xs), stat(&ys), stat(&ds));
    let unpaired = sa.sd * sa.sd + sb.sd * sb.sd;
    let variance_reduction = if sd.sd > 0.0 { unpaired / (sd.sd * sd.sd) } else { f64::NAN };
    (sa, sb, sd, variance_reduction)
}

fn fmt(x: f64, unit: Unit) -> String {
    match unit {
        _ if !x.is_finite() => String::new(),
        Unit::Share => format!("{x:.6}"),
        _ => format!("{x:.2}"),
    }
}

/// The comparison as CSV: metric, unit, A, B, B - A with its 95% interval, variance reduction.
pub fn csv(rows: &[PairedRow]) -> String {
    let mut out = String::from("metric,unit,a_mean,b_mean,diff_mean,diff_ci95_low,diff_ci95_high,variance_reduction\n");
    for r in rows {
        let u = r.unit;
        let vr = if r.variance_reduction.is_finite() { format!("{:.1}", r.variance_reduction) } else { String::new() };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{vr}",
            crate::report::output::csv_field(&r.metric),
            u.name(),
            fmt(r.a.mean, u),
            fmt(r.b.mean, u),
            fmt(r.diff.mean, u),
            fmt(r.diff.lo, u),
            fmt(r.diff.hi, u)
        );
    }
    out
}

/// The own-plan metrics a comparison chart shows (the others are in paired.csv).
const CHARTED_OWN: [&str; 7] = [
    "clips",
    "creators",
    "gmv",
    "commission_settled",
    "operator_net",
    "operator_net_per_commission_rmb",
    "budget_used",
];

/// The series of a paired comparison for its chart and page: the charted metrics of every own
/// plan both sides have, every labelled headline metric, and per category its GMV, commission,
/// clips and operator net per title (episode metrics), replication r of A with replication r
/// of B.
pub fn series(
    sa: &crate::scenario::Scenario,
    a: &[RepData],
    sb: &crate::scenario::Scenario,
    b: &[RepData],
) -> Vec<crate::report::charts::paired::Series> {
    use crate::report::charts::paired::{group_of, Series};
    let n = a.len().min(b.len());
    let mut out = Vec::new();
    let mut push = |metric: String, unit: Unit, group: String, pairs: Vec<(f64, f64)>| {
        if !pairs.is_empty() {
            let (a, b) = pairs.into_iter().unzip();
            out.push(Series { metric, unit, group, a, b, paired: true });
        }
    };
    // The own plans first: their group leads the chart (`paired::ordered`).
    for name in shared_own_plans(a, b) {
        for (metric, unit) in OWN_METRICS.iter().filter(|(m, _)| CHARTED_OWN.contains(m)) {
            let key = format!("plans.{name}.{metric}");
            let pairs = (0..n).filter_map(|r| Some((metric_value(&a[r], &key)?, metric_value(&b[r], &key)?))).collect();
            push(key, *unit, format!("Own plan: {name}"), pairs);
        }
    }
    for (k, (metric, unit)) in METRICS.iter().enumerate() {
        let Some(group) = group_of(metric) else { continue };
        let pairs = (0..n).filter_map(|r| Some((a[r].metrics[k]?, b[r].metrics[k]?))).collect();
        push(metric.to_string(), *unit, group.to_string(), pairs);
    }
    let va: Vec<_> = a[..n].iter().map(|d| crate::study::episodes::values(sa, d)).collect();
    let vb: Vec<_> = b[..n].iter().map(|d| crate::study::episodes::values(sb, d)).collect();
    for cat in &sa.categories {
        for base in ["gmv", "commission", "clips", "operator_net_per_title"] {
            let name = format!("{base}[{}]", cat.id);
            let find = |vs: &[crate::study::episodes::Value]| vs.iter().find(|v| v.name == name).cloned();
            let mut unit = None;
            let pairs = va
                .iter()
                .zip(&vb)
                .filter_map(|(x, y)| {
                    let (x, y) = (find(x)?, find(y)?);
                    unit = Some(x.unit);
                    (x.value.is_finite() && y.value.is_finite()).then_some((x.value, y.value))
                })
                .collect();
            if let Some(u) = unit {
                push(name, u, format!("Category: {} ({})", cat.name, cat.id), pairs);
            }
        }
    }
    out
}
