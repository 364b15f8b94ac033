//! The scenario file as serde reads it: every key optional, unknown keys rejected.
//!
//! This is the low stage of input: it only knows the shape of the file. `validate` turns it into
//! the typed [`crate::scenario::Scenario`], checking ranges and filling defaults.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::value::Datetime;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: Option<RawMeta>,
    pub platform: Option<RawPlatform>,
    pub wechat: Option<RawWechat>,
    pub feed: Option<RawFeed>,
    pub formats: Option<RawFormats>,
    pub square: Option<RawSquare>,
    pub creators: Option<RawCreators>,
    pub operators: Option<RawOperators>,
    /// Ordered by id so that iteration never depends on a hash.
    pub categories: Option<BTreeMap<String, RawCategory>>,
    pub subsidies: Option<Vec<RawSubsidy>>,
    /// The strategist's own plans (`scenario::plans`), placed into the generated market.
    pub plans: Option<Vec<RawPlan>>,
    /// Read by the sweep study (`study::sweep`), which expands it into variants of the rest of the file.
    pub sweep: Option<toml::Table>,
    /// Read by the optimisation study (`study::optimize`): decision variables, objective,
    /// constraints and budget; the rest of the file is the market the decisions are tried in.
    pub optimize: Option<toml::Table>,
    /// Read by the calibration study (`study::calibrate`): parameters, priors, series, budget.
    pub calibrate: Option<toml::Table>,
    /// Read by the forecast study (`study::forecast`): days, draws and the decisions compared.
    pub forecast: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: Option<String>,
    pub start_date: Option<Datetime>,
    pub days: Option<i64>,
    pub burn_in_days: Option<i64>,
    /// Which categories the market has (`scenario::categories`); absent: all of them.
    pub categories: Option<Vec<String>>,
    pub replications: Option<i64>,
    pub seed: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    pub name: Option<String>,
    pub feed_supply: Option<f64>,
    pub feed_growth: Option<f64>,
    pub image_text_from: Option<Datetime>,
    pub jump_to_wechat_from: Option<Datetime>,
    pub ad_money_from: Option<Datetime>,
    pub ad_money_rate: Option<f64>,
    pub ad_money_categories: Option<Vec<String>>,
    pub iaa_share_douyin: Option<f64>,
    pub iaa_share_wechat: Option<f64>,
    pub android_share: Option<f64>,
    pub settlement: Option<String>,
    pub settlement_delay_days: Option<i64>,
    pub commission_base: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWechat {
    pub dropoff: Option<f64>,
    pub premium_pay: Option<f64>,
    pub premium_repeat: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    pub tier_quotas: Option<Vec<f64>>,
    pub thresholds: Option<Vec<f64>>,
    pub min_views: Option<i64>,
    pub decay: Option<f64>,
    pub lifetime_days: Option<i64>,
    pub tier_cap: Option<f64>,
    pub follower_reach: Option<f64>,
    pub engagement_base: Option<f64>,
    pub quality_sigma: Option<f64>,
    pub rationing: Option<String>,
    pub repeat_view_factor: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormats {
    pub video: Option<RawFormat>,
    pub image_text: Option<RawFormat>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormat {
    pub ctr: Option<f64>,
    pub reach: Option<f64>,
    pub cost_rmb: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSquare {
    pub sample_size: Option<i64>,
    pub sampling: Option<String>,
    pub popularity_exponent: Option<f64>,
    pub epc_weight: Option<f64>,
    pub epc_prior_clips: Option<f64>,
    pub temperature_rmb: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCreators {
    pub count: Option<i64>,
    pub followers_median: Option<f64>,
    pub followers_sigma: Option<f64>,
    pub quality_alpha: Option<f64>,
    pub quality_beta: Option<f64>,
    pub posts_per_day: Option<f64>,
    pub posts_shape: Option<f64>,
    pub reservation_median_rmb: Option<f64>,
    pub reservation_sigma: Option<f64>,
    pub image_text_share: Option<f64>,
    pub learning_rate: Option<f64>,
    pub prior_noise_sigma: Option<f64>,
    pub warmup_days: Option<i64>,
    pub churn_ratio: Option<f64>,
    pub churn_hazard: Option<f64>,
    pub base_hazard: Option<f64>,
    pub entry_rate: Option<f64>,
    pub entry_elasticity: Option<f64>,
    pub entry_ref_rmb: Option<f64>,
    pub entry_cap_factor: Option<f64>,
    pub newcomer_followers: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperators {
    pub titles: Option<i64>,
    pub landing: Option<String>,
    pub landing_tau: Option<f64>,
    pub title_quality_sigma: Option<f64>,
    pub budget_median_rmb: Option<f64>,
    pub budget_sigma: Option<f64>,
    pub unlimited_budget_share: Option<f64>,
    pub plan_days_min: Option<i64>,
    pub plan_days_max: Option<i64>,
    pub relaunch: Option<bool>,
    pub policy: Option<String>,
    pub review_days: Option<i64>,
    pub steer_gamma: Option<f64>,
    pub target_clips: Option<f64>,
    pub target_margin: Option<f64>,
    pub paid_traffic_rmb_per_day: Option<f64>,
    pub paid_traffic_categories: Option<Vec<String>>,
    pub cpm_rmb: Option<f64>,
    pub spend_ad_money: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCategory {
    pub base: Option<String>,
    pub name: Option<String>,
    pub share: Option<f64>,
    pub launch_rate: Option<f64>,
    pub pays: Option<String>,
    pub ctr: Option<f64>,
    pub p_pay: Option<f64>,
    pub prices_rmb: Option<Vec<f64>>,
    pub price_weights: Option<Vec<f64>>,
    pub p_repeat: Option<f64>,
    pub window_days: Option<i64>,
    pub ad_views_per_day: Option<f64>,
    pub ad_keep: Option<f64>,
    pub ecpm_rmb: Option<f64>,
    pub refund: Option<f64>,
    pub commission_min: Option<f64>,
    pub commission_max: Option<f64>,
    pub audience_median: Option<f64>,
    pub audience_sigma: Option<f64>,
    pub budget_median_rmb: Option<f64>,
    pub wechat_share: Option<f64>,
    pub ios_iap: Option<bool>,
    pub fee_douyin: Option<f64>,
    pub fee_wechat: Option<f64>,
    pub affinity_alpha: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubsidy {
    pub name: Option<String>,
    pub from: Option<Datetime>,
    pub to: Option<Datetime>,
    pub categories: Option<Vec<String>>,
    pub budget_rmb: Option<f64>,
    pub form: Option<String>,
    pub topup: Option<f64>,
    pub per_clip_rmb: Option<f64>,
    pub first_clips: Option<i64>,
    pub per_open_rmb: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub name: Option<String>,
    pub category: Option<String>,
    pub landing: Option<String>,
    pub commission: Option<f64>,
    /// A number of RMB or the word "unlimited"; checked in `scenario::plans`.
    pub budget_rmb: Option<toml::Value>,
    pub start: Option<Datetime>,
    pub end: Option<Datetime>,
    pub audience: Option<f64>,
    pub quality: Option<f64>,
    pub paid_traffic_rmb_per_day: Option<f64>,
    pub relaunch: Option<bool>,
    pub policy: Option<String>,
    pub commission_min: Option<f64>,
    pub commission_max: Option<f64>,
}
