//! Own plans in the market: placing the strategist's titles and plans after the generated ones,
//! the flows booked to them, and their totals per replication.
//!
//! Common random numbers: an own title's traits come from its own stream kind
//! ([`Kind::OwnTitle`]) and its per-title streams (reach, paid traffic) from an entity range the
//! generated titles never reach ([`OWN_STREAM`]), so adding, removing or changing an own plan
//! draws the generated titles, plans and creators exactly as before.
//!
//! Accounting: each own plan has an overlay cell in the day's flows after the market's
//! (category, landing) cells, booked with the same amounts as its title's market cell; the
//! overlay leaves the flows before the day's totals are taken, so the market's numbers count
//! each fen once.

use crate::base::money::Fen;
use crate::base::rng::{self, Kind};
use crate::model::metrics::{rmb, Flow, Flows, Unit};
use crate::model::operators::{new_plan, Market, Title, NOT_OWN, UNLIMITED};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};

/// The first stream entity of own titles: far above any count of generated titles.
pub const OWN_STREAM: u64 = 1 << 40;

/// The metrics of one own plan in one replication, in the order of `own_plans.csv`.
pub const OWN_METRICS: &[(&str, Unit)] = &[
    ("clips", Unit::Count),
    ("creators", Unit::Count),
    ("impressions", Unit::Count),
    ("new_viewers", Unit::Count),
    ("opens", Unit::Count),
    ("payers", Unit::Count),
    ("gmv", Unit::Rmb),
    ("refunds", Unit::Rmb),
    ("platform_fees", Unit::Rmb),
    ("commission_accrued", Unit::Rmb),
    ("commission_settled", Unit::Rmb),
    ("operator_net", Unit::Rmb),
    ("operator_net_per_commission_rmb", Unit::Share),
    ("budget_used", Unit::Rmb),
    ("ad_spend", Unit::Rmb),
    ("budget_ran_out", Unit::Share),
    ("closed_day", Unit::Count),
];

/// Index of an own-plan metric in [`OWN_METRICS`].
pub fn own_metric_index(name: &str) -> Option<usize> {
    OWN_METRICS.iter().position(|(n, _)| *n == name)
}

/// One own plan's results in one replication.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct OwnPlanData {
    pub name: String,
    /// [`OWN_METRICS`] in order; `None` where undefined (net per RMB of commission without
    /// commission).
    pub metrics: Vec<Option<f64>>,
    /// The plan's flows by day (its title's clips, views and money; open_plans is 1 on days
    /// it is in the square).
    pub daily: Vec<Flows>,
}

/// The cell of own plan `own` in a day's flows, after the `2 * categories` market cells.
#[inline]
pub fn overlay_cell(s: &Scenario, own: u16) -> Option<usize> {
    (own != NOT_OWN).then(|| 2 * s.categories.len() + own as usize)
}

/// Cells of a day's flows: the market's (category, landing) cells, then one per own plan.
pub fn cells(s: &Scenario) -> usize {
    2 * s.categories.len() + s.plans.len()
}

/// Appends the own titles and their plans to the market (after the initial generated titles).
pub fn place(market: &mut Market, s: &Scenario, rep_seed: u64) {
    for (i, p) in s.plans.iter().enumerate() {
        let c = &s.categories[p.category];
        // Both traits are always drawn, so giving one does not change the other.
        let mut r = rng::stream(rep_seed, Kind::OwnTitle, i as u64, 0);
        let audience = rng::lognormal_median(&mut r, c.audience_median, c.audience_sigma).round().max(0.0) as u64;
        let quality = rng::lognormal_median(&mut r, 1.0, s.operators.title_quality_sigma);
        let index = market.titles.len() as u32;
        market.titles.push(Title {
            category: p.category as u16,
            landing: p.landing,
            audience: p.audience.unwrap_or(audience),
            reached: 0,
            quality: p.quality.unwrap_or(quality) as f32,
            launch_day: p.start_day,
            ad_credit_fen: 0,
            stream: OWN_STREAM + i as u64,
            own: i as u16,
        });
        let budget = p.budget_fen.unwrap_or(UNLIMITED);
        market.plans.push(new_plan(index, p.category, p.landing, p.rate_ppm, budget, p.start_day, p.end_day));
    }
}

/// Creators who posted on each own plan (a flag per creator, grown as creators enter).
#[derive(Default)]
pub struct Takers(Vec<Vec<bool>>);

impl Takers {
    pub fn new(s: &Scenario) -> Takers {
        Takers(vec![Vec::new(); s.plans.len()])
    }
    pub fn mark(&mut self, own: u16, creator: u32) {
        let v = &mut self.0[own as usize];
        if v.len() <= creator as usize {
            v.resize(creator as usize + 1, false);
        }
        v[creator as usize] = true;
    }
    fn count(&self, own: usize) -> usize {
        self.0[own].iter().filter(|x| **x).count()
    }
}

/// Each own plan's totals from its daily flows and the market's plans. `s` is the scenario the
/// day loop ran (with its burn-in, `model::burn_in`), whose days are `offset_days` ahead of the
/// reported ones; the market's plans are already renumbered.
pub fn results(
    s: &Scenario,
    market: &Market,
    daily: Vec<Vec<Flows>>,
    takers: &Takers,
    offset_days: u32,
) -> Vec<OwnPlanData> {
    daily
        .into_iter()
        .enumerate()
        .map(|(i, days)| {
            let mut t = Flows::default();
            for f in &days {
                t.absorb(f);
            }
            let mut used: Fen = 0;
            let mut last = None;
            for p in market.plans.iter().filter(|p| market.titles[p.title as usize].own as usize == i) {
                used += p.used_fen;
                last = Some(p);
            }
            let ran_out = last.and_then(|p| p.budget_out_day);
            let closed = ran_out.map_or((s.plans[i].end_day - offset_days as i32) as f64, |d| d as f64);
            let accrued = t.get(Flow::CommissionAccrued);
            let net = t.get(Flow::OperatorNet);
            let metrics = vec![
                Some(t.get(Flow::Clips) as f64),
                Some(takers.count(i) as f64),
                Some(t.get(Flow::Impressions) as f64),
                Some(t.get(Flow::FreshReach) as f64),
                Some(t.get(Flow::Opens) as f64),
                Some(t.get(Flow::Payers) as f64),
                Some(rmb(t.get(Flow::Gmv))),
                Some(rmb(t.get(Flow::Refunds))),
                Some(rmb(t.get(Flow::PlatformFees))),
                Some(rmb(accrued)),
                Some(rmb(t.get(Flow::CommissionSettled))),
                Some(rmb(net)),
                (accrued > 0).then(|| net as f64 / accrued as f64),
                Some(rmb(used)),
                Some(rmb(t.get(Flow::AdSpend))),
                Some(if ran_out.is_some() { 1.0 } else { 0.0 }),
                Some(closed),
            ];
            debug_assert_eq!(metrics.len(), OWN_METRICS.len());
            OwnPlanData { name: s.plans[i].name.clone(), metrics, daily: days }
        })
        .collect()
}
