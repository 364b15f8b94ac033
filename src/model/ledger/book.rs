//! Booking a run of the day's events (step 8 after the split): plans' budget caps, the sums of
//! records, creators and flows, and subsidies, in parallel wherever booking order cannot
//! change a fen.

use super::plans::{ones, Bits, PlanSum, RunSums};
use super::{cell, Booking, Ledger, Purse};
use crate::base::money::{share, Fen};
use crate::model::feed::Records;
use crate::model::funnel::NONE;
use crate::model::metrics::{Flow, Flows};
use crate::model::operators::{cap, Market, Plan};
use crate::model::own;
use crate::model::population::Creators;
use crate::scenario::{Scenario, Subsidy, SubsidyForm};
use rayon::prelude::*;

/// One walker's share of a booking: what its slice of the events adds up to, sorted by the
/// ranges that will apply it.
#[derive(Clone, Default)]
pub(super) struct Scatter {
    flows: Vec<Flows>,
    accrued_cells: Vec<Fen>,
    /// Sums by plan (all zero between runs), with a bit for each plan touched, and a bit for the
    /// plans some commission of which was cut because the budget had nothing left.
    plan_sums: Vec<PlanSum>,
    touched: Bits,
    closed: Bits,
    /// `records[k]`: (slot, net, opens) to add in record range k.
    records: Vec<Vec<(u32, Fen, u64)>>,
    /// `creators[k]`: (creator, opens, payers, commission) to add in creator range k.
    creators: Vec<Vec<(u32, u64, u64, Fen)>>,
    /// Ad money credited by title (all zero between runs), and the titles credited, in
    /// first-credit order: summed on the spot rather than listed for one thread to apply.
    title_credit: Vec<Fen>,
    titles_credited: Vec<u32>,
    /// Positions in the slice of events that may draw a subsidy, in booking order; what they
    /// would draw from each program before any budget runs out; and those grants by the range
    /// of creators that receives them.
    subsidised: Vec<u32>,
    requested: Vec<Fen>,
    grants: Vec<Vec<Grant>>,
}

/// A subsidy as figured in the first walk: who, in which cell, from which program, how much, and
/// for which event (its position in the run), so that a cap's cut can refigure it.
#[derive(Clone, Copy)]
struct Grant {
    creator: u32,
    cell: u32,
    program: u32,
    event: u32,
    amount: Fen,
}

const _: () = assert!(std::mem::size_of::<Grant>() == 24);

impl Scatter {
    fn clear(&mut self, ncell: usize, parts: usize, nplans: usize, ntitles: usize, nprograms: usize) {
        self.flows.clear();
        self.flows.resize(ncell, Flows::default());
        self.accrued_cells.clear();
        self.accrued_cells.resize(ncell, 0);
        self.plan_sums.resize(nplans, PlanSum::default());
        self.touched.reset(nplans);
        self.closed.reset(nplans);
        self.records.resize_with(parts, Vec::new);
        self.creators.resize_with(parts, Vec::new);
        self.records.iter_mut().for_each(Vec::clear);
        self.creators.iter_mut().for_each(Vec::clear);
        self.title_credit.resize(ntitles, 0);
        self.titles_credited.clear();
        self.subsidised.clear();
        self.requested.clear();
        self.requested.resize(nprograms, 0);
        self.grants.resize_with(parts, Vec::new);
        self.grants.iter_mut().for_each(Vec::clear);
    }
}

