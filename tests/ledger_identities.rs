//! Money is exact: over random scenarios the ledger's identities hold to the fen, for every
//! replication, every day and every (category, landing) cell, and no plan pays more commission
//! than its budget (MODEL.md sec. 8).

use cpsim::model::metrics::Flow;
use cpsim::model::operators::UNLIMITED;
use cpsim::model::sim::run_replication;
use cpsim::scenario;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Knobs {
    creators: u32,
    titles: u32,
    days: u32,
    burn_in: u32,
    budget_rmb: f64,
    unlimited: f64,
    refund: f64,
    fee: f64,
    base: &'static str,
    settlement: &'static str,
    delay: u32,
    wechat_share: f64,
    landing: &'static str,
    topup: f64,
    per_clip: f64,
    per_open: f64,
    paid: f64,
    spend_ad_money: bool,
    policy: &'static str,
    seed: u64,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        (20u32..300, 1u32..15, 1u32..45, 0.0f64..5_000.0, 0.0f64..1.0),
        (0.0f64..0.5, 0.0f64..0.6, prop::sample::select(vec!["net_of_fees", "net"])),
        (prop::sample::select(vec!["daily", "weekly", "monthly"]), 0u32..10, 0.0f64..1.0, 0u32..30),
        (prop::sample::select(vec!["fixed", "choice"]), 0.0f64..0.5, 0.0f64..5.0, 0.0f64..0.5),
        (
            0.0f64..50.0,
            any::<bool>(),
            prop::sample::select(vec!["fixed", "target_clips", "target_margin"]),
            any::<u64>(),
        ),
    )
        .prop_map(|(a, b, c, d, e)| Knobs {
            creators: a.0,
            titles: a.1,
            days: a.2,
            burn_in: c.3,
            budget_rmb: a.3,
            unlimited: a.4,
            refund: b.0,
            fee: b.1,
            base: b.2,
            settlement: c.0,
            delay: c.1,
            wechat_share: c.2,
            landing: d.0,
            topup: d.1,
            per_clip: d.2,
            per_open: d.3,
            paid: e.0,
            spend_ad_money: e.1,
            policy: e.2,
            seed: e.3 >> 1,
        })
}

fn scenario_text(k: &Knobs) -> String {
    format!(
        r#"
[scenario]
categories = ["mini_game", "movie_tickets", "short_drama"]
start_date = 2024-03-20
days = {days}
burn_in_days = {burn_in}
replications = 1
seed = {seed}
[platform]
feed_supply = 300_000
settlement = "{settlement}"
settlement_delay_days = {delay}
commission_base = "{base}"
[creators]
count = {creators}
reservation_median_rmb = 0.5
[operators]
titles = {titles}
budget_median_rmb = {budget}
unlimited_budget_share = {unlimited}
landing = "{landing}"
policy = "{policy}"
review_days = 3
relaunch = true
paid_traffic_rmb_per_day = {paid}
spend_ad_money = {spend}
[categories.short_drama]
refund = {refund}
fee_douyin = {fee}
wechat_share = {wechat}
audience_median = 50_000
[categories.mini_game]
refund = {refund}
wechat_share = {wechat}
audience_median = 50_000
[categories.movie_tickets]
audience_median = 50_000
[[subsidies]]
form = "commission_topup"
topup = {topup}
budget_rmb = 300
[[subsidies]]
form = "per_clip"
per_clip_rmb = {per_clip}
first_clips = 3
budget_rmb = 200
categories = ["mini_game"]
[[subsidies]]
form = "per_open"
per_open_rmb = {per_open}
budget_rmb = 100
"#,
        days = k.days,
        burn_in = k.burn_in,
        seed = k.seed,
        settlement = k.settlement,
        delay = k.delay,
        base = k.base,
        creators = k.creators,
        titles = k.titles,
        budget = k.budget_rmb,
        unlimited = k.unlimited,
        landing = k.landing,
        policy = k.policy,
        paid = k.paid,
        spend = k.spend_ad_money,
        refund = k.refund,
        fee = k.fee,
        wechat = k.wechat_share,
        topup = k.topup,
        per_clip = k.per_clip,
        per_open = k.per_open,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn ledger_adds_up_to_the_fen(k in knobs()) {
        let s = scenario::parse(&scenario_text(&k), "prop").expect("generated scenario is valid");
        let r = run_replication(&s, 0, true);
        let t = &r.totals;
        // gmv = refunds + platform_fees + commission_accrued + operator_net, per replication...
        prop_assert_eq!(
            t.get(Flow::Gmv),
            t.get(Flow::Refunds) + t.get(Flow::PlatformFees) + t.get(Flow::CommissionAccrued) + t.get(Flow::OperatorNet)
        );
        // ...and per day and cell, which is stronger.
        for day in &r.daily {
            for f in day {
                prop_assert_eq!(
                    f.get(Flow::Gmv),
                    f.get(Flow::Refunds) + f.get(Flow::PlatformFees) + f.get(Flow::CommissionAccrued) + f.get(Flow::OperatorNet)
                );
            }
        }
        // commission_accrued + commission_opening = commission_settled + commission_unsettled,
        // the last two counted from the settlement queue itself (the opening one on day 0, after
        // the burn-in).
        prop_assert_eq!(
            t.get(Flow::CommissionAccrued) + r.opening_unsettled_fen,
            t.get(Flow::CommissionSettled) + r.unsettled_fen
        );
        if k.burn_in == 0 {
            prop_assert_eq!(r.opening_unsettled_fen, 0);
        }
        let d = r.detail.as_ref().expect("replication 0 has detail");
        let mut plan_commission = 0;
        for p in &d.market.plans {
            prop_assert!(p.used_fen >= 0);
            if p.budget_fen != UNLIMITED {
                prop_assert!(p.used_fen <= p.budget_fen, "plan used {} of {}", p.used_fen, p.budget_fen);
            }
            plan_commission += p.commission_fen;
        }
        prop_assert_eq!(plan_commission, t.get(Flow::CommissionAccrued));
        // Creators' settled commission is the ledger's; subsidies likewise, within their budgets.
        prop_assert_eq!(d.creators.settled_fen.iter().sum::<i64>(), t.get(Flow::CommissionSettled));
        prop_assert_eq!(d.creators.subsidy_fen.iter().sum::<i64>(), t.get(Flow::Subsidies));
        prop_assert!(t.get(Flow::Subsidies) <= (300 + 200 + 100) * 100);
        prop_assert!(t.get(Flow::Refunds) <= t.get(Flow::Gmv));
        prop_assert!(t.get(Flow::Impressions) >= t.get(Flow::FreshReach));
    }
}
