//! Validation of the market sections of a scenario: the feed, the creators and the operators.

use super::raw::*;
use super::validate::{fmt_num, BIG, MAX_COUNT, V};
use super::*;
use crate::base::money::rmb_to_fen;

pub(super) fn validate_feed(v: &mut V, f: Option<&RawFeed>) -> Feed {
    let ff = |g: fn(&RawFeed) -> Option<f64>| f.and_then(g);
    v.doc(
        "feed.tier_quotas",
        "impressions/day",
        "[500, 5000, 50000, 500000, 5000000]".into(),
        "1 to 20 tiers, each >= 0".into(),
        "daily quota Q_h of each traffic-pool tier",
    );
    v.doc(
        "feed.thresholds",
        "engagement rate",
        "[0.09, 0.16, 0.26, 0.37]".into(),
        "one per tier but the last, each in [0, 1]".into(),
        "engagement rate theta_h that lifts a clip from tier h",
    );
    let quotas =
        f.and_then(|x| x.tier_quotas.clone()).unwrap_or_else(|| vec![500.0, 5_000.0, 50_000.0, 500_000.0, 5_000_000.0]);
    let thresholds = f.and_then(|x| x.thresholds.clone()).unwrap_or_else(|| vec![0.09, 0.16, 0.26, 0.37]);
    if quotas.is_empty() || quotas.len() > 20 {
        v.bad("feed.tier_quotas", format!("must list 1 to 20 tiers, got {}", quotas.len()));
    }
    for (i, q) in quotas.iter().enumerate() {
        if !q.is_finite() || *q < 0.0 || *q > BIG {
            v.bad(
                &format!("feed.tier_quotas[{i}]"),
                format!("must be a number of impressions between 0 and {}, got {q}", fmt_num(BIG)),
            );
        }
    }
    if !quotas.is_empty() && thresholds.len() != quotas.len() - 1 {
        v.bad(
            "feed.thresholds",
            format!(
                "must hold one threshold per tier but the last: {} for {} tiers, got {}",
                quotas.len().saturating_sub(1),
                quotas.len(),
                thresholds.len()
            ),
        );
    }
    for (i, t) in thresholds.iter().enumerate() {
        if !t.is_finite() || !(0.0..=1.0).contains(t) {
            v.bad(&format!("feed.thresholds[{i}]"), format!("must be an engagement rate between 0 and 1, got {t}"));
        }
    }
    Feed {
        tier_quotas: quotas,
        thresholds,
        min_views: v.int(
            "feed.min_views",
            f.and_then(|x| x.min_views),
            100,
            0,
            MAX_COUNT,
            "impressions",
            "impressions in a tier before escalation is judged",
        ) as u64,
        decay: v.prob("feed.decay", ff(|x| x.decay), 0.6, "delta: daily decay of a clip's demand in its tier"),
        lifetime_days: v.int(
            "feed.lifetime_days",
            f.and_then(|x| x.lifetime_days),
            14,
            1,
            3650,
            "days",
            "L: a clip expires after this many days",
        ) as u32,
        tier_cap: v.prob(
            "feed.tier_cap",
            ff(|x| x.tier_cap),
            0.1,
            "no tier quota exceeds this share of the day's supply",
        ),
        follower_reach: v.prob(
            "feed.follower_reach",
            ff(|x| x.follower_reach),
            0.05,
            "phi: share of followers reached on a clip's first day",
        ),
        engagement_base: v.prob(
            "feed.engagement_base",
            ff(|x| x.engagement_base),
            0.08,
            "e0: engagement rate of a quality-1 clip",
        ),
        quality_sigma: v.num(
            "feed.quality_sigma",
            ff(|x| x.quality_sigma),
            0.5,
            0.0,
            5.0,
            "log-sd",
            "sigma_q of clip quality noise",
        ),
        rationing: [Rationing::Proportional, Rationing::Priority][v.choice(
            "feed.rationing",
            f.and_then(|x| x.rationing.as_ref()),
            &["proportional", "priority"],
            "how a short supply is shared",
        )],
        repeat_view_factor: v.prob(
            "feed.repeat_view_factor",
            ff(|x| x.repeat_view_factor),
            0.1,
            "rho: CTR of a repeat view relative to a fresh one",
        ),
    }
}

