//! Metrics: the flows a day adds up, the totals of a replication, and statistics over
//! replications (mean, sd, 95% interval) as MODEL.md sec. 12 defines them.

use crate::base::money::Fen;
use crate::model::counts::EpisodeCounts;
use crate::model::operators::Market;
use crate::model::own::{own_metric_index, OwnPlanData};
use crate::model::population::Creators;
use serde::{Deserialize, Serialize};

/// What the ledger and the funnel count per day and per (category, landing) cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Gmv,
    Refunds,
    PlatformFees,
    CommissionAccrued,
    CommissionSettled,
    Subsidies,
    AdMoney,
    AdSpend,
    OperatorNet,
    Impressions,
    FreshReach,
    Opens,
    Payers,
    Clips,
    OpenPlans,
}

pub const NFLOW: usize = 15;

impl Flow {
    pub const ALL: [Flow; NFLOW] = [
        Flow::Gmv,
        Flow::Refunds,
        Flow::PlatformFees,
        Flow::CommissionAccrued,
        Flow::CommissionSettled,
        Flow::Subsidies,
        Flow::AdMoney,
        Flow::AdSpend,
        Flow::OperatorNet,
        Flow::Impressions,
        Flow::FreshReach,
        Flow::Opens,
        Flow::Payers,
        Flow::Clips,
        Flow::OpenPlans,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Flow::Gmv => "gmv",
            Flow::Refunds => "refunds",
            Flow::PlatformFees => "platform_fees",
            Flow::CommissionAccrued => "commission_accrued",
            Flow::CommissionSettled => "commission_settled",
            Flow::Subsidies => "subsidies",
            Flow::AdMoney => "ad_money",
            Flow::AdSpend => "ad_spend",
            Flow::OperatorNet => "operator_net",
            Flow::Impressions => "impressions",
            Flow::FreshReach => "fresh_reach",
            Flow::Opens => "opens",
            Flow::Payers => "payers",
            Flow::Clips => "clips",
            Flow::OpenPlans => "open_plans",
        }
    }
    pub fn is_money(self) -> bool {
        (self as usize) <= Flow::OperatorNet as usize
    }
}

/// Integer counters of one cell and day: money in fen, the rest in counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Flows(pub [i64; NFLOW]);

impl Flows {
    #[inline]
    pub fn add(&mut self, f: Flow, x: i64) {
        self.0[f as usize] += x;
    }
    #[inline]
    pub fn get(&self, f: Flow) -> i64 {
        self.0[f as usize]
    }
    pub fn absorb(&mut self, o: &Flows) {
        for (a, b) in self.0.iter_mut().zip(o.0.iter()) {
            *a += b;
        }
    }
}

/// The unit a metric is reported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Stored in fen, reported in RMB with two decimals.
    Rmb,
    Count,
    Share,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Rmb => "RMB",
            Unit::Count => "count",
            Unit::Share => "share",
        }
    }
}

/// The headline metrics of a replication, in the order of every output file.
pub const METRICS: &[(&str, Unit)] = &[
    ("gmv", Unit::Rmb),
    ("refunds", Unit::Rmb),
    ("platform_fees", Unit::Rmb),
    ("commission_accrued", Unit::Rmb),
    ("commission_settled", Unit::Rmb),
    ("commission_unsettled", Unit::Rmb),
    ("commission_opening", Unit::Rmb),
    ("subsidies", Unit::Rmb),
    ("ad_money", Unit::Rmb),
    ("ad_spend", Unit::Rmb),
    ("operator_net", Unit::Rmb),
    ("creator_earnings", Unit::Rmb),
    ("impressions", Unit::Count),
    ("fresh_reach", Unit::Count),
    ("opens", Unit::Count),
    ("payers", Unit::Count),
    ("clips", Unit::Count),
    ("plans", Unit::Count),
    ("active_creators", Unit::Count),
    ("creators_ever", Unit::Count),
    ("creators_paid", Unit::Count),
    ("payout_gini", Unit::Share),
    ("payout_top1_share", Unit::Share),
    ("payout_top10_share", Unit::Share),
    ("entry_earnings_warmup", Unit::Rmb),
    ("creator_days", Unit::Count),
    ("clip_days", Unit::Count),
];

/// Index of a metric in [`METRICS`].
pub fn metric_index(name: &str) -> Option<usize> {
    METRICS.iter().position(|(n, _)| *n == name)
}

/// The value of the metric named `key` in one replication's results, for the studies that take a
/// metric by name (an objective, a constraint): a headline metric of [`METRICS`], or an own
/// plan's metric as `plans.<name>.<metric>` (metrics of [`crate::model::own::OWN_METRICS`]).
/// `None` when the name is unknown or the metric undefined in this replication.
pub fn metric_value(d: &RepData, key: &str) -> Option<f64> {
    if let Some((name, metric)) = key.strip_prefix("plans.").and_then(|k| k.rsplit_once('.')) {
        let plan = d.own_plans.iter().find(|p| p.name == name)?;
        return plan.metrics.get(own_metric_index(metric)?).copied().flatten();
    }
    d.metrics.get(metric_index(key)?).copied().flatten()
}