/// Books one event on its plan in booking order, capping commission at what the budget has
/// left; returns the commission paid if the cap cut it.
fn charge_in_order(plan: &mut Plan, e: &Booking, day: u32) -> Option<Fen> {
    let mut sum = PlanSum { opens: e.opens, ..PlanSum::default() };
    let mut cut = None;
    if e.money {
        cut = plan.cap(e.commission);
        sum = PlanSum { commission: cut.unwrap_or(e.commission), gmv: e.gmv, net: e.net, ..sum };
    }
    sum.charge(plan, day, cut.is_some());
    cut
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

/// Whether an event may draw a subsidy of a program of its category: it has a creator and some
/// commission or opens. The walk notes such events' grants, and a cap's cut refigures them.
#[inline]
fn asks_subsidy(e: &Booking) -> bool {
    e.source.creator != NONE && (e.commission > 0 || e.opens > 0)
}

/// The views and money of one event in the flows of a cell.
#[inline]
fn add_event(f: &mut Flows, e: &Booking) {
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

/// Ranges of records and creators per thread: more than one, so that a thread slowed by the
/// machine's other work, or given the busier range, leaves ranges for the other to take.
const RANGES_PER_THREAD: usize = 4;

impl Ledger {
    /// Whether to book every plan with budget left and pay every subsidy in booking order (the
    /// test switch [`Ledger::in_order_only`]; never outside tests).
    fn in_order_only(&self) -> bool {
        #[cfg(test)]
        let on = self.in_order_only;
        #[cfg(not(test))]
        let on = false;
        on
    }

    /// Step 8 for a run of the day's sources, in booking order. The split itself was done in
    /// parallel by [`super::split`]; what is left is what order decides and the sums.
    ///
    /// A plan's budget is used up in booking order, and a subsidy program's by every source in
    /// booking order, but everything else is a sum of integers, which any order gives to the fen.
    /// And order only matters to a budget that runs out within the run: one with room for all
    /// the run asks of it pays all, one with nothing left pays nothing. So, in three steps:
    /// (1) each slice of the events is walked once, in parallel: flows and per-plan sums are
    /// summed, commission of plans with nothing left is cut on the spot, and the adds to records
    /// and creators are sorted by the index range that owns them; (2) plans with room add their
    /// sums to the day's (charged to the plans once, as the day's booking closes), and the rare
    /// plan whose budget runs out in this run walks its events in booking order, so the cap falls
    /// on the same event at any thread count, while each range of records and creators applies
    /// its adds in parallel; (3) what the caps cut is taken back
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
        let walkers = rayon::current_num_threads().max(1);
        let parts = walkers * RANGES_PER_THREAD;
        let date = s.date(day);
        // Programs that pay on commission or opens today, by category, in program order. One whose
        // budget is spent pays nothing in any order, so it is left out: otherwise every event it
        // covers would be a candidate, and what they ask (more than its 0 fen left) would send
        // the payment down the one-thread path in booking order every day after it ran out.
        let mut programs: Vec<Vec<usize>> = vec![Vec::new(); s.categories.len()];
        for (k, p) in s.subsidies.iter().enumerate() {
            let pays_on_events = matches!(p.form, SubsidyForm::CommissionTopup | SubsidyForm::PerOpen);
            if pays_on_events && date >= p.from && date <= p.to && self.subsidy_left[k] > 0 {
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
        let slice = events.len().div_ceil(walkers).max(1);
        // The ranges' lengths as `by_range` cuts them.
        let record_len = records.sums.len().div_ceil(parts).max(1);
        let creator_len = creators.opens.len().div_ceil(parts).max(1);
        self.scatter.resize_with(walkers, Scatter::default);
        for sc in self.scatter.iter_mut() {
            sc.clear(ncell, parts, nplans, market.titles.len(), s.subsidies.len());
        }
        // Plans whose budget has nothing left as the run begins, one bit a plan: the walk then
        // reads what a plan has left only to cut a commission.
        self.plan_day.open(&mut market.plans, day);
        let (left, spent_plans) = (&self.plan_day.left, &self.plan_day.spent);
        // 1. Each slice once: flows, per-plan sums, and what each range must apply.
        let titles = &market.titles;
        // Only own plans' titles have an overlay cell: without them, no title need be read.
        let any_own = !s.plans.is_empty();
        events.par_chunks_mut(slice).zip(self.scatter.par_iter_mut()).enumerate().for_each(|(j, (run, sc))| {
            for (i, e) in run.iter_mut().enumerate() {
                // An event of no views and no money (most cohort-days) adds nothing anywhere.
                if !e.money && (e.imps | e.fresh | e.opens | e.payers) == 0 {
                    continue;
                }
                let p = e.source.plan;
                if p != NONE && (e.money || e.opens != 0) {
                    sc.touched.set(p as usize);
                    let sum = &mut sc.plan_sums[p as usize];
                    sum.opens += e.opens;
                    if e.money {
                        // A budget with nothing left cuts every commission to 0, in any order.
                        if spent_plans.get(p as usize) {
                            if let Some(paid) = cap(left[p as usize], e.commission) {
                                e.commission = paid;
                                sc.closed.set(p as usize);
                            }
                        }
                        sum.commission += e.commission;
                        sum.gmv += e.gmv;
                        sum.net += e.net;
                    }
                }
                let at = cell(e.source.category, e.source.landing);
                let overlay = if any_own { own::overlay_cell(s, titles[e.source.title as usize].own) } else { None };
                add_event(&mut sc.flows[at], e);
                if let Some(k) = overlay {
                    add_event(&mut sc.flows[k], e);
                }
                if e.money && e.ad_credit > 0 {
                    let credit = &mut sc.title_credit[e.source.title as usize];
                    if *credit == 0 {
                        sc.titles_credited.push(e.source.title);
                    }
                    *credit += e.ad_credit;
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
                if let Some(k) = overlay {
                    sc.accrued_cells[k] += e.commission;
                }
                if e.opens != 0 || e.payers != 0 || e.commission != 0 {
                    sc.creators[c as usize / creator_len].push((c, e.opens, e.payers, e.commission));
                }
                if !programs[e.source.category as usize].is_empty() && asks_subsidy(e) {
                    sc.subsidised.push(i as u32);
                    for &p in &programs[e.source.category as usize] {
                        let amount = subsidy(&s.subsidies[p], e);
                        sc.requested[p] += amount;
                        if amount > 0 {
                            let event = (j * slice + i) as u32;
                            let g = Grant { creator: c, cell: at as u32, program: p as u32, event, amount };
                            sc.grants[c as usize / creator_len].push(g);
                        }
                    }
                }
            }
        });
        // 2. Plans: the run's sums where the budget has room, else the events in booking order.
        // Each piece of plans is merged from the walkers' sums on its own, in parallel (one thread
        // merging them took 0.95 s of a 25-day national run's 9 s of booking); the plans at risk
        // come out in ascending order.
        let runs: Vec<RunSums> = self
            .scatter
            .iter()
            .map(|sc| RunSums { touched: &sc.touched, closed: &sc.closed, sums: &sc.plan_sums })
            .collect();
        let at_risk = self.plan_day.merge(&runs, self.in_order_only());
        self.scatter.par_iter_mut().for_each(|sc| {
            for (w, &word) in sc.touched.0.iter().enumerate() {
                for b in ones(word) {
                    sc.plan_sums[w * 64 + b] = PlanSum::default();
                }
            }
        });
        let mut cut = Vec::new();
        if !at_risk.is_empty() {
            // The at-risk plans' events are found slice by slice in parallel (a third of a
            // national run's runs have such a plan, and one thread walking all the events for
            // them took 0.7 s of its 9 s of booking), then charged in booking order, on plans
            // charged first with what the day's earlier runs summed for them.
            let mut risky = Bits::new(nplans);
            for &p in &at_risk {
                risky.set(p as usize);
                self.plan_day.charge_now(p as usize, &mut market.plans[p as usize]);
            }
            let risky = &risky;
            let found: Vec<Vec<u32>> = events
                .par_chunks(slice)
                .map(|sl| {
                    let of_risky = |e: &Booking| e.source.plan != NONE && risky.get(e.source.plan as usize);
                    (0..sl.len() as u32).filter(|&i| of_risky(&sl[i as usize])).collect()
                })
                .collect();
            for (j, found) in found.iter().enumerate() {
                for &i in found {
                    let at = j * slice + i as usize;
                    let e = &events[at];
                    let plan = &mut market.plans[e.source.plan as usize];
                    if let Some(commission) = charge_in_order(plan, e, day) {
                        cut.push((at, commission));
                    }
                }
            }
            for &p in &at_risk {
                self.plan_day.set_left(p as usize, market.plans[p as usize].budget_left());
            }
        }
        // Records and creators, by range.
        let scatter = &self.scatter;
        by_range(&mut records.sums, parts)
            .into_iter()
            .zip(
                by_range(&mut creators.opens, parts)
                    .into_iter()
                    .zip(by_range(&mut creators.payers, parts))
                    .zip(by_range(&mut self.accrued_today, parts)),
            )
            .enumerate()
            .collect::<Vec<_>>()
            .into_par_iter()
            .for_each(|(k, ((r_lo, sums), (((c_lo, opens), (_, payers)), (_, accrued))))| {
                for sc in scatter {
                    for &(r, n, o) in &sc.records[k] {
                        let sum = &mut sums[r as usize - r_lo];
                        sum.net_fen += n;
                        sum.opens += o;
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
        for sc in &self.scatter {
            for (k, f) in sc.flows.iter().enumerate() {
                flows[k].absorb(f);
                self.accrued_cells_today[k] += sc.accrued_cells[k];
            }
        }
        // What the walkers figured each program is asked, less what a cap's cut takes off a
        // top-up; the events so cut are refigured when paid.
        let mut asked = vec![0; s.subsidies.len()];
        for sc in &self.scatter {
            for (a, r) in asked.iter_mut().zip(&sc.requested) {
                *a += r;
            }
        }
        let any_cut = !cut.is_empty();
        let mut refigured = Bits::new(if any_cut { events.len() } else { 0 });
        for (at, commission) in cut {
            let e = &mut events[at];
            let before = *e;
            let less = e.commission - commission;
            e.commission = commission;
            if asks_subsidy(&before) {
                refigured.set(at);
                for &p in &programs[e.source.category as usize] {
                    asked[p] -= subsidy(&s.subsidies[p], &before) - subsidy(&s.subsidies[p], e);
                }
            }
            let k = cell(e.source.category, e.source.landing);
            let overlay = own::overlay_cell(s, market.titles[e.source.title as usize].own);
            for k in std::iter::once(k).chain(overlay) {
                flows[k].add(Flow::CommissionAccrued, -less);
                flows[k].add(Flow::OperatorNet, less);
                if e.source.creator != NONE {
                    self.accrued_cells_today[k] -= less;
                }
            }
            if e.source.creator != NONE {
                self.accrued_today[e.source.creator as usize] -= less;
            }
        }
        for sc in self.scatter.iter_mut() {
            for &title in &sc.titles_credited {
                market.titles[title as usize].ad_credit_fen += std::mem::take(&mut sc.title_credit[title as usize]);
            }
        }
        // A program that can pay everything asked of it in this run pays the same whatever the
        // order, so creators' ranges pay in parallel what the walkers noted (refigured where a cap
        // has since cut the commission it was figured on); otherwise who gets the last fen
        // depends on booking order, and one walker pays in it. (Going down the one-thread path
        // whenever a cap had cut anything took 0.16 s of the 30-day regional run's 0.96 s of
        // booking on 2 threads.)
        let events: &[Booking] = events;
        let candidates = || {
            self.scatter
                .iter()
                .enumerate()
                .flat_map(|(j, sc)| sc.subsidised.iter().map(move |&i| &events[j * slice + i as usize]))
        };
        let refigured = &refigured;
        if !self.in_order_only() && asked.iter().zip(&self.subsidy_left).all(|(a, left)| a <= left) {
            #[cfg(test)]
            {
                self.refigured_in_parallel += refigured.0.iter().map(|w| w.count_ones() as usize).sum::<usize>();
            }
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
                        let amount = if any_cut && refigured.get(g.event as usize) {
                            subsidy(&s.subsidies[g.program as usize], &events[g.event as usize])
                        } else {
                            g.amount
                        };
                        if amount == 0 {
                            continue;
                        }
                        let i = g.creator as usize - lo;
                        spent[g.program as usize] += amount;
                        subsidy_fen[i] += amount;
                        sums[g.cell as usize].add(Flow::Subsidies, amount);
                        trailing_fen[i] += amount;
                        if earned_sum[i] == 0 {
                            touched.push(g.creator);
                        }
                        earned_sum[i] += amount;
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
}