pub(super) fn validate_creators(v: &mut V, c: Option<&RawCreators>, delay: u32) -> Creators {
    let cf = |g: fn(&RawCreators) -> Option<f64>| c.and_then(g);
    let warmup_default = 30 + delay as i64;
    Creators {
        count: v.int("creators.count", c.and_then(|x| x.count), 50_000, 0, MAX_COUNT, "creators", "initial population")
            as u32,
        followers_median: v.num(
            "creators.followers_median",
            cf(|x| x.followers_median),
            2_000.0,
            0.0,
            BIG,
            "followers",
            "median of LogNormal followers",
        ),
        followers_sigma: v.num(
            "creators.followers_sigma",
            cf(|x| x.followers_sigma),
            2.0,
            0.0,
            5.0,
            "log-sd",
            "sigma of LogNormal followers",
        ),
        quality_alpha: v.num(
            "creators.quality_alpha",
            cf(|x| x.quality_alpha),
            2.0,
            0.01,
            1000.0,
            "shape",
            "Beta(a, b) creator quality: a",
        ),
        quality_beta: v.num(
            "creators.quality_beta",
            cf(|x| x.quality_beta),
            5.0,
            0.01,
            1000.0,
            "shape",
            "Beta(a, b) creator quality: b",
        ),
        posts_per_day: v.num(
            "creators.posts_per_day",
            cf(|x| x.posts_per_day),
            0.5,
            0.0,
            100.0,
            "attempts/day",
            "mean posting rate lambda (Gamma)",
        ),
        posts_shape: v.num(
            "creators.posts_shape",
            cf(|x| x.posts_shape),
            2.0,
            0.01,
            1000.0,
            "shape",
            "Gamma shape k of posting rates",
        ),
        reservation_median_rmb: v.num(
            "creators.reservation_median_rmb",
            cf(|x| x.reservation_median_rmb),
            10.0,
            0.0,
            BIG,
            "RMB/clip",
            "median outside option w_i of a clip",
        ),
        reservation_sigma: v.num(
            "creators.reservation_sigma",
            cf(|x| x.reservation_sigma),
            0.5,
            0.0,
            5.0,
            "log-sd",
            "sigma of LogNormal w_i",
        ),
        image_text_share: v.prob(
            "creators.image_text_share",
            cf(|x| x.image_text_share),
            0.5,
            "share of creators who can post image-text",
        ),
        learning_rate: v.prob(
            "creators.learning_rate",
            cf(|x| x.learning_rate),
            0.3,
            "eta: weight of a new observation in N_i[c]",
        ),
        prior_noise_sigma: v.num(
            "creators.prior_noise_sigma",
            cf(|x| x.prior_noise_sigma),
            0.3,
            0.0,
            5.0,
            "log-sd",
            "noise on a creator's prior of revenue per clip",
        ),
        warmup_days: v.int(
            "creators.warmup_days",
            c.and_then(|x| x.warmup_days),
            warmup_default,
            0,
            3650,
            "days",
            "warm-up (default 30 + settlement delay)",
        ) as u32,
        churn_ratio: v.num(
            "creators.churn_ratio",
            cf(|x| x.churn_ratio),
            0.3,
            0.0,
            100.0,
            "ratio",
            "churn if trailing earnings < ratio * 30 * lambda * w",
        ),
        churn_hazard: v.prob(
            "creators.churn_hazard",
            cf(|x| x.churn_hazard),
            0.02,
            "daily churn hazard of an under-earning creator",
        ),
        base_hazard: v.prob("creators.base_hazard", cf(|x| x.base_hazard), 0.001, "daily base churn hazard"),
        entry_rate: v.num(
            "creators.entry_rate",
            cf(|x| x.entry_rate),
            0.009,
            0.0,
            10.0,
            "share/day",
            "lambda_entry as a share of the initial population a day",
        ),
        entry_elasticity: v.num(
            "creators.entry_elasticity",
            cf(|x| x.entry_elasticity),
            1.0,
            0.0,
            10.0,
            "exponent",
            "epsilon: entry response to earnings",
        ),
        entry_ref_rmb: v.num(
            "creators.entry_ref_rmb",
            cf(|x| x.entry_ref_rmb),
            200.0,
            1e-6,
            BIG,
            "RMB/30 days",
            "E_ref: reference trailing earnings for entry",
        ),
        entry_cap_factor: v.num(
            "creators.entry_cap_factor",
            cf(|x| x.entry_cap_factor),
            4.0,
            0.0,
            1000.0,
            "factor",
            "entry capped at this times lambda_entry a day",
        ),
        newcomer_followers: v.num(
            "creators.newcomer_followers",
            cf(|x| x.newcomer_followers),
            0.3,
            0.0,
            100.0,
            "factor",
            "followers of newcomers relative to the initial population",
        ),
    }
}

