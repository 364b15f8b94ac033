//! The ledger: splits every revenue event into refunds, platform fees, commission under the plan's
//! budget and operator net, to the fen; queues commission for settlement; pays subsidies and ad
//! money (MODEL.md sec. 8).

use crate::base::calendar::Date;
use crate::base::money::{mul_div, share, Fen, Ppm, PPM};
use crate::model::funnel::{Revenue, Source};
use crate::model::metrics::{Flow, Flows};
use crate::model::operators::Plan;
use crate::model::population::Creators;
use crate::scenario::{CommissionBase, Landing, Scenario, Settlement};

mod book;
mod plans;

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
    accrued_today: Vec<Fen>,
    accrued_cells_today: Vec<Fen>,
    earned_today: Tally,
    /// Scratch of [`Ledger::book_all`], one per thread, kept across calls.
    scatter: Vec<book::Scatter>,
    /// The plans' sums of the day's runs so far, charged to them as the day's booking closes.
    plan_day: plans::PlanDay,
    /// Books every plan with budget left and pays every subsidy in booking order, even when the
    /// budget has room for all that is asked: the reference the summed ways are tested against.
    #[cfg(test)]
    pub in_order_only: bool,
    /// Events whose subsidies were refigured after a cap's cut and paid on the parallel path.
    #[cfg(test)]
    pub refigured_in_parallel: usize,
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

/// What paying a subsidy touches, borrowed apart from the rest of the ledger and the creators so
/// that a booking can pay subsidies while it holds other parts of them.
struct Purse<'a> {
    left: &'a mut [Fen],
    earned: &'a mut Tally,
    subsidy_fen: &'a mut [Fen],
    trailing_fen: &'a mut [Fen],
}

impl Purse<'_> {
    /// Pays up to `amount` from program `k`'s budget to `creator` at once.
    fn pay(&mut self, k: usize, creator: u32, amount: Fen, f: &mut Flows) {
        let amount = amount.min(self.left[k]);
        if amount <= 0 {
            return;
        }
        self.left[k] -= amount;
        self.subsidy_fen[creator as usize] += amount;
        f.add(Flow::Subsidies, amount);
        earn(self.trailing_fen, self.earned, creator, amount);
    }
}

/// Earnings (settled commission or a subsidy) enter the creator's trailing 30-day sum and today's
/// tally, from which they leave the trailing sum 30 days on.
fn earn(trailing_fen: &mut [Fen], earned: &mut Tally, creator: u32, amount: Fen) {
    trailing_fen[creator as usize] += amount;
    earned.add(creator as usize, amount);
}

/// The cell of a (category, landing) pair in per-day flows.
#[inline]
pub fn cell(category: u16, landing: Landing) -> usize {
    category as usize * 2 + landing as usize
}

/// One source's views and money of one day, split to the fen before the plan's budget cap.
#[derive(Clone, Copy, Debug)]
pub struct Booking {
    pub source: Source,
    /// Any money at all (an empty revenue books nothing but its views).
    pub money: bool,
    pub imps: u64,
    pub fresh: u64,
    pub opens: u64,
    pub payers: u64,
    pub gmv: Fen,
    pub refunds: Fen,
    pub fees: Fen,
    /// After refunds and platform fees, before commission: the creator's learning signal.
    pub net: Fen,
    /// Commission at the plan's rate; after [`Ledger::book_all`], what the budget let it pay.
    pub commission: Fen,
    pub ad_credit: Fen,
}

impl Booking {
    /// A booking of no views and no money.
    pub fn nothing(source: Source) -> Booking {
        Booking {
            source,
            money: false,
            imps: 0,
            fresh: 0,
            opens: 0,
            payers: 0,
            gmv: 0,
            refunds: 0,
            fees: 0,
            net: 0,
            commission: 0,
            ad_credit: 0,
        }
    }
}

/// Splits one source's revenue of the day (step 8 before the budget cap): refunds, platform
/// fees, commission at the plan's rate (none for paid traffic), operator net and ad money, each price a group of identical
/// events split once and multiplied. Pure arithmetic, so the day runs it in parallel.
pub fn split(s: &Scenario, rev: &Revenue, plans: &[Plan], date: Date) -> Booking {
    split_at_rates(s, rev, |k| plans.get(k).map_or(0, |p| p.rate_ppm), date)
}

/// The commission rates of the plans, by plan: what [`split`] reads of a plan, packed so that a
/// day's split finds a rate in a small array instead of a cache line of a large plan record.
pub fn rates(plans: &[Plan]) -> Vec<Ppm> {
    plans.iter().map(|p| p.rate_ppm).collect()
}

