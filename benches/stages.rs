//! Micro benchmarks of the daily stages (issue 5): plan choice, the feed, the funnel, payer
//! cohorts and the ledger, each timed on one real day's state of a market one twentieth the size
//! of `scenarios/bench-national.toml` (50 000 creators, 500 titles, every mechanism on), after 21
//! simulated days so that the feed, cohorts and budgets are in their running state.
//!
//! `cargo bench --bench stages` (divan). Each stage runs single-threaded over the whole day's
//! items, so the figures are per-core costs; divide by the item counts printed first for the cost
//! of one creator, clip, cohort or revenue event.

use cpsim::base::rng::{self, Kind};
use cpsim::model::audience;
use cpsim::model::feed::{self, Clip};
use cpsim::model::funnel::{self, Cohort, Revenue};
use cpsim::model::ledger::{self, Booking};
use cpsim::model::metrics::Flows;
use cpsim::model::sim::{self, World};
use cpsim::model::square::SquareView;
use cpsim::scenario::{self, Scenario};
use divan::Bencher;
use std::sync::OnceLock;

const SCENARIO: &str = r#"
[scenario]
name = "stage benchmark"
start_date = 2024-03-15
days = 60
seed = 1

[platform]
feed_supply = 50_000_000
settlement = "weekly"

[creators]
count = 50_000

[operators]
titles = 500
landing = "choice"
policy = "target_clips"
relaunch = true
paid_traffic_rmb_per_day = 200
paid_traffic_categories = ["mini_game"]
spend_ad_money = true

[[subsidies]]
name = "mini-game creator bonus"
from = 2024-04-01
to = 2024-05-31
categories = ["mini_game"]
budget_rmb = 2_500_000
form = "per_clip"
per_clip_rmb = 20
first_clips = 10

[[subsidies]]
name = "novel commission top-up"
categories = ["novel"]
budget_rmb = 500_000
form = "commission_topup"
topup = 0.1
"#;

/// The day the stages are timed on.
const DAY: u32 = 21;

struct State {
    s: &'static Scenario,
    world: World<'static>,
    seed: u64,
    /// The day's clips after the feed has served them, and their impressions by title and piece.
    served: Vec<Clip>,
    by_piece: Vec<Vec<u64>>,
    revenue: Vec<Revenue>,
    cohorts: Vec<Cohort>,
    draws: funnel::Draws,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let s: &'static Scenario = Box::leak(Box::new(scenario::parse(SCENARIO, "stages").expect("valid scenario")));
        let seed = rng::replication_seed(s.seed, 0);
        let mut world = World::new(s, seed, false);
        for day in 0..DAY {
            world.step(day);
        }
        let mut served = world.clips().to_vec();
        let mut by_piece = Vec::new();
        feed::serve(
            s,
            &mut served,
            &world.creators.followers,
            seed,
            DAY,
            &mut Vec::new(),
            world.market.titles.len(),
            &mut by_piece,
        );
        let mut titles = world.market.titles.clone();
        let (mut before, mut shares) = (by_piece.clone(), Vec::new());
        audience::reach(&mut titles, &mut served, &mut [], seed, DAY, &mut before, &mut shares);
        let cohorts: Vec<Cohort> = world.cohorts().cloned().collect();
        let draws = funnel::Draws::new(s);
        // The day's revenue events in the order the day books them: cohorts, then clips.
        let (cohort_streams, funnel_streams) =
            (rng::Streams::new(seed, Kind::Cohort).on(DAY), rng::Streams::new(seed, Kind::Funnel).on(DAY));
        let mut revenue: Vec<Revenue> =
            cohorts.clone().iter_mut().filter_map(|co| funnel::cohort_day(s, &draws, co, cohort_streams)).collect();
        revenue.extend(served.iter().map(|c| funnel::convert_clip(s, &draws, c, funnel_streams, DAY).revenue));
        eprintln!(
            "state on day {DAY}: {} creators, {} plans, {} live clips, {} cohorts, {} revenue events",
            world.creators.len(),
            world.market.plans.len(),
            served.len(),
            cohorts.len(),
            revenue.len()
        );
        State { s, world, seed, served, by_piece, revenue, cohorts, draws }
    })
}

fn main() {
    state();
    divan::main();
}

/// Step 4: the square frozen for the day, then every active creator's attempts and choices.
#[divan::bench(sample_count = 10)]
fn plan_choice(b: Bencher) {
    let st = state();
    let w = &st.world;
    let zeros = vec![0u32; w.creators.len() * st.s.subsidies.len()];
    b.bench_local(|| {
        let view = SquareView::build(st.s, &w.market, w.stats(), &w.ledger().subsidy_left, DAY);
        pool1(|| view.choose_all(st.s, &w.creators, &zeros, st.seed, DAY))
    });
}