pub(super) fn validate_operators(v: &mut V, o: Option<&RawOperators>, ids: &[String]) -> Operators {
    let of = |g: fn(&RawOperators) -> Option<f64>| o.and_then(g);
    let plan_days_min = v.int(
        "operators.plan_days_min",
        o.and_then(|x| x.plan_days_min),
        21,
        1,
        3650,
        "days",
        "shortest plan duration",
    ) as u32;
    let plan_days_max =
        v.int("operators.plan_days_max", o.and_then(|x| x.plan_days_max), 42, 1, 3650, "days", "longest plan duration")
            as u32;
    if plan_days_max < plan_days_min {
        v.bad(
            "operators.plan_days_max",
            format!("must be at least operators.plan_days_min ({plan_days_min}), got {plan_days_max}"),
        );
    }
    Operators {
        titles: v.int(
            "operators.titles",
            o.and_then(|x| x.titles),
            300,
            0,
            10_000_000,
            "titles",
            "initial stock of titles, each with one plan",
        ) as u32,
        landing: [LandingPolicy::Fixed, LandingPolicy::Choice][v.choice(
            "operators.landing",
            o.and_then(|x| x.landing.as_ref()),
            &["fixed", "choice"],
            "landing platform drawn from wechat_share, or chosen by expected take",
        )],
        landing_tau: v.num(
            "operators.landing_tau",
            of(|x| x.landing_tau),
            0.1,
            1e-6,
            100.0,
            "relative",
            "temperature of the landing logit, relative to the mean take",
        ),
        title_quality_sigma: v.num(
            "operators.title_quality_sigma",
            of(|x| x.title_quality_sigma),
            0.3,
            0.0,
            5.0,
            "log-sd",
            "LogNormal(0, sigma) title quality",
        ),
        budget_median_fen: v.num(
            "operators.budget_median_rmb",
            of(|x| x.budget_median_rmb),
            100_000.0,
            0.0,
            BIG,
            "RMB",
            "median commission budget of a plan; a category's default is this times its scale",
        ) * 100.0,
        budget_sigma: v.num(
            "operators.budget_sigma",
            of(|x| x.budget_sigma),
            0.7,
            0.0,
            5.0,
            "log-sd",
            "sigma of LogNormal budgets",
        ),
        unlimited_budget_share: v.prob(
            "operators.unlimited_budget_share",
            of(|x| x.unlimited_budget_share),
            0.0,
            "share of plans with no budget cap",
        ),
        plan_days_min,
        plan_days_max,
        relaunch: v.flag(
            "operators.relaunch",
            o.and_then(|x| x.relaunch),
            false,
            "relaunch a plan with a new budget when it ends",
        ),
        policy: [RatePolicy::Fixed, RatePolicy::TargetClips, RatePolicy::TargetMargin][v.choice(
            "operators.policy",
            o.and_then(|x| x.policy.as_ref()),
            &["fixed", "target_clips", "target_margin"],
            "commission steering",
        )],
        review_days: v.int(
            "operators.review_days",
            o.and_then(|x| x.review_days),
            7,
            1,
            365,
            "days",
            "days between rate reviews",
        ) as u32,
        steer_gamma: v.num(
            "operators.steer_gamma",
            of(|x| x.steer_gamma),
            0.5,
            0.0,
            10.0,
            "exponent",
            "gamma of the steering rule",
        ),
        target_clips: v.num(
            "operators.target_clips",
            of(|x| x.target_clips),
            50.0,
            0.0,
            BIG,
            "clips/review",
            "target clips per review period (target_clips)",
        ),
        target_margin: v.num(
            "operators.target_margin",
            of(|x| x.target_margin),
            1.0,
            0.0,
            1e6,
            "fen/fen",
            "target operator net per fen of commission (target_margin)",
        ),
        paid_traffic_fen_per_day: rmb_to_fen(v.num(
            "operators.paid_traffic_rmb_per_day",
            of(|x| x.paid_traffic_rmb_per_day),
            0.0,
            0.0,
            BIG,
            "RMB/day",
            "paid traffic bought per title a day",
        )),
        paid_traffic_categories: v.category_mask(
            "operators.paid_traffic_categories",
            o.and_then(|x| x.paid_traffic_categories.as_ref()),
            ids,
            &[],
            "categories whose titles buy paid traffic (all if absent)",
        ),
        cpm_fen: rmb_to_fen(v.num(
            "operators.cpm_rmb",
            of(|x| x.cpm_rmb),
            20.0,
            0.01,
            BIG,
            "RMB/1000 impressions",
            "price of paid traffic",
        )),
        spend_ad_money: v.flag(
            "operators.spend_ad_money",
            o.and_then(|x| x.spend_ad_money),
            false,
            "spend ad-money credit on paid traffic the next day",
        ),
    }
}