/// Mean, sample sd and the 95% confidence interval of the mean (Student t) of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub sd: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        _ => 1.96 + 2.4 / df as f64,
    }
}

pub fn stat(values: &[f64]) -> Stat {
    let n = values.len();
    if n == 0 {
        return Stat { mean: 0.0, sd: 0.0, lo: 0.0, hi: 0.0 };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Stat { mean, sd: 0.0, lo: mean, hi: mean };
    }
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let half = t975(n - 1) * sd / (n as f64).sqrt();
    Stat { mean, sd, lo: mean - half, hi: mean + half }
}

/// Fen to RMB for statistics (floats only leave the ledger for reporting).
pub fn rmb(f: Fen) -> f64 {
    f as f64 / 100.0
}

/// Everything a replication produces.
pub struct RepResult {
    pub seed: u64,
    /// Totals over the run, exact.
    pub totals: Flows,
    pub unsettled_fen: Fen,
    /// Commission accrued in the burn-in and waiting to settle on day 0: with it,
    /// `commission_accrued + commission_opening = commission_settled + commission_unsettled`.
    pub opening_unsettled_fen: Fen,
    /// `daily[t][cell]`, cell = category * 2 + landing.
    pub daily: Vec<Vec<Flows>>,
    pub active_by_day: Vec<u32>,
    pub active_end: u32,
    pub creators_ever: u32,
    pub creators_paid: u32,
    pub creator_earnings_fen: Fen,
    pub gini: f64,
    pub top1: f64,
    pub top10: f64,
    pub plans: u32,
    /// Active creators summed over days, and live clips summed over days (the work done).
    pub creator_days: u64,
    pub clip_days: u64,
    /// Mean trailing 30-day earnings of active creators at the end of the warm-up (E_bar), RMB.
    pub entry_earnings_warmup: f64,
    /// Per-creator and per-plan tables (replication 0 only).
    pub detail: Option<Detail>,
    /// Counts behind the episode metrics (`study::episodes`): attempts, clips by format, titles.
    pub episode: EpisodeCounts,
    /// Each own plan's totals and daily flows, in `[[plans]]` order.
    pub own_plans: Vec<OwnPlanData>,
}

/// What the output files need of one replication; also the unit of a shard's files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RepData {
    pub replication: u32,
    pub seed: u64,
    /// Headline metrics in [`crate::model::metrics::METRICS`] order; `None` where undefined.
    pub metrics: Vec<Option<f64>>,
    /// `daily[t][cell]`.
    pub daily: Vec<Vec<Flows>>,
    pub active_by_day: Vec<u32>,
    /// Rendered detail tables (replication 0 only).
    pub detail_files: Vec<(String, String)>,
    /// Counts behind the episode metrics (absent from shards written before they existed).
    #[serde(default)]
    pub episode: EpisodeCounts,
    /// Each own plan's totals and daily flows, in `[[plans]]` order (absent from older shards).
    #[serde(default)]
    pub own_plans: Vec<OwnPlanData>,
}

pub struct Detail {
    pub creators: Creators,
    pub market: Market,
    /// (day, plan, cumulative budget used) whenever a plan's used budget changed.
    pub plan_used: Vec<(u32, u32, Fen)>,
}

impl RepResult {
    /// The headline metrics in [`crate::model::metrics::METRICS`] order: money in RMB, counts, shares.
    pub fn metrics(&self) -> Vec<f64> {
        let t = &self.totals;
        vec![
            rmb(t.get(Flow::Gmv)),
            rmb(t.get(Flow::Refunds)),
            rmb(t.get(Flow::PlatformFees)),
            rmb(t.get(Flow::CommissionAccrued)),
            rmb(t.get(Flow::CommissionSettled)),
            rmb(self.unsettled_fen),
            rmb(self.opening_unsettled_fen),
            rmb(t.get(Flow::Subsidies)),
            rmb(t.get(Flow::AdMoney)),
            rmb(t.get(Flow::AdSpend)),
            rmb(t.get(Flow::OperatorNet)),
            rmb(self.creator_earnings_fen),
            t.get(Flow::Impressions) as f64,
            t.get(Flow::FreshReach) as f64,
            t.get(Flow::Opens) as f64,
            t.get(Flow::Payers) as f64,
            t.get(Flow::Clips) as f64,
            self.plans as f64,
            self.active_end as f64,
            self.creators_ever as f64,
            self.creators_paid as f64,
            self.gini,
            self.top1,
            self.top10,
            self.entry_earnings_warmup,
            self.creator_days as f64,
            self.clip_days as f64,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_of_known_values() {
        let s = stat(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.sd - 1.290_994_448_7).abs() < 1e-9);
        assert!((s.hi - s.mean - 3.182 * s.sd / 2.0).abs() < 1e-12);
        assert_eq!(stat(&[7.0]).lo, 7.0);
    }

    #[test]
    fn flow_names_are_unique() {
        let mut names: Vec<_> = Flow::ALL.iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), NFLOW);
        for (i, f) in Flow::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
        }
    }
}