/// [`split`] with the plans' rates from [`rates`] (paid traffic, which has no plan, gets 0).
pub fn split_rated(s: &Scenario, rev: &Revenue, rates: &[Ppm], date: Date) -> Booking {
    split_at_rates(s, rev, |k| rates.get(k).copied().unwrap_or(0), date)
}

#[inline]
fn split_at_rates(s: &Scenario, rev: &Revenue, rate_of: impl Fn(usize) -> Ppm, date: Date) -> Booking {
    let src = rev.source;
    let mut b = Booking::nothing(src);
    b.money = rev.ad_views > 0 || rev.paid.iter().any(|n| *n > 0);
    if !b.money {
        return b;
    }
    let c = &s.categories[src.category as usize];
    let l = src.landing as usize;
    let rate = rate_of(src.plan as usize);
    let mut pay = |x: Fen, n: Fen, fee_ppm: Ppm| {
        let fee = share(x, fee_ppm);
        let base = match s.platform.commission_base {
            CommissionBase::NetOfFees => x - fee,
            CommissionBase::Net => x,
        };
        b.fees += fee * n;
        b.commission += share(base, rate) * n;
        b.net += (x - fee) * n;
    };
    let mut consumption: Fen = 0;
    for (k, &n) in rev.paid.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let x = c.prices_fen[k];
        let refunded = rev.refunded[k] as Fen;
        let kept = n as Fen - refunded;
        b.gmv += x * n as Fen;
        b.refunds += x * refunded;
        consumption += x * kept;
        pay(x, kept, c.fee_ppm[l]);
    }
    if rev.ad_views > 0 {
        let g = mul_div(rev.ad_views as i64, c.ecpm_fen_per_1000, 1000);
        b.gmv += g;
        pay(g, 1, s.platform.iaa_share_ppm[l]);
    }
    let ad_rule = s.platform.ad_money_categories[src.category as usize]
        && src.landing == Landing::Douyin
        && date >= s.platform.ad_money_from;
    if ad_rule && consumption > 0 {
        let android = if c.ios_iap {
            share(consumption, (s.platform.android_share * PPM as f64).round() as u32)
        } else {
            consumption
        };
        b.ad_credit = share(android, s.platform.ad_money_rate_ppm);
    }
    b
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
            due_cells: vec![vec![0; crate::model::own::cells(s)]; s.days as usize],
            beyond_horizon_fen: 0,
            trailing_out: vec![Vec::new(); s.days as usize],
            subsidy_left: s.subsidies.iter().map(|p| p.budget_fen).collect(),
            accrued_today: Vec::new(),
            accrued_cells_today: vec![0; crate::model::own::cells(s)],
            earned_today: Tally::default(),
            scatter: Vec::new(),
            plan_day: plans::PlanDay::default(),
            #[cfg(test)]
            in_order_only: false,
            #[cfg(test)]
            refigured_in_parallel: 0,
        }
    }

    /// Pays a subsidy (platform money) to a creator at once, from program `k`'s budget.
    pub fn pay_subsidy(&mut self, k: usize, creator: u32, amount: Fen, creators: &mut Creators, f: &mut Flows) {
        Purse {
            left: &mut self.subsidy_left,
            earned: &mut self.earned_today,
            subsidy_fen: &mut creators.subsidy_fen,
            trailing_fen: &mut creators.trailing_fen,
        }
        .pay(k, creator, amount, f);
    }

    /// Charges the plans with what the day's runs of [`Ledger::book_all`] summed for them: after
    /// the day's last run, before anything reads a plan's sums.
    pub fn close_books(&mut self, plans: &mut [Plan]) {
        self.plan_day.close(plans);
    }

    /// Step 9: queues today's accruals for their settlement day, settles what is due today, and
    /// lets earnings older than 30 days leave the trailing sums. Runs after every payment of the
    /// day, so with a delay of 0 days commission settles on the day it accrues.
    pub fn settle(&mut self, s: &Scenario, creators: &mut Creators, flows: &mut [Flows], day: u32) {
        let t = settlement_day(s, day) as usize;
        let (due, beyond) = (&mut self.due, &mut self.beyond_horizon_fen);
        for (creator, amount) in self.accrued_today.iter_mut().enumerate() {
            if *amount != 0 {
                match due.get_mut(t) {
                    Some(q) => q.push((creator as u32, std::mem::take(amount))),
                    None => *beyond += std::mem::take(amount),
                }
            }
        }
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
            earn(&mut creators.trailing_fen, &mut self.earned_today, creator, amount);
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
