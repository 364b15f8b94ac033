//! The ledger: splits every revenue event into refunds, platform fees, commission under the plan's
//! budget and operator net, to the fen; queues commission for settlement; pays subsidies and ad
//! money (MODEL.md sec. 8).

use crate::feed::Records;
use crate::funnel::{Revenue, NONE};
use crate::metrics::{Flow, Flows};
use crate::money::{share, Fen, PPM};
use crate::operators::{Market, UNLIMITED};
use crate::population::Creators;
use crate::scenario::{CommissionBase, Landing, Scenario, Settlement, SubsidyForm};

/// Trailing earnings window of churn and entry, days.
pub const TRAILING_DAYS: u32 = 30;

/// Commission waiting to settle, and the bookkeeping of trailing earnings and subsidy budgets.
#[derive(Clone)]
pub struct Ledger {
    /// `due[t]`: (creator, amount) settling on day t, and `due_cells[t]` the same money by cell
    /// (the flows need it by cell, the creators by creator; keying one queue by both made the
    /// day's sums a 10-million-entry table at national scale, a cache miss per event).
    due: Vec<Vec<(u32, Fen)>>,
    due_cells: Vec<Vec<Fen>>,
    /// Accrued commission whose settlement day falls after the horizon.
    pub beyond_horizon_fen: Fen,
    /// `trailing_out[t]`: earnings that leave the 30-day trailing window on day t.
    trailing_out: Vec<Vec<(u32, Fen)>>,
    /// What each subsidy program has left.
    pub subsidy_left: Vec<Fen>,
    /// Today's accruals by creator (and by cell) and earnings by creator, summed before they
    /// are queued: one entry per creator a day instead of one per event keeps the queues small
    /// (at a million creators, per-event entries took gigabytes).
    accrued_today: Tally,
    accrued_cells_today: Vec<Fen>,
    earned_today: Tally,
}

/// Sums amounts by key over a day, remembering the keys in the order first touched.
#[derive(Clone, Default)]
struct Tally {
    sum: Vec<Fen>,
    touched: Vec<u32>,
}

impl Tally {
    fn add(&mut self, key: usize, amount: Fen) {
        if key >= self.sum.len() {
            self.sum.resize(key + 1, 0);
        }
        if self.sum[key] == 0 {
            self.touched.push(key as u32);
        }
        self.sum[key] += amount;
    }

    /// Hands out (key, total) in first-touch order and resets. Amounts are positive, so a key
    /// whose sum is 0 was never touched.
    fn drain(&mut self, mut f: impl FnMut(u32, Fen)) {
        for &k in &self.touched {
            let v = std::mem::take(&mut self.sum[k as usize]);
            if v != 0 {
                f(k, v);
            }
        }
        self.touched.clear();
    }
}

/// The cell of a (category, landing) pair in per-day flows.
#[inline]
pub fn cell(category: u16, landing: Landing) -> usize {
    category as usize * 2 + landing as usize
}

/// The day commission accrued on day `t` settles (MODEL.md sec. 8.5).
pub fn settlement_day(s: &Scenario, t: u32) -> u32 {
    let first = t + s.platform.settlement_delay_days;
    match s.platform.settlement {
        Settlement::Daily => first,
        Settlement::Weekly => first + (7 - s.date(first).weekday()) % 7,
        Settlement::Monthly => {
            let mut d = first;
            while s.date(d).ymd().2 != 1 {
                d += 1;
            }
            d
        }
    }
}

impl Ledger {
    pub fn new(s: &Scenario) -> Ledger {
        Ledger {
            due: vec![Vec::new(); s.days as usize],
            due_cells: vec![vec![0; 2 * s.categories.len()]; s.days as usize],
            beyond_horizon_fen: 0,
            trailing_out: vec![Vec::new(); s.days as usize],
            subsidy_left: s.subsidies.iter().map(|p| p.budget_fen).collect(),
            accrued_today: Tally::default(),
            accrued_cells_today: vec![0; 2 * s.categories.len()],
            earned_today: Tally::default(),
        }
    }

