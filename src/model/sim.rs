//! One replication: the state of the market and the day loop in the order of MODEL.md sec. 10.
//!
//! Why this order: rules and operators act first so that the square creators see today is the
//! one in force; clips are posted before the feed serves so that a new clip gets its first day;
//! the funnel runs on today's reach before the ledger splits its money; settlement follows the
//! ledger so that with a delay of 0 days commission settles on the day it accrues; clips age
//! after they have earned, so today's views count in the tier they were served in; and creators
//! learn and churn on what they were paid.

use crate::base::gather;
use crate::base::money::Fen;
use crate::base::profile::Stages;
use crate::base::rng::{self, Kind};
use crate::model::audience::{self, Paid};
use crate::model::burn_in::{self, Opening};
use crate::model::counts::EpisodeCounts;
use crate::model::feed::{self, Clip, Expired, Records};
use crate::model::funnel::{self, Cohort, Source, NONE};
use crate::model::ledger::{self, cell, Booking, Ledger};
use crate::model::metrics::{Detail, Flow, Flows, RepResult};
use crate::model::operators::Market;
use crate::model::own;
use crate::model::population::{concentration, Creators};
use crate::model::prior::prior_revenue_rmb;
use crate::model::square::{SquareStats, SquareView};
use crate::scenario::{Landing, Scenario};
use rayon::prelude::*;

mod posting;

/// Sources (cohorts, clips) per chunk of the funnel and the ledger. A chunk's draws run in
/// parallel, then the ledger books the chunk in order, so memory stays bounded by the chunk (not
/// by millions of cohorts) and the order of booking is the same at any thread count. The size:
/// large enough that the threads' meeting at each chunk's end costs little (at 2^15 the draws ran
/// 1.5x faster on 2 threads than on 1, at 2^17 1.9x), small enough that a chunk's bookings
/// (13 MB) stay in the last-level cache for the ledger's walks.
pub const CHUNK: usize = 1 << 17;

/// The state of one replication.
pub struct World<'s> {
    s: &'s Scenario,
    rep_seed: u64,
    pub creators: Creators,
    pub market: Market,
    clips: Vec<Clip>,
    expired: Vec<Expired>,
    records: Records,
    /// Live payer and viewer cohorts by the day they began, oldest first (the order the ledger
    /// books them in): compacted in place each night and extended by the day's new cohorts, so
    /// its memory is allocated and touched once. (A vector a day, sized for every clip, faulted in
    /// about 300 MB of fresh pages a day in the national run: 5% of its time went to the kernel
    /// zeroing them.)
    cohorts: Vec<Cohort>,
    ledger: Ledger,
    /// The funnel's fixed probabilities with their tables.
    draws: funnel::Draws,
    stats: SquareStats,
    /// `learn_due[t]`: the clips whose creators learn on day t.
    learn_due: Vec<Vec<Expired>>,
    /// `program_clips[i * nprog + k]`: creator i's clips in per-clip subsidy program k.
    program_clips: Vec<u32>,
    next_clip: u64,
    clip_days: u64,
    daily: Vec<Vec<Flows>>,
    active_by_day: Vec<u32>,
    entry_earnings_warmup: f64,
    plan_used: Option<Vec<(u32, u32, Fen)>>,
    episode: EpisodeCounts,
    /// Own plans: their flows by plan and day, and who posted on them.
    own_daily: Vec<Vec<Flows>>,
    own_takers: own::Takers,
    // Scratch buffers reused across days.
    demand: Vec<f64>,
    imps_by_piece: Vec<Vec<u64>>,
    reach_shares: Vec<audience::Share>,
    bookings: Vec<Booking>,
    new_cohorts: Vec<Option<Cohort>>,
    record_slots: Vec<u32>,
    /// Wall time by stage (`CPSIM_PROFILE`).
    stages: Stages,
    /// The first reported day (0 unless a burn-in runs first) and the books as they opened then.
    pub report_from: u32,
    opening: Option<Opening>,
}

