//! The ledger: splits every revenue event into refunds, platform fees, commission under the plan's
//! budget and operator net, to the fen; queues commission for settlement; pays subsidies and ad
//! money (MODEL.md sec. 8).

use crate::calendar::Date;
use crate::feed::Records;
use crate::funnel::{Revenue, Source, NONE};
use crate::metrics::{Flow, Flows};
use crate::money::{mul_div, share, Fen, Ppm, PPM};
use crate::operators::{Market, Plan, UNLIMITED};
use crate::population::Creators;
use crate::scenario::{CommissionBase, Landing, Scenario, Settlement, Subsidy, SubsidyForm};
use rayon::prelude::*;

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
    /// Scratch of [`Ledger::book_all`], one per thread, and the plans' totals, kept across calls.
    scatter: Vec<Scatter>,
    plan_totals: Vec<PlanSum>,
    /// Books every plan with budget left and pays every subsidy in booking order, even when the
    /// budget has room for all that is asked: the reference the summed ways are tested against.
    #[cfg(test)]
    pub in_order_only: bool,
}

/// One walker's share of the second booking pass over its slice of the events.
#[derive(Clone, Default)]
struct Scatter {
    flows: Vec<Flows>,
    accrued_cells: Vec<Fen>,
    /// Sums by plan (all zero between runs), and the plans touched, in first-touch order.
    plan_sums: Vec<PlanSum>,
    plans_touched: Vec<u32>,
    /// `records[k]`: (slot, net, opens) to add in record range k.
    records: Vec<Vec<(u32, Fen, u64)>>,
    /// `creators[k]`: (creator, opens, payers, commission) to add in creator range k.
    creators: Vec<Vec<(u32, u64, u64, Fen)>>,
    /// (title, ad money credited to it).
    ad_credit: Vec<(u32, Fen)>,
    /// Positions in the slice of events that may draw a subsidy, in booking order; what they
    /// would draw from each program before any budget runs out; and those grants by the range
    /// of creators that receives them.
    subsidised: Vec<u32>,
    requested: Vec<Fen>,
    grants: Vec<Vec<Grant>>,
}

/// A subsidy as figured in the first walk: who, in which cell, from which program, how much.
#[derive(Clone, Copy)]
struct Grant {
    creator: u32,
    cell: u32,
    program: u32,
    amount: Fen,
}

impl Scatter {
    fn clear(&mut self, ncell: usize, parts: usize, nplans: usize) {
        self.flows.clear();
        self.flows.resize(ncell, Flows::default());
        self.accrued_cells.clear();
        self.accrued_cells.resize(ncell, 0);
        self.plan_sums.resize(nplans, PlanSum::default());
        self.plans_touched.clear();
        self.records.resize_with(parts, Vec::new);
        self.creators.resize_with(parts, Vec::new);
        self.records.iter_mut().for_each(Vec::clear);
        self.creators.iter_mut().for_each(Vec::clear);
        self.ad_credit.clear();
        self.subsidised.clear();
        self.requested.clear();
        self.grants.resize_with(parts, Vec::new);
        self.grants.iter_mut().for_each(Vec::clear);
    }
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
/// that subsidies can be paid in booking order while other threads sum the day's events.
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

/// One run's events of one plan, summed (commission after any cut for a budget with nothing
/// left).
#[derive(Clone, Copy, Default, PartialEq)]
struct PlanSum {
    events: u32,
    opens: u64,
    commission: Fen,
    gmv: Fen,
    net: Fen,
    /// Some commission was cut because the budget had nothing left.
    closed: bool,
}

impl PlanSum {
    fn absorb(&mut self, o: &PlanSum) {
        self.events += o.events;
        self.opens += o.opens;
        self.commission += o.commission;
        self.gmv += o.gmv;
        self.net += o.net;
        self.closed |= o.closed;
    }