    /// Step 8 for one source's revenue of the day.
    #[allow(clippy::too_many_arguments)]
    pub fn book(
        &mut self,
        s: &Scenario,
        rev: &Revenue,
        market: &mut Market,
        creators: &mut Creators,
        records: &mut Records,
        flows: &mut [Flows],
        day: u32,
    ) {
        if rev.ad_views == 0 && rev.paid.iter().all(|n| *n == 0) {
            return;
        }
        let src = rev.source;
        let c = &s.categories[src.category as usize];
        let l = src.landing as usize;
        let f = &mut flows[cell(src.category, src.landing)];
        let date = s.date(day);
        let ad_rule = s.platform.ad_money_categories[src.category as usize]
            && src.landing == Landing::Douyin
            && date >= s.platform.ad_money_from;
        let mut commission: Fen = 0;
        let mut net_for_learning: Fen = 0;
        let mut gross: Fen = 0;
        let rate = if src.plan == NONE { 0 } else { market.plans[src.plan as usize].rate_ppm };
        let mut consumption: Fen = 0;
        // Each price is a group of identical events: split one, multiply, and let the budget cap
        // pay whole events until the crossing one takes what is left.
        let mut pay = |x: Fen, n: u64, fee_ppm: u32, f: &mut Flows, commission: &mut Fen| -> Fen {
            let fee = share(x, fee_ppm);
            let base = match s.platform.commission_base {
                CommissionBase::NetOfFees => x - fee,
                CommissionBase::Net => x,
            };
            let each = share(base, rate);
            let mut comm = each * n as Fen;
            if src.plan != NONE {
                let plan = &mut market.plans[src.plan as usize];
                let left = plan.budget_left() - *commission;
                if comm > left {
                    comm = left.max(0);
                    if plan.budget_out_day.is_none() {
                        plan.budget_out_day = Some(day);
                    }
                    plan.open = false;
                }
            }
            *commission += comm;
            f.add(Flow::PlatformFees, fee * n as Fen);
            f.add(Flow::OperatorNet, x * n as Fen - fee * n as Fen - comm);
            (x - fee) * n as Fen
        };
        for (k, &n) in rev.paid.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let x = c.prices_fen[k];
            let refunded = rev.refunded[k] as u64;
            let kept = n as u64 - refunded;
            gross += x * n as Fen;
            f.add(Flow::Gmv, x * n as Fen);
            f.add(Flow::Refunds, x * refunded as Fen);
            consumption += x * kept as Fen;
            net_for_learning += pay(x, kept, c.fee_ppm[l], f, &mut commission);
        }
        if rev.ad_views > 0 {
            let g = (rev.ad_views as i128 * c.ecpm_fen_per_1000 as i128 / 1000) as Fen;
            gross += g;
            f.add(Flow::Gmv, g);
            net_for_learning += pay(g, 1, s.platform.iaa_share_ppm[l], f, &mut commission);
        }
        f.add(Flow::CommissionAccrued, commission);
        if ad_rule && consumption > 0 {
            let android = if c.ios_iap {
                share(consumption, (s.platform.android_share * PPM as f64).round() as u32)
            } else {
                consumption
            };
            let credit = share(android, s.platform.ad_money_rate_ppm);
            f.add(Flow::AdMoney, credit);
            market.titles[src.title as usize].ad_credit_fen += credit;
        }
        if src.record != NONE {
            records.net_fen[src.record as usize] += net_for_learning;
        }
        if src.plan != NONE {
            let plan = &mut market.plans[src.plan as usize];
            plan.used_fen += commission;
            debug_assert!(plan.budget_fen == UNLIMITED || plan.used_fen <= plan.budget_fen);
            plan.commission_fen += commission;
            plan.gmv_fen += gross;
            plan.commission_7d[(day % 7) as usize] += commission;
            plan.review_commission_fen += commission;
            // Operator net: after refunds, fees and commission.
            plan.review_net_fen += net_for_learning - commission;
        }
        if commission > 0 && src.creator != NONE {
            self.accrued_today.add(src.creator as usize, commission);
            self.accrued_cells_today[cell(src.category, src.landing)] += commission;
            for k in 0..s.subsidies.len() {
                let p = &s.subsidies[k];
                if p.form == SubsidyForm::CommissionTopup
                    && p.categories[src.category as usize]
                    && date >= p.from
                    && date <= p.to
                {
                    let amount = share(commission, p.topup_ppm).min(self.subsidy_left[k]);
                    self.pay_subsidy(k, src.creator, amount, creators, f);
                }
            }
        }
    }

    /// Pays a subsidy (platform money) to a creator at once, from program `k`'s budget.
    pub fn pay_subsidy(&mut self, k: usize, creator: u32, amount: Fen, creators: &mut Creators, f: &mut Flows) {
        let amount = amount.min(self.subsidy_left[k]);
        if amount <= 0 {
            return;
        }
        self.subsidy_left[k] -= amount;
        creators.subsidy_fen[creator as usize] += amount;
        f.add(Flow::Subsidies, amount);
        self.earn(creator, amount, creators);
    }

    fn earn(&mut self, creator: u32, amount: Fen, creators: &mut Creators) {
        creators.trailing_fen[creator as usize] += amount;
        self.earned_today.add(creator as usize, amount);
    }

    /// Step 9: queues today's accruals for their settlement day, settles what is due today, and
    /// lets earnings older than 30 days leave the trailing sums. Runs after every payment of the
    /// day, so with a delay of 0 days commission settles on the day it accrues.
    pub fn settle(&mut self, s: &Scenario, creators: &mut Creators, flows: &mut [Flows], day: u32) {
        let t = settlement_day(s, day) as usize;
        let (due, beyond) = (&mut self.due, &mut self.beyond_horizon_fen);
        self.accrued_today.drain(|creator, amount| match due.get_mut(t) {
            Some(q) => q.push((creator, amount)),
            None => *beyond += amount,
        });
        for (k, amount) in self.accrued_cells_today.iter_mut().enumerate() {
            if let Some(q) = self.due_cells.get_mut(t) {
                q[k] += std::mem::take(amount);
            } else {
                *amount = 0;
            }
        }
        for (k, amount) in self.due_cells[day as usize].iter().enumerate() {
            flows[k].add(Flow::CommissionSettled, *amount);
        }
        let today = std::mem::take(&mut self.due[day as usize]);
        for &(creator, amount) in &today {
            creators.settled_fen[creator as usize] += amount;
            self.earn(creator, amount, creators);
        }
        let out = (day + TRAILING_DAYS) as usize;
        let trailing_out = &mut self.trailing_out;
        self.earned_today.drain(|creator, amount| {
            if let Some(q) = trailing_out.get_mut(out) {
                q.push((creator, amount));
            }
        });
        for (creator, amount) in std::mem::take(&mut self.trailing_out[day as usize]) {
            creators.trailing_fen[creator as usize] -= amount;
        }
    }

    /// Accrued commission not settled by the horizon, computed from the queue itself (so the
    /// identity accrued = settled + unsettled is a real check, not a definition).
    pub fn unsettled(&self) -> Fen {
        self.beyond_horizon_fen + self.due.iter().flatten().map(|e| e.1).sum::<Fen>()
    }
}