/// Step 5: demand, crowding and integer impressions of every live clip.
#[divan::bench(sample_count = 10)]
fn feed_serve(b: Bencher) {
    let st = state();
    let nt = st.world.market.titles.len();
    let inputs = || (st.world.clips().to_vec(), vec![0.0; st.served.len()], st.by_piece.clone());
    b.with_inputs(inputs).bench_local_values(|(mut clips, mut demand, mut by_piece)| {
        pool1(|| {
            feed::serve(st.s, &mut clips, &st.world.creators.followers, st.seed, DAY, &mut demand, nt, &mut by_piece)
        });
        (clips, demand, by_piece)
    });
}

/// Step 6: fresh reach per title and its share among the title's clips.
#[divan::bench(sample_count = 10)]
fn audience_reach(b: Bencher) {
    let st = state();
    let inputs = || (st.world.market.titles.clone(), st.served.clone(), st.by_piece.clone());
    b.with_inputs(inputs).bench_local_values(|(mut titles, mut clips, mut by_piece)| {
        pool1(|| {
            let mut shares = Vec::new();
            audience::reach(&mut titles, &mut clips, &mut [], st.seed, DAY, &mut by_piece, &mut shares);
        });
        (titles, clips)
    });
}

/// Step 10: engagements, escalation, decay and expiry of every live clip.
#[divan::bench(sample_count = 10)]
fn feed_age(b: Bencher) {
    let st = state();
    b.with_inputs(|| (st.served.clone(), Vec::new())).bench_local_values(|(mut clips, mut expired)| {
        pool1(|| feed::age(st.s, &mut clips, &mut expired, st.seed, DAY));
        (clips, expired)
    });
}

/// Step 7: opens, the jump, payments and ad views of every served clip.
#[divan::bench(sample_count = 10)]
fn funnel_convert(b: Bencher) {
    let st = state();
    let streams = rng::Streams::new(st.seed, Kind::Funnel).on(DAY);
    b.bench_local(|| {
        st.served.iter().map(|c| funnel::convert_clip(st.s, &st.draws, c, streams, DAY).opens).sum::<u64>()
    });
}

/// Step 7, cohorts: one day of every payer and ad-viewer cohort.
#[divan::bench(sample_count = 10)]
fn funnel_cohorts(b: Bencher) {
    let st = state();
    let streams = rng::Streams::new(st.seed, Kind::Cohort).on(DAY);
    b.with_inputs(|| st.cohorts.clone()).bench_local_values(|mut cohorts| {
        let n = cohorts.iter_mut().filter_map(|co| funnel::cohort_day(st.s, &st.draws, co, streams)).count();
        (cohorts, n)
    });
}

/// Step 8, the split: refunds, fees, commission and ad money of every revenue event, to the fen.
#[divan::bench(sample_count = 10)]
fn ledger_split(b: Bencher) {
    let st = state();
    let plans = &st.world.market.plans;
    let date = st.s.date(DAY);
    let rates = ledger::rates(plans);
    b.bench_local(|| st.revenue.iter().map(|r| ledger::split_rated(st.s, r, &rates, date).commission).sum::<i64>());
}

/// Steps 8-9, the booking: budget caps, flows, subsidies, per-creator and per-clip sums of every
/// split event, then settlement.
#[divan::bench(sample_count = 10)]
fn ledger_book_settle(b: Bencher) {
    let st = state();
    let w = &st.world;
    let ncells = 2 * st.s.categories.len();
    let plans = &w.market.plans;
    let date = st.s.date(DAY);
    let split: Vec<Booking> = st.revenue.iter().map(|r| ledger::split(st.s, r, plans, date)).collect();
    b.with_inputs(|| (split.clone(), w.ledger().clone(), w.market.clone(), w.creators.clone(), w.records().clone()))
        .bench_local_values(|(mut events, mut ledger, mut market, mut creators, mut records)| {
            let mut flows = vec![Flows::default(); ncells];
            pool1(|| {
                // In chunks, as the day books them: the first chunk grows the booking's scratch
                // buffers and the others reuse them.
                for chunk in events.chunks_mut(sim::CHUNK) {
                    ledger.book_all(st.s, chunk, &mut market, &mut creators, &mut records, &mut flows, DAY);
                }
                ledger.settle(st.s, &mut creators, &mut flows, DAY);
            });
            (ledger, market, creators, records)
        });
}

/// Runs `f` on a one-thread pool, so that a stage's figure is its cost on one core.
fn pool1<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("thread pool")).install(f)
}