    /// Books the sums on a plan whose budget had room for all of it (or nothing left at all).
    fn charge(&self, plan: &mut Plan, day: u32) {
        plan.opens += self.opens;
        if self.closed {
            plan.budget_out_day.get_or_insert(day);
            plan.open = false;
        }
        plan.used_fen += self.commission;
        debug_assert!(plan.budget_fen == UNLIMITED || plan.used_fen <= plan.budget_fen);
        plan.commission_fen += self.commission;
        plan.gmv_fen += self.gmv;
        plan.commission_7d[(day % 7) as usize] += self.commission;
        plan.review_commission_fen += self.commission;
        // Operator net: after refunds, fees and commission.
        plan.review_net_fen += self.net - self.commission;
    }
}

/// Books one event on its plan in booking order, capping commission at what the budget has
/// left; returns the commission paid if the cap cut it.
fn charge_in_order(plan: &mut Plan, e: &Booking, day: u32) -> Option<Fen> {
    plan.opens += e.opens;
    if !e.money {
        return None;
    }
    let mut commission = e.commission;
    let left = plan.budget_left();
    let cut = commission > left;
    if cut {
        commission = left.max(0);
        plan.budget_out_day.get_or_insert(day);
        plan.open = false;
    }
    PlanSum { events: 1, opens: 0, commission, gmv: e.gmv, net: e.net, closed: false }.charge(plan, day);
    cut.then_some(commission)
}

/// What program `p` (a commission top-up or a per-open bonus) pays for one event, before its
/// budget: nothing for other forms.
fn subsidy(p: &Subsidy, e: &Booking) -> Fen {
    match p.form {
        SubsidyForm::CommissionTopup if e.commission > 0 => share(e.commission, p.topup_ppm),
        SubsidyForm::PerOpen if e.opens > 0 => p.per_open_fen * e.opens as Fen,
        _ => 0,
    }
}

/// `v` cut into exactly `parts` consecutive pieces (some may be empty), each with its offset.
fn by_range<T>(mut v: &mut [T], parts: usize) -> Vec<(usize, &mut [T])> {
    let len = v.len().div_ceil(parts).max(1);
    let mut out = Vec::with_capacity(parts);
    let mut lo = 0;
    for _ in 0..parts {
        let (head, tail) = v.split_at_mut(len.min(v.len()));
        let n = head.len();
        out.push((lo, head));
        lo += n;
        v = tail;
    }
    out
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
    let src = rev.source;
    let mut b = Booking::nothing(src);
    b.money = rev.ad_views > 0 || rev.paid.iter().any(|n| *n > 0);
    if !b.money {
        return b;
    }
    let c = &s.categories[src.category as usize];
    let l = src.landing as usize;
    let rate = plans.get(src.plan as usize).map_or(0, |p| p.rate_ppm);
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
            due_cells: vec![vec![0; 2 * s.categories.len()]; s.days as usize],
            beyond_horizon_fen: 0,
            trailing_out: vec![Vec::new(); s.days as usize],
            subsidy_left: s.subsidies.iter().map(|p| p.budget_fen).collect(),
            accrued_today: Vec::new(),
            accrued_cells_today: vec![0; 2 * s.categories.len()],
            earned_today: Tally::default(),
            scatter: Vec::new(),
            plan_totals: Vec::new(),
            #[cfg(test)]
            in_order_only: false,
        }
    }

    /// Step 8 for a run of the day's sources, in booking order. The split itself was done in
    /// parallel by [`split`]; what is left is what order decides and the sums.
    ///
    /// A plan's budget is used up in booking order, and a subsidy program's by every source in
    /// booking order, but everything else is a sum of integers, which any order gives to the fen.
    /// And order only matters to a budget that runs out within the run: one with room for all
    /// the run asks of it pays all, one with nothing left pays nothing. So, in three steps:
    /// (1) each slice of the events is walked once, in parallel: flows and per-plan sums are
    /// summed, commission of plans with nothing left is cut on the spot, and the adds to records
    /// and creators are sorted by the index range that owns them; (2) plans with room take their
    /// sums, and the rare plan whose budget runs out in this run walks its events in booking
    /// order, so the cap falls on the same event at any thread count, while each range of
    /// records and creators applies its adds in parallel; (3) what the caps cut is taken back
    /// from the sums, and subsidies are paid (in parallel while programs have room for all that
    /// is asked, else in booking order). (When each walker read every event for its own range of
    /// plans, records and creators, the stage ran 1.1x to 1.4x faster on 2 threads than on 1.)
    #[allow(clippy::too_many_arguments)]
    pub fn book_all(
        &mut self,
        s: &Scenario,
        events: &mut [Booking],
        market: &mut Market,
        creators: &mut Creators,
        records: &mut Records,
        flows: &mut [Flows],
        day: u32,
    ) {
        let parts = rayon::current_num_threads().max(1);
        let date = s.date(day);
        // Programs that pay on commission or opens today, by category, in program order.
        let mut programs: Vec<Vec<usize>> = vec![Vec::new(); s.categories.len()];
        for (k, p) in s.subsidies.iter().enumerate() {
            if matches!(p.form, SubsidyForm::CommissionTopup | SubsidyForm::PerOpen) && date >= p.from && date <= p.to {
                for (c, on) in p.categories.iter().enumerate() {
                    if *on {
                        programs[c].push(k);
                    }
                }
            }
        }
        self.accrued_today.resize(creators.opens.len(), 0);
        let ncell = flows.len();
        let nplans = market.plans.len();
        let slice = events.len().div_ceil(parts).max(1);
        // The ranges' lengths as `by_range` cuts them.
        let record_len = records.net_fen.len().div_ceil(parts).max(1);
        let creator_len = creators.opens.len().div_ceil(parts).max(1);
        self.scatter.resize_with(parts, Scatter::default);
        for sc in self.scatter.iter_mut() {
            sc.clear(ncell, parts, nplans);
        }
        // 1. Each slice once: flows, per-plan sums, and what each range must apply.
        let plans: &[Plan] = &market.plans;
        events.par_chunks_mut(slice).zip(self.scatter.par_iter_mut()).for_each(|(slice, sc)| {
            for (i, e) in slice.iter_mut().enumerate() {
                let p = e.source.plan;
                if p != NONE && (e.money || e.opens != 0) {
                    let sum = &mut sc.plan_sums[p as usize];
                    if *sum == PlanSum::default() {
                        sc.plans_touched.push(p);
                    }
                    sum.events += 1;
                    sum.opens += e.opens;
                    if e.money {
                        let left = plans[p as usize].budget_left();
                        if left <= 0 && e.commission > left {
                            e.commission = 0;
                            sum.closed = true;
                        }
                        sum.commission += e.commission;
                        sum.gmv += e.gmv;
                        sum.net += e.net;
                    }
                }
                let at = cell(e.source.category, e.source.landing);
                let f = &mut sc.flows[at];
                f.add(Flow::Impressions, e.imps as i64);
                f.add(Flow::FreshReach, e.fresh as i64);
                f.add(Flow::Opens, e.opens as i64);
                f.add(Flow::Payers, e.payers as i64);
                if e.money {
                    f.add(Flow::Gmv, e.gmv);
                    f.add(Flow::Refunds, e.refunds);
                    f.add(Flow::PlatformFees, e.fees);
                    f.add(Flow::OperatorNet, e.net - e.commission);
                    f.add(Flow::CommissionAccrued, e.commission);
                    f.add(Flow::AdMoney, e.ad_credit);
                    if e.ad_credit > 0 {
                        sc.ad_credit.push((e.source.title, e.ad_credit));
                    }
                }
                let r = e.source.record;
                if r != NONE && (e.net != 0 || e.opens != 0) {
                    sc.records[r as usize / record_len].push((r, e.net, e.opens));
                }
                let c = e.source.creator;
                if c == NONE {
                    continue;
                }
                sc.accrued_cells[at] += e.commission;
                if e.opens != 0 || e.payers != 0 || e.commission != 0 {
                    sc.creators[c as usize / creator_len].push((c, e.opens, e.payers, e.commission));
                }
                if !programs[e.source.category as usize].is_empty() && (e.commission > 0 || e.opens > 0) {
                    sc.subsidised.push(i as u32);
                    sc.requested.resize(s.subsidies.len(), 0);
                    for &p in &programs[e.source.category as usize] {
                        let amount = subsidy(&s.subsidies[p], e);
                        sc.requested[p] += amount;
                        if amount > 0 {
                            let g = Grant { creator: c, cell: at as u32, program: p as u32, amount };
                            sc.grants[c as usize / creator_len].push(g);
                        }
                    }
                }
            }
        });
        // 2. Plans: the run's sums where the budget has room, else the events in booking order.
        self.plan_totals.resize(nplans, PlanSum::default());
        let mut touched = Vec::new();
        for sc in self.scatter.iter_mut() {
            for &p in &sc.plans_touched {
                let total = &mut self.plan_totals[p as usize];
                if *total == PlanSum::default() {
                    touched.push(p);
                }
                total.absorb(&std::mem::take(&mut sc.plan_sums[p as usize]));
            }
        }
        let mut at_risk = Vec::new();
        for &p in &touched {
            let sum = std::mem::take(&mut self.plan_totals[p as usize]);
            let plan = &mut market.plans[p as usize];
            let left = plan.budget_left();
            #[cfg(test)]
            let in_order = self.in_order_only;
            #[cfg(not(test))]
            let in_order = false;
            if left > 0 && (sum.commission > left || in_order) {
                at_risk.push(p);
            } else {
                sum.charge(plan, day);
            }
        }
        let mut cut = Vec::new();
        if !at_risk.is_empty() {
            at_risk.sort_unstable();
            for (at, e) in events.iter().enumerate() {
                if e.source.plan != NONE && at_risk.binary_search(&e.source.plan).is_ok() {
                    let plan = &mut market.plans[e.source.plan as usize];
                    if let Some(commission) = charge_in_order(plan, e, day) {
                        cut.push((at, commission));
                    }
                }
            }
        }
        // Records and creators, by range.
        let scatter = &self.scatter;
        by_range(&mut records.net_fen, parts)
            .into_iter()
            .zip(by_range(&mut records.opens, parts))
            .zip(
                by_range(&mut creators.opens, parts)
                    .into_iter()
                    .zip(by_range(&mut creators.payers, parts))
                    .zip(by_range(&mut self.accrued_today, parts)),
            )
            .enumerate()
            .collect::<Vec<_>>()
            .into_par_iter()
            .for_each(|(k, (((r_lo, net), (_, rec_opens)), (((c_lo, opens), (_, payers)), (_, accrued))))| {
                for sc in scatter {
                    for &(r, n, o) in &sc.records[k] {
                        net[r as usize - r_lo] += n;
                        rec_opens[r as usize - r_lo] += o;
                    }
                    for &(c, o, p, commission) in &sc.creators[k] {
                        let i = c as usize - c_lo;
                        opens[i] += o;
                        payers[i] += p;
                        accrued[i] += commission;
                    }
                }
            });
        // 3. What the caps cut, then subsidies.
        for (sc, f) in self.scatter.iter().flat_map(|sc| sc.flows.iter().enumerate().map(move |f| (sc, f))) {
            flows[f.0].absorb(f.1);
            self.accrued_cells_today[f.0] += sc.accrued_cells[f.0];
        }
        let any_cut = !cut.is_empty();
        for (at, commission) in cut {
            let e = &mut events[at];
            let less = e.commission - commission;
            e.commission = commission;
            let k = cell(e.source.category, e.source.landing);
            flows[k].add(Flow::CommissionAccrued, -less);
            flows[k].add(Flow::OperatorNet, less);
            if e.source.creator != NONE {
                self.accrued_cells_today[k] -= less;
                self.accrued_today[e.source.creator as usize] -= less;
            }
        }
        for sc in &self.scatter {
            for &(title, credit) in &sc.ad_credit {
                market.titles[title as usize].ad_credit_fen += credit;
            }
        }
        // A program that can pay everything asked of it in this run pays the same whatever the
        // order, so creators' ranges pay in parallel what the walkers noted (unless a cap has
        // since cut a commission it was figured on); otherwise who gets the last fen depends on
        // booking order, and one walker pays in it.
        let mut asked = vec![0; s.subsidies.len()];
        for sc in &self.scatter {
            for (a, r) in asked.iter_mut().zip(&sc.requested) {
                *a += r;
            }
        }
        let events: &[Booking] = events;
        let candidates = || {
            self.scatter
                .iter()
                .enumerate()
                .flat_map(|(j, sc)| sc.subsidised.iter().map(move |&i| &events[j * slice + i as usize]))
        };
        #[cfg(test)]
        let ample = !self.in_order_only;
        #[cfg(not(test))]
        let ample = true;
        if ample && !any_cut && asked.iter().zip(&self.subsidy_left).all(|(a, left)| a <= left) {
            let scatter = &self.scatter;
            let earned = &mut self.earned_today;
            earned.sum.resize(creators.len(), 0);
            let paid: Vec<(Vec<Flows>, Vec<Fen>, Vec<u32>)> = by_range(&mut creators.subsidy_fen, parts)
                .into_iter()
                .zip(by_range(&mut creators.trailing_fen, parts))
                .zip(by_range(&mut earned.sum, parts))
                .collect::<Vec<_>>()
                .into_par_iter()
                .enumerate()
                .map(|(k, (((lo, subsidy_fen), (_, trailing_fen)), (_, earned_sum)))| {
                    let mut sums = vec![Flows::default(); ncell];
                    let mut spent = vec![0; s.subsidies.len()];
                    let mut touched = Vec::new();
                    for g in scatter.iter().flat_map(|sc| &sc.grants[k]) {
                        let i = g.creator as usize - lo;
                        spent[g.program as usize] += g.amount;
                        subsidy_fen[i] += g.amount;
                        sums[g.cell as usize].add(Flow::Subsidies, g.amount);
                        trailing_fen[i] += g.amount;
                        if earned_sum[i] == 0 {
                            touched.push(g.creator);
                        }
                        earned_sum[i] += g.amount;
                    }
                    (sums, spent, touched)
                })
                .collect();
            for (sums, spent, touched) in paid {
                for (k, f) in sums.iter().enumerate() {
                    flows[k].absorb(f);
                }
                for (left, x) in self.subsidy_left.iter_mut().zip(spent) {
                    *left -= x;
                }
                earned.touched.extend(touched);
            }
        } else {
            let mut purse = Purse {
                left: &mut self.subsidy_left,
                earned: &mut self.earned_today,
                subsidy_fen: &mut creators.subsidy_fen,
                trailing_fen: &mut creators.trailing_fen,
            };
            for e in candidates() {
                let f = &mut flows[cell(e.source.category, e.source.landing)];
                for &p in &programs[e.source.category as usize] {
                    purse.pay(p, e.source.creator, subsidy(&s.subsidies[p], e), f);
                }
            }
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