impl<'s> World<'s> {
    pub fn new(s: &'s Scenario, rep_seed: u64, detail: bool) -> World<'s> {
        let (prior, opens) = prior_revenue_rmb(s);
        let mut creators = Creators { ncat: s.categories.len(), ..Default::default() };
        for _ in 0..s.creators.count {
            creators.push_new(s, rep_seed, 0, 1.0, &prior);
        }
        let mut market = Market::default();
        for (cat, n) in initial_titles(s).into_iter().enumerate() {
            for _ in 0..n {
                market.launch(s, rep_seed, cat, 0, true);
            }
        }
        own::place(&mut market, s, rep_seed);
        let nprog = s.subsidies.len();
        World {
            s,
            rep_seed,
            program_clips: vec![0; creators.len() * nprog],
            creators,
            market,
            clips: Vec::new(),
            expired: Vec::new(),
            records: Records::default(),
            cohorts: Vec::new(),
            ledger: Ledger::new(s),
            draws: funnel::Draws::new(s),
            stats: SquareStats { mean_revenue_rmb: prior, mean_opens: opens },
            learn_due: vec![Vec::new(); s.days as usize],
            next_clip: 0,
            clip_days: 0,
            daily: Vec::with_capacity(s.days as usize),
            active_by_day: Vec::with_capacity(s.days as usize),
            entry_earnings_warmup: f64::NAN,
            plan_used: detail.then(Vec::new),
            episode: EpisodeCounts::default(),
            own_daily: vec![Vec::with_capacity(s.days as usize); s.plans.len()],
            own_takers: own::Takers::new(s),
            demand: Vec::new(),
            imps_by_piece: Vec::new(),
            reach_shares: Vec::new(),
            bookings: Vec::new(),
            new_cohorts: Vec::new(),
            record_slots: Vec::new(),
            stages: Stages::default(),
            report_from: 0,
            opening: None,
        }
    }

    /// Replication `rep` of `s`, built on `extended` (`burn_in::extend(s)`), reporting from the
    /// first day past the burn-in.
    fn for_replication(s: &Scenario, extended: &'s Scenario, rep: u32, detail: bool) -> World<'s> {
        let mut w = World::new(extended, rng::replication_seed(s.seed, rep), detail);
        w.report_from = s.burn_in_days;
        w
    }

    /// Runs under `after` from the next step on (`model::switch`): the rules the day loop reads,
    /// the funnel's tables built from them, and the own plans as `after` changes them. Anything
    /// else built from the scenario once a replication must be rebuilt here too.
    pub fn switch_to(&mut self, after: &'s Scenario) {
        crate::model::switch::revise_own_plans(&mut self.market, self.s, after);
        self.draws = funnel::Draws::new(after);
        self.s = after;
    }

    /// The live clips, the square's category means, the ledger and the revenue records: read
    /// access for the stage benchmarks (`benches/stages.rs`), which start from a real day's state.
    pub fn clips(&self) -> &[Clip] {
        &self.clips
    }
    pub fn stats(&self) -> &SquareStats {
        &self.stats
    }
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    pub fn records(&self) -> &Records {
        &self.records
    }
    pub fn cohorts(&self) -> impl Iterator<Item = &Cohort> {
        self.cohorts.iter()
    }

    /// Runs every day and returns the replication's results.
    pub fn run(self) -> RepResult {
        self.run_with(&|_| {})
    }

    /// Runs every day, calling `on_day` with each day done (a progress bar's hook: the model
    /// knows no terminal), and returns the replication's results.
    pub fn run_with(mut self, on_day: &dyn Fn(u32)) -> RepResult {
        for day in 0..self.s.days {
            self.step(day);
            on_day(day);
        }
        self.finish()
    }

    /// One day, phases 1 to 12.
    pub fn step(&mut self, day: u32) {
        let s = self.s;
        if day == self.report_from && day > 0 {
            self.open_books(day);
        }
        self.stages.start();
        let mut flows = vec![Flows::default(); own::cells(s)];
        // 1-2: rules are read by date where they apply; operators launch, close and steer.
        for p in self.market.plans.iter_mut() {
            p.clips_7d[(day % 7) as usize] = 0;
            p.commission_7d[(day % 7) as usize] = 0;
        }
        self.market.operate(s, self.rep_seed, day);
        // 3: entry.
        if day > 0 {
            let n = self.creators.entrants(s, self.rep_seed, day);
            for _ in 0..n {
                self.creators.push_new(
                    s,
                    self.rep_seed,
                    day,
                    s.creators.newcomer_followers,
                    &self.stats.mean_revenue_rmb,
                );
            }
            self.program_clips.resize(self.creators.len() * s.subsidies.len(), 0);
        }
        self.stages.lap("operators, entry");
        // 4: plan choice and new clips.
        let view = SquareView::build(s, &self.market, &self.stats, &self.ledger.subsidy_left, day);
        let (choices, attempts) = view.choose_all(s, &self.creators, &self.program_clips, self.rep_seed, day);
        self.episode.attempts += attempts;
        self.stages.lap("plan choice");
        self.post_all(&choices, day, &mut flows);
        self.stages.lap("posting");
        // 5: feed.
        self.clip_days += self.clips.len() as u64;
        feed::serve(
            s,
            &mut self.clips,
            &self.creators.followers,
            self.rep_seed,
            day,
            &mut self.demand,
            self.market.titles.len(),
            &mut self.imps_by_piece,
        );
        self.stages.lap("feed serve");
        let mut paid = self.buy_traffic(&mut flows, day);
        // 6: audience.
        audience::reach(
            &mut self.market.titles,
            &mut self.clips,
            &mut paid,
            self.rep_seed,
            day,
            &mut self.imps_by_piece,
            &mut self.reach_shares,
        );
        self.stages.lap("audience reach");
        // 7-8: funnel and ledger. Cohorts of earlier days first, then today's views; the ledger
        // books in that fixed order, which decides which event crosses a budget.
        // Work goes in chunks (see CHUNK). Buffers are kept across days: allocating them anew
        // cost a page fault per 4 KiB.
        let rep_seed = self.rep_seed;
        let date = s.date(day);
        let mut bookings = std::mem::take(&mut self.bookings);
        // Rates do not change while the day books (only operators, in step 2, set them).
        let rates = ledger::rates(&self.market.plans);
        // Held apart from the world while the day books (which borrows the world mutably).
        let held = std::mem::take(&mut self.draws);
        let draws = &held;
        let (cohort_streams, funnel_streams) =
            (rng::Streams::new(rep_seed, Kind::Cohort).on(day), rng::Streams::new(rep_seed, Kind::Funnel).on(day));
        for lo in (0..self.cohorts.len()).step_by(CHUNK) {
            let hi = (lo + CHUNK).min(self.cohorts.len());
            let rates = &rates;
            // A cohort that made nothing today still gets its (empty) booking: walking it
            // costs the ledger less than squeezing it out of the chunk on one thread.
            self.cohorts[lo..hi]
                .par_iter_mut()
                .map(|co| match funnel::cohort_day(s, draws, co, cohort_streams) {
                    Some(rev) => ledger::split_rated(s, &rev, rates, date),
                    None => Booking::nothing(co.source),
                })
                .collect_into_vec(&mut bookings);
            self.stages.lap("cohorts: draws, split");
            self.book(&mut bookings, &mut flows, day);
            self.stages.lap("cohorts: book");
        }
        self.cohorts.retain(|c| !c.spent());
        // At most one cohort a clip and a paid title. Reserved exactly, so that the vector holds
        // no doubling's spare half (a grown allocation this large is remapped, not copied).
        self.cohorts.reserve_exact(self.clips.len() + self.market.titles.len());
        self.stages.lap("cohorts: keep live");
        let mut new_cohorts = std::mem::take(&mut self.new_cohorts);
        for lo in (0..self.clips.len()).step_by(CHUNK) {
            let hi = (lo + CHUNK).min(self.clips.len());
            let rates = &rates;
            self.clips[lo..hi]
                .par_iter()
                .map(|c| {
                    let o = funnel::convert_clip(s, draws, c, funnel_streams, day);
                    let mut b = ledger::split_rated(s, &o.revenue, rates, date);
                    (b.imps, b.fresh, b.opens, b.payers) = (c.imps as u64, c.fresh as u64, o.opens, o.payers);
                    (b, o.cohort)
                })
                .unzip_into_vecs(&mut bookings, &mut new_cohorts);
            self.stages.lap("clips: draws, split");
            self.book(&mut bookings, &mut flows, day);
            self.stages.lap("clips: book");
            gather::append_somes(&mut self.cohorts, &mut new_cohorts);
            self.stages.lap("clips: new cohorts");
        }
        self.new_cohorts = new_cohorts;
        bookings.clear();
        for p in &paid {
            let t = &self.market.titles[p.title as usize];
            let src = Source {
                creator: NONE,
                plan: NONE,
                record: NONE,
                title: p.title,
                category: t.category,
                landing: t.landing,
            };
            let mut r = rng::stream(rep_seed, Kind::Paid, t.stream, day);
            let o = funnel::convert(
                s,
                draws,
                src,
                draws.odds(t.category, None),
                p.fresh,
                p.imps - p.fresh,
                &mut r,
                (1 << 62) | (t.stream << 12) | day as u64,
            );
            let mut b = ledger::split(s, &o.revenue, &[], date);
            (b.imps, b.fresh, b.opens, b.payers) = (p.imps, p.fresh, o.opens, o.payers);
            bookings.push(b);
            self.cohorts.extend(o.cohort);
        }
        self.book(&mut bookings, &mut flows, day);
        self.ledger.close_books(&mut self.market.plans);
        self.bookings = bookings;
        self.draws = held;
        self.stages.lap("paid traffic");
        // 9: settlement.
        self.ledger.settle(s, &mut self.creators, &mut flows, day);
        self.stages.lap("settlement");
        // 10: clips escalate, decay and expire; their creators learn once the window closes.
        self.expired.clear();
        feed::age(s, &mut self.clips, &mut self.expired, self.rep_seed, day);
        for &e in &self.expired {
            let due = day + s.categories[e.category as usize].window_days;
            match self.learn_due.get_mut(due as usize) {
                Some(q) => q.push(e),
                None => self.records.close(e.record),
            }
        }
        self.stages.lap("feed age");
        // 11: learning and churn.
        self.learn(day);
        if day + 1 == s.creators.warmup_days || (day == 0 && s.creators.warmup_days == 0) {
            self.entry_earnings_warmup = self.creators.mean_trailing_rmb();
        }
        self.creators.churn(s, self.rep_seed, day);
        self.stages.lap("learning, churn");
        // 12: daily metrics.
        // Plans in the square: open, started, and promotable (a WeChat landing needs the jump).
        let jump = s.date(day) >= s.platform.jump_to_wechat_from;
        let in_square = |p: &&crate::model::operators::Plan| {
            p.open && p.start_day <= day as i32 && (p.landing == Landing::Douyin || jump)
        };
        for p in self.market.plans.iter().filter(in_square) {
            flows[cell(p.category, p.landing)].add(Flow::OpenPlans, 1);
            if let Some(k) = own::overlay_cell(s, self.market.titles[p.title as usize].own) {
                flows[k].add(Flow::OpenPlans, 1);
            }
        }
        if let Some(log) = &mut self.plan_used {
            for (k, p) in self.market.plans.iter().enumerate() {
                if p.commission_7d[(day % 7) as usize] > 0 {
                    log.push((day, k as u32, p.used_fen));
                }
            }
        }
        self.active_by_day.push(self.creators.count_active());
        for (days, f) in self.own_daily.iter_mut().zip(flows.drain(2 * s.categories.len()..)) {
            days.push(f);
        }
        self.daily.push(flows);
        self.stages.lap("daily metrics");
    }

    /// The reported days begin (`model::burn_in`): what was counted in the burn-in is dropped.
    fn open_books(&mut self, day: u32) {
        let unsettled = self.ledger.unsettled();
        self.opening = Some(Opening::open(day, &mut self.creators, &mut self.market, unsettled));
        self.daily.clear();
        self.own_daily.iter_mut().for_each(|d| d.clear());
        self.own_takers = own::Takers::new(self.s);
        self.active_by_day.clear();
        self.episode = EpisodeCounts::default();
        self.clip_days = 0;
        if let Some(log) = &mut self.plan_used {
            log.clear();
        }
    }

    /// Step 8 for a run of the day's split revenue, in booking order.
    fn book(&mut self, bookings: &mut [Booking], flows: &mut [Flows], day: u32) {
        self.ledger.book_all(self.s, bookings, &mut self.market, &mut self.creators, &mut self.records, flows, day);
    }

    /// Paid traffic of the day (MODEL.md sec. 10): a fixed daily spend per promoting title of the
    /// chosen categories, plus yesterday's ad-money credit where operators spend it.
    fn buy_traffic(&mut self, flows: &mut [Flows], day: u32) -> Vec<Paid> {
        let s = self.s;
        let o = &s.operators;
        let mut paid = Vec::new();
        let own_buys = s.plans.iter().any(|p| p.paid_traffic_fen_per_day > 0);
        if o.paid_traffic_fen_per_day == 0 && !o.spend_ad_money && !own_buys {
            return paid;
        }
        let mut promoting = vec![false; self.market.titles.len()];
        for p in self.market.plans.iter().filter(|p| p.open) {
            promoting[p.title as usize] = true;
        }
        for (k, t) in self.market.titles.iter_mut().enumerate() {
            let mut spend = 0;
            match s.plans.get(t.own as usize) {
                // An own title buys its own traffic, from the day its plan starts.
                Some(own) => {
                    if promoting[k] && t.launch_day <= day as i32 {
                        spend += own.paid_traffic_fen_per_day;
                    }
                }
                None => {
                    if promoting[k] && o.paid_traffic_categories[t.category as usize] {
                        spend += o.paid_traffic_fen_per_day;
                    }
                }
            }
            if o.spend_ad_money {
                spend += std::mem::take(&mut t.ad_credit_fen);
            }
            if spend > 0 {
                let imps = (spend as i128 * 1000 / o.cpm_fen as i128) as u64;
                flows[cell(t.category, t.landing)].add(Flow::AdSpend, spend);
                if let Some(c) = own::overlay_cell(s, t.own) {
                    flows[c].add(Flow::AdSpend, spend);
                }
                paid.push(Paid { title: k as u32, imps, fresh: 0 });
            }
        }
        paid
    }

    fn learn(&mut self, day: u32) {
        let s = self.s;
        let nc = s.categories.len();
        let mut sum = vec![0.0; nc];
        let mut opens = vec![0.0; nc];
        let mut n = vec![0u32; nc];
        for e in std::mem::take(&mut self.learn_due[day as usize]) {
            let (k, cat) = (e.record as usize, e.category as usize);
            let made = self.records.sums[k];
            let observed = made.net_fen as f64 / 100.0;
            self.creators.learn(e.creator, cat, observed, s.creators.learning_rate);
            sum[cat] += observed;
            opens[cat] += made.opens as f64;
            n[cat] += 1;
            self.records.close(e.record);
        }
        // The square's category means follow the day's observations with the creators' own
        // learning rate, so a market that dries up shows it in the priors too.
        let eta = s.creators.learning_rate;
        for c in 0..nc {
            if n[c] > 0 {
                let m = &mut self.stats.mean_revenue_rmb[c];
                *m = (1.0 - eta) * *m + eta * sum[c] / n[c] as f64;
                let o = &mut self.stats.mean_opens[c];
                *o = (1.0 - eta) * *o + eta * opens[c] / n[c] as f64;
            }
        }
    }

    fn finish(mut self) -> RepResult {
        if let Some(o) = &self.opening {
            o.close(&mut self.creators, &mut self.market, self.plan_used.as_mut());
        }
        if let Some(table) = self.stages.report() {
            eprintln!("cpsim: wall time by stage, replication seed {}:\n{table}", self.rep_seed);
        }
        let mut totals = Flows::default();
        for day in &self.daily {
            for f in day {
                totals.absorb(f);
            }
        }
        let c = &self.creators;
        let mut earnings: Vec<Fen> = (0..c.len()).map(|i| c.settled_fen[i] + c.subsidy_fen[i]).collect();
        let creators_paid = c.settled_fen.iter().filter(|x| **x > 0).count() as u32;
        let creator_earnings_fen = earnings.iter().sum();
        let (gini, top1, top10) = concentration(&mut earnings);
        let creator_days = self.active_by_day.iter().map(|a| *a as u64).sum();
        let mut episode = self.episode;
        episode.titles = crate::model::counts::title_stats(&self.market);
        let offset_days = self.opening.as_ref().map_or(0, |o| o.day);
        let own_plans = own::results(self.s, &self.market, self.own_daily, &self.own_takers, offset_days);
        RepResult {
            seed: self.rep_seed,
            totals,
            unsettled_fen: self.ledger.unsettled(),
            opening_unsettled_fen: self.opening.as_ref().map_or(0, |o| o.unsettled_fen),
            active_end: *self.active_by_day.last().unwrap_or(&0),
            active_by_day: self.active_by_day,
            daily: self.daily,
            creators_ever: c.len() as u32,
            creators_paid,
            creator_earnings_fen,
            gini,
            top1,
            top10,
            plans: self.market.plans.len() as u32,
            creator_days,
            clip_days: self.clip_days,
            entry_earnings_warmup: self.entry_earnings_warmup,
            episode,
            own_plans,
            detail: self.plan_used.map(|plan_used| Detail { creators: self.creators, market: self.market, plan_used }),
        }
    }
}

/// The initial stock of titles per category: shares of `operators.titles`, by largest remainder
/// so that the counts add up exactly.
pub fn initial_titles(s: &Scenario) -> Vec<u32> {
    let total: f64 = s.categories.iter().map(|c| c.share).sum();
    let n = s.operators.titles;
    if total <= 0.0 {
        return vec![0; s.categories.len()];
    }
    let exact: Vec<f64> = s.categories.iter().map(|c| n as f64 * c.share / total).collect();
    let mut counts: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|a, b| (exact[*b] - exact[*b].floor()).total_cmp(&(exact[*a] - exact[*a].floor())).then(a.cmp(b)));
    let short = n - counts.iter().sum::<u32>();
    for &k in order.iter().take(short as usize) {
        counts[k] += 1;
    }
    counts
}

/// Runs replication `rep` of a scenario, its burn-in first.
pub fn run_replication(s: &Scenario, rep: u32, detail: bool) -> RepResult {
    run_replication_with(s, rep, detail, &|_| {})
}

/// Runs replication `rep` under `before` up to reported day `from_day`, then under `after`
/// (`model::switch`: the two must pass [`crate::model::switch::problems`]); the burn-in runs
/// under `before`.
pub fn run_replication_switched(before: &Scenario, after: &Scenario, from_day: u32, rep: u32) -> RepResult {
    let (b, a) = (burn_in::extend(before), burn_in::extend(after));
    let mut w = World::for_replication(before, &b, rep, false);
    let switch_day = before.burn_in_days + from_day;
    for day in 0..b.days {
        if day == switch_day {
            w.switch_to(&a);
        }
        w.step(day);
    }
    w.finish()
}

/// Runs replication `rep` of a scenario, calling `on_day` after each simulated day (burn-in
/// days included).
pub fn run_replication_with(s: &Scenario, rep: u32, detail: bool, on_day: &dyn Fn(u32)) -> RepResult {
    let extended = burn_in::extend(s);
    World::for_replication(s, &extended, rep, detail).run_with(on_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A switch rebuilds what the world built from the scenario once: the funnel's tables.
    #[test]
    fn a_switch_rebuilds_the_funnel_tables() {
        let before = crate::scenario::parse(
            "[scenario]\ndays = 5\nburn_in_days = 0\n[creators]\ncount = 50\n[operators]\ntitles = 4\n",
            "t",
        )
        .unwrap();
        let mut after = before.clone();
        after.categories[0].p_pay *= 2.0;
        let mut w = World::new(&before, 1, false);
        w.step(0);
        w.switch_to(&after);
        assert_eq!(format!("{:?}", w.draws), format!("{:?}", funnel::Draws::new(&after)));
        assert_ne!(format!("{:?}", w.draws), format!("{:?}", funnel::Draws::new(&before)));
    }

    /// Plans booked by their sums and subsidies paid in parallel by creator range (when the
    /// budget has room for all that is asked) come to the same fen, creator by creator, plan by
    /// plan and flow by flow, as booking every event in booking order; with budgets that run out
    /// mid-run, both ways occur.
    #[test]
    fn summed_bookings_match_booking_order() {
        let s = crate::scenario::parse(
            r#"
[scenario]
days = 20
seed = 5
[platform]
feed_supply = 300_000
[creators]
count = 500
[operators]
titles = 15
budget_median_rmb = 30
[[subsidies]]
form = "per_open"
per_open_rmb = 0.05
budget_rmb = 400
[[subsidies]]
form = "commission_topup"
topup = 0.3
budget_rmb = 1_000_000
"#,
            "t",
        )
        .unwrap();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let run = |in_order_only: bool| {
            pool.install(|| {
                let mut w = World::new(&s, 9, true);
                w.ledger.in_order_only = in_order_only;
                for day in 0..s.days {
                    w.step(day);
                }
                // The per-open program ran out (so the run it ran out in paid in order, and later
                // runs left it out); the top-up did not.
                assert_eq!(w.ledger.subsidy_left[0], 0);
                assert!(w.ledger.subsidy_left[1] > 0 && w.ledger.subsidy_left[1] < 100_000_000);
                // Caps cut commissions that top-ups were figured on, and (unless in order only)
                // those top-ups were refigured and paid in parallel.
                assert_eq!(w.ledger.refigured_in_parallel > 0, !in_order_only);
                w.finish()
            })
        };
        let (a, b) = (run(false), run(true));
        let (a_detail, b_detail) = (a.detail.unwrap(), b.detail.unwrap());
        assert!(a_detail.market.plans.iter().any(|p| p.budget_out_day.is_some()));
        for (p, q) in a_detail.market.plans.iter().zip(&b_detail.market.plans) {
            assert_eq!(
                (p.used_fen, p.commission_fen, p.gmv_fen, p.opens, p.review_net_fen, p.budget_out_day, p.open),
                (q.used_fen, q.commission_fen, q.gmv_fen, q.opens, q.review_net_fen, q.budget_out_day, q.open)
            );
        }
        assert_eq!(a.totals.0, b.totals.0);
        assert_eq!(a_detail.creators.subsidy_fen, b_detail.creators.subsidy_fen);
        assert_eq!(a_detail.creators.trailing_fen, b_detail.creators.trailing_fen);
    }
}
