//! Validation against closed forms and directions (MODEL.md sec. 3 and 6), with fixed seeds and
//! tolerances taken from the variance across replications.

use cpsim::model::metrics::{stat, Flow};
use cpsim::model::sim::run_replication;
use cpsim::scenario::{self, Scenario};

/// t quantile for a two-sided 99% interval with many degrees of freedom (n = 40 here: 2.708).
const T995_39: f64 = 2.708;

/// A degenerate market whose expected GMV has a closed form: creators always post (no outside
/// option, near-zero temperature) at a constant rate, clips stay in tier 0 with a fixed quota and
/// decay, supply never binds, audiences are effectively unbounded, repeat views convert like fresh
/// ones, one price, no repeats, no refunds, no IAA, no churn or entry, unlimited budgets.
fn degenerate(seed: u64) -> Scenario {
    let text = format!(
        r#"
[scenario]
categories = ["short_drama"]
days = 20
# The closed form counts clips from an empty market on day 0.
burn_in_days = 0
replications = 40
seed = {seed}
[platform]
# Far more than the clips ask (about 1e6 a day), and within the 32 bits of a day's count.
feed_supply = 4e9
[feed]
tier_quotas = [1000]
thresholds = []
decay = 0.5
lifetime_days = 5
follower_reach = 0.0
repeat_view_factor = 1.0
[formats.video]
cost_rmb = 0
[square]
temperature_rmb = 0.001
[creators]
count = 300
posts_per_day = 0.5
posts_shape = 1000
reservation_median_rmb = 0
image_text_share = 0
base_hazard = 0
churn_hazard = 0
entry_rate = 0
[operators]
titles = 20
unlimited_budget_share = 1.0
plan_days_min = 3650
plan_days_max = 3650
[categories.short_drama]
pays = "iap"
ctr = 0.02
p_pay = 0.05
prices_rmb = [10.0]
p_repeat = 0
window_days = 1
refund = 0
fee_douyin = 0.05
wechat_share = 0
commission_min = 0.5
commission_max = 0.5
audience_median = 2e9
audience_sigma = 0
launch_rate = 0
"#
    );
    scenario::parse(&text, "degenerate").unwrap()
}

#[test]
fn degenerate_market_matches_its_closed_form() {
    let s = degenerate(2024);
    let (n, lambda, q0, delta, life, days) = (300.0, 0.5, 1000.0, 0.5f64, 5u32, 20u32);
    // Expected impressions: each clip posted on day t is shown q0 * delta^d on days t + d,
    // d < lifetime, within the horizon.
    let mut imps = 0.0;
    for t in 0..days {
        for d in 0..life.min(days - t) {
            imps += n * lambda * q0 * delta.powi(d as i32);
        }
    }
    let payments = imps * 0.02 * 0.05;
    let gmv_expected = payments * 10.0;
    let reps: Vec<_> = (0..s.replications).map(|r| run_replication(&s, r, false)).collect();
    let gmv: Vec<f64> = reps.iter().map(|r| r.totals.get(Flow::Gmv) as f64 / 100.0).collect();
    let st = stat(&gmv);
    let half99 = T995_39 * st.sd / (gmv.len() as f64).sqrt();
    assert!(
        (st.mean - gmv_expected).abs() <= half99,
        "GMV mean {} not within the 99% interval +-{} of the closed form {}",
        st.mean,
        half99,
        gmv_expected
    );
    // The interval is informative: narrower than 3% of the expectation.
    assert!(half99 < 0.03 * gmv_expected, "interval too wide to test anything: {half99}");
    for r in &reps {
        // Each payment of 10.00 RMB pays fee 0.50 and commission floor(9.50 * 0.5) = 4.75, exactly.
        let payments = r.totals.get(Flow::Gmv) / 1000;
        assert_eq!(r.totals.get(Flow::Gmv), payments * 1000);
        assert_eq!(r.totals.get(Flow::PlatformFees), payments * 50);
        assert_eq!(r.totals.get(Flow::CommissionAccrued), payments * 475);
        // Impressions hit their expectation up to the rounding and posting noise.
        let i = r.totals.get(Flow::Impressions) as f64;
        assert!((i - imps).abs() < 0.05 * imps, "impressions {i} vs {imps}");
    }
}

/// Runs one market at a fixed commission rate for every plan.
fn market_at_rate(rate: f64, seed: u64) -> Scenario {
    let text = format!(
        r#"
[scenario]
categories = ["short_drama"]
days = 30
replications = 12
seed = {seed}
[platform]
feed_supply = 2_000_000
[creators]
count = 800
[operators]
titles = 12
unlimited_budget_share = 1.0
[categories.short_drama]
commission_min = {rate}
commission_max = {rate}
"#
    );
    scenario::parse(&text, "rate").unwrap()
}

/// Higher commission draws more clips, all else equal (MODEL.md sec. 3.5), budgets unlimited.
/// Both arms share seeds (common random numbers), so the paired difference is tight.
#[test]
fn higher_commission_draws_more_clips() {
    let (lo, hi) = (market_at_rate(0.3, 5), market_at_rate(0.8, 5));
    let diffs: Vec<f64> = (0..lo.replications)
        .map(|r| {
            let a = run_replication(&lo, r, false).totals.get(Flow::Clips) as f64;
            let b = run_replication(&hi, r, false).totals.get(Flow::Clips) as f64;
            b - a
        })
        .collect();
    let st = stat(&diffs);
    assert!(st.lo > 0.0, "clips at 80% minus clips at 30%: mean {} with 95% interval [{}, {}]", st.mean, st.lo, st.hi);
}

/// Within one market, plans with a higher rate draw more clips: the rank correlation of rate and
/// clips among plans open the whole run is positive.
#[test]
fn within_a_market_higher_rates_draw_more_clips() {
    let text = r#"
[scenario]
categories = ["short_drama"]
days = 20
seed = 3
[platform]
feed_supply = 2_000_000
[creators]
count = 1500
[operators]
titles = 30
unlimited_budget_share = 1.0
plan_days_min = 3650
plan_days_max = 3650
launch_rate = 0
[categories.short_drama]
commission_min = 0.1
commission_max = 0.9
launch_rate = 0
"#
    .replace("launch_rate = 0\n[categories", "[categories");
    let s = scenario::parse(&text, "spread").unwrap();
    let r = run_replication(&s, 0, true);
    let plans = &r.detail.unwrap().market.plans;
    let pairs: Vec<(f64, f64)> = plans.iter().map(|p| (p.rate_ppm as f64, p.clips as f64)).collect();
    let rho = spearman(&pairs);
    assert!(rho > 0.5, "rank correlation of rate and clips {rho}");
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
    let mut r = vec![0.0; v.len()];
    for (rank, i) in idx.into_iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

fn spearman(pairs: &[(f64, f64)]) -> f64 {
    let x = ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let y = ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}
