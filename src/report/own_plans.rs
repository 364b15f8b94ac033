//! The own plans' files: `own_plans.csv` (each plan's totals, mean and 95% interval over
//! replications) and `own_plans_daily.csv` (date x plan x metric), written only when the
//! scenario has `[[plans]]`.

use crate::model::metrics::{stat, Flow, Flows, RepData, Stat, Unit};
use crate::model::own::OWN_METRICS;
use crate::report::output::csv_field;
use crate::scenario::Scenario;
use std::fmt::Write as _;

pub const OWN_PLANS: &str = "own_plans.csv";
pub const OWN_PLANS_DAILY: &str = "own_plans_daily.csv";

/// The files of the own plans: (file name, contents); none without own plans.
pub fn render(s: &Scenario, reps: &[RepData]) -> Vec<(&'static str, String)> {
    if s.plans.is_empty() {
        return Vec::new();
    }
    vec![(OWN_PLANS, own_plans_csv(s, reps)), (OWN_PLANS_DAILY, own_plans_daily_csv(s, reps))]
}

fn fmt(x: f64, unit: Unit) -> String {
    if !x.is_finite() {
        return String::new();
    }
    match unit {
        Unit::Rmb | Unit::Count => format!("{x:.2}"),
        Unit::Share => format!("{x:.6}"),
    }
}

/// One own plan's metric `k` over the replications that define it.
fn over_reps(reps: &[RepData], plan: usize, k: usize) -> Stat {
    let vals: Vec<f64> =
        reps.iter().filter_map(|r| r.own_plans.get(plan).and_then(|p| p.metrics.get(k).copied().flatten())).collect();
    stat(&vals)
}

fn own_plans_csv(s: &Scenario, reps: &[RepData]) -> String {
    let mut out = String::from("plan,metric,unit,mean,sd,ci95_low,ci95_high,replications\n");
    for (i, p) in s.plans.iter().enumerate() {
        let name = csv_field(&p.name);
        for (k, (metric, unit)) in OWN_METRICS.iter().enumerate() {
            let n = reps.iter().filter(|r| r.own_plans.get(i).and_then(|p| p.metrics[k]).is_some()).count();
            let st = over_reps(reps, i, k);
            let f = |x| fmt(x, *unit);
            let _ = writeln!(
                out,
                "{name},{metric},{},{},{},{},{},{n}",
                unit.name(),
                f(st.mean),
                f(st.sd),
                f(st.lo),
                f(st.hi)
            );
            if *metric == "closed_day" && n > 0 {
                // The same day as a calendar date (rounded to the day; sd stays in days).
                let date = |d: f64| s.start.add_days(d.round() as i32).to_string();
                let _ = writeln!(
                    out,
                    "{name},closed_date,date,{},{},{},{},{n}",
                    date(st.mean),
                    fmt(st.sd, Unit::Count),
                    date(st.lo),
                    date(st.hi)
                );
            }
        }
    }
    out
}

/// The daily series of an own plan: flows of the day, and the budget used so far.
const DAILY: &[(&str, Option<Flow>)] = &[
    ("clips", Some(Flow::Clips)),
    ("impressions", Some(Flow::Impressions)),
    ("new_viewers", Some(Flow::FreshReach)),
    ("opens", Some(Flow::Opens)),
    ("payers", Some(Flow::Payers)),
    ("gmv", Some(Flow::Gmv)),
    ("refunds", Some(Flow::Refunds)),
    ("platform_fees", Some(Flow::PlatformFees)),
    ("commission_accrued", Some(Flow::CommissionAccrued)),
    ("commission_settled", Some(Flow::CommissionSettled)),
    ("operator_net", Some(Flow::OperatorNet)),
    ("ad_spend", Some(Flow::AdSpend)),
    ("in_square", Some(Flow::OpenPlans)),
    ("budget_used", None),
];

fn own_plans_daily_csv(s: &Scenario, reps: &[RepData]) -> String {
    let mut out = String::from("day,date,plan,metric,mean,ci95_low,ci95_high\n");
    fn days_of(r: &RepData, i: usize) -> &[Flows] {
        r.own_plans.get(i).map_or(&[], |p| &p.daily)
    }
    // Budget used so far = commission accrued so far (the budget pays exactly the accrued).
    let cumulative: Vec<Vec<Vec<i64>>> = (0..s.plans.len())
        .map(|i| {
            reps.iter()
                .map(|r| {
                    let mut sum = 0;
                    days_of(r, i)
                        .iter()
                        .map(|f| {
                            sum += f.get(Flow::CommissionAccrued);
                            sum
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    for day in 0..s.days as usize {
        let date = s.date(day as u32);
        for (i, p) in s.plans.iter().enumerate() {
            let name = csv_field(&p.name);
            for (metric, flow) in DAILY {
                let (vals, unit): (Vec<f64>, Unit) = match flow {
                    Some(f) => {
                        let scale = if f.is_money() { 100.0 } else { 1.0 };
                        let unit = if f.is_money() { Unit::Rmb } else { Unit::Count };
                        let v = reps
                            .iter()
                            .map(|r| days_of(r, i).get(day).map_or(0.0, |x| x.get(*f) as f64 / scale))
                            .collect();
                        (v, unit)
                    }
                    None => {
                        let v = cumulative[i].iter().map(|c| c.get(day).copied().unwrap_or(0) as f64 / 100.0).collect();
                        (v, Unit::Rmb)
                    }
                };
                let st = stat(&vals);
                let _ = writeln!(
                    out,
                    "{day},{date},{name},{metric},{},{},{}",
                    fmt(st.mean, unit),
                    fmt(st.lo, unit),
                    fmt(st.hi, unit)
                );
            }
        }
    }
    out
}

/// Reads a written `own_plans.csv`: (`plans.<name>.<metric>`, mean, ci95_low, ci95_high) as
/// text, in file order (numbers only: the closed date is left out); empty when the folder has none.
pub fn read_own_plans(dir: &std::path::Path) -> Vec<(String, [String; 3])> {
    let Ok(text) = std::fs::read_to_string(dir.join(OWN_PLANS)) else { return Vec::new() };
    text.lines()
        .skip(1)
        .filter_map(|l| {
            // The name may hold commas (then it is quoted); the seven fields after it never do.
            let f: Vec<&str> = l.rsplitn(8, ',').collect();
            if f.len() != 8 {
                return None;
            }
            let raw = f[7];
            let name = match raw.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                Some(q) => q.replace("\"\"", "\""),
                None => raw.to_owned(),
            };
            // Undo csv_field's guard against formulas.
            let name = match name.strip_prefix('\'') {
                Some(n) if n.starts_with(['=', '+', '-', '@', '\t', '\r']) => n.to_owned(),
                _ => name,
            };
            if f[5] == "date" {
                return None;
            }
            Some((format!("plans.{name}.{}", f[6]), [f[4].to_owned(), f[2].to_owned(), f[1].to_owned()]))
        })
        .collect()
}
