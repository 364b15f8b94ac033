//! The high stage of input: range checks, defaults and unit conversion, naming every bad key.
//!
//! The same calls that check a value also record its key, unit, default and range in a
//! [`Recorder`], so the schema reference (`cpsim schema`) is generated from this one source.

use super::defaults::{self, CATEGORIES};
use super::raw::*;
use super::*;
use crate::money::{rmb_to_fen, to_ppm};
use toml::value::Datetime;

/// One documented key of the scenario schema.
#[derive(Debug, Clone)]
pub struct KeyDoc {
    pub key: String,
    pub unit: &'static str,
    pub default: String,
    pub range: String,
    pub doc: &'static str,
}

/// Collects the documentation of each key as validation visits it (off for ordinary loads).
pub struct Recorder {
    on: bool,
    pub rows: Vec<KeyDoc>,
}

impl Recorder {
    pub fn off() -> Self {
        Recorder { on: false, rows: Vec::new() }
    }
    pub fn on() -> Self {
        Recorder { on: true, rows: Vec::new() }
    }
}

struct V<'r> {
    problems: Vec<Problem>,
    rec: &'r mut Recorder,
}

const MAX_COUNT: i64 = 1_000_000_000;

impl V<'_> {
    fn bad(&mut self, key: &str, message: String) {
        self.problems.push(Problem { key: key.to_owned(), message, line: None });
    }

    fn doc(&mut self, key: &str, unit: &'static str, default: String, range: String, doc: &'static str) {
        if self.rec.on && !self.rec.rows.iter().any(|r| r.key == key) {
            self.rec.rows.push(KeyDoc { key: key.to_owned(), unit, default, range, doc });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn num(
        &mut self,
        key: &str,
        v: Option<f64>,
        default: f64,
        lo: f64,
        hi: f64,
        unit: &'static str,
        doc: &'static str,
    ) -> f64 {
        self.doc(key, unit, fmt_num(default), format!("{} to {}", fmt_num(lo), fmt_num(hi)), doc);
        let x = v.unwrap_or(default);
        if !x.is_finite() {
            self.bad(key, format!("must be a finite number, got {x}"));
            return default;
        }
        if x < lo || x > hi {
            self.bad(key, format!("must be between {} and {}, got {}", fmt_num(lo), fmt_num(hi), fmt_num(x)));
            return default;
        }
        x
    }

    fn prob(&mut self, key: &str, v: Option<f64>, default: f64, doc: &'static str) -> f64 {
        self.num(key, v, default, 0.0, 1.0, "probability", doc)
    }

    #[allow(clippy::too_many_arguments)]
    fn int(
        &mut self,
        key: &str,
        v: Option<i64>,
        default: i64,
        lo: i64,
        hi: i64,
        unit: &'static str,
        doc: &'static str,
    ) -> i64 {
        self.doc(key, unit, default.to_string(), format!("{lo} to {hi}"), doc);
        let x = v.unwrap_or(default);
        if x < lo || x > hi {
            self.bad(key, format!("must be a whole number between {lo} and {hi}, got {x}"));
            return default;
        }
        x
    }

    fn date(&mut self, key: &str, v: Option<&Datetime>, default: &str, doc: &'static str) -> Date {
        self.doc(key, "date", default.to_owned(), "YYYY-MM-DD".into(), doc);
        let fallback = Date::parse(default).expect("defaults are valid dates");
        let Some(dt) = v else { return fallback };
        match (&dt.date, &dt.time) {
            (Some(d), None) => match Date::from_ymd(d.year as i32, d.month as u32, d.day as u32) {
                Some(x) => x,
                None => {
                    self.bad(key, format!("{dt} is not a calendar date"));
                    fallback
                }
            },
            _ => {
                self.bad(key, format!("must be a date like 2024-04-01, got {dt}"));
                fallback
            }
        }
    }

    fn choice(&mut self, key: &str, v: Option<&String>, options: &[&'static str], doc: &'static str) -> usize {
        self.doc(key, "choice", format!("\"{}\"", options[0]), options.join(" \\| "), doc);
        let Some(s) = v else { return 0 };
        match options.iter().position(|o| o == s) {
            Some(i) => i,
            None => {
                let hint = super::schema::closest(s, options.iter().copied())
                    .map(|c| format!("; did you mean \"{c}\"?"))
                    .unwrap_or_default();
                self.bad(key, format!("must be one of {}, got \"{s}\"{hint}", quoted(options)));
                0
            }
        }
    }

    fn flag(&mut self, key: &str, v: Option<bool>, default: bool, doc: &'static str) -> bool {
        self.doc(key, "bool", default.to_string(), "true \\| false".into(), doc);
        v.unwrap_or(default)
    }

    /// A list of category ids turned into a mask over the scenario's categories.
    fn category_mask(
        &mut self,
        key: &str,
        v: Option<&Vec<String>>,
        ids: &[String],
        default: &[&str],
        doc: &'static str,
    ) -> Vec<bool> {
        self.doc(key, "category ids", format!("{default:?}").replace('"', "\""), "ids of `[categories]`".into(), doc);
        let mut mask: Vec<bool> = ids.iter().map(|id| default.is_empty() || default.contains(&id.as_str())).collect();
        if let Some(list) = v {
            mask = vec![false; ids.len()];
            for (i, name) in list.iter().enumerate() {
                match ids.iter().position(|id| id == name) {
                    Some(j) => mask[j] = true,
                    None => {
                        let hint = super::schema::closest(name, ids.iter().map(|s| s.as_str()))
                            .map(|c| format!("; did you mean \"{c}\"?"))
                            .unwrap_or_default();
                        self.bad(&format!("{key}[{i}]"), format!("unknown category \"{name}\"{hint}"));
                    }
                }
            }
        }
        mask
    }
}

fn quoted(options: &[&str]) -> String {
    options.iter().map(|o| format!("\"{o}\"")).collect::<Vec<_>>().join(", ")
}

fn fmt_num(x: f64) -> String {
    if x == f64::MAX {
        "any".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

const BIG: f64 = 1e12;

/// Checks a raw scenario and converts it into model units; every problem found, not just the first.
pub fn validate(raw: &RawScenario, default_name: &str, rec: &mut Recorder) -> Result<Scenario, Vec<Problem>> {
    let mut v = V { problems: Vec::new(), rec };
    let meta = raw.scenario.as_ref();
    let m = |f: fn(&RawMeta) -> Option<i64>| meta.and_then(f);
    v.doc("scenario.name", "text", "file stem".into(), "any".into(), "display name in charts and reports");
    let name = meta.and_then(|x| x.name.clone()).unwrap_or_else(|| default_name.to_owned());
    let start =
        v.date("scenario.start_date", meta.and_then(|x| x.start_date.as_ref()), "2024-03-01", "calendar date of day 0");
    let days = v.int("scenario.days", m(|x| x.days), 90, 1, 3650, "days", "length of a run");
    let replications = v.int(
        "scenario.replications",
        m(|x| x.replications),
        10,
        1,
        10_000,
        "count",
        "independent runs with derived seeds",
    );
    let seed = v.int("scenario.seed", m(|x| x.seed), 1, 0, i64::MAX, "integer", "master seed of every random stream");

    // Categories first: other sections name them.
    let categories = validate_categories(&mut v, raw);
    let ids: Vec<String> = categories.iter().map(|c| c.id.clone()).collect();
    if !categories.is_empty() && categories.iter().map(|c| c.share).sum::<f64>() <= 0.0 {
        v.bad(
            &format!("categories.{}.share", ids[0]),
            "the shares of the categories add up to 0: no title could launch".into(),
        );
    }

    let p = raw.platform.as_ref();
    let pf = |f: fn(&RawPlatform) -> Option<f64>| p.and_then(f);
    v.doc("platform.name", "text", "\"douyin\"".into(), "any".into(), "host app, for reports");
    let platform = Platform {
        name: p.and_then(|x| x.name.clone()).unwrap_or_else(|| "douyin".into()),
        feed_supply: v.num(
            "platform.feed_supply",
            pf(|x| x.feed_supply),
            50_000_000.0,
            0.0,
            BIG,
            "impressions/day",
            "promoted-feed supply S_0 on day 0",
        ),
        feed_growth: v.num(
            "platform.feed_growth",
            pf(|x| x.feed_growth),
            0.05,
            -0.99,
            10.0,
            "share/year",
            "growth g of the feed supply a year",
        ),
        image_text_from: v.date(
            "platform.image_text_from",
            p.and_then(|x| x.image_text_from.as_ref()),
            "2023-09-01",
            "image-text posts allowed from this date (seed)",
        ),
        jump_to_wechat_from: v.date(
            "platform.jump_to_wechat_from",
            p.and_then(|x| x.jump_to_wechat_from.as_ref()),
            "2022-09-01",
            "mounted clips may jump to WeChat mini-programs from this date (seed)",
        ),
        ad_money_from: v.date(
            "platform.ad_money_from",
            p.and_then(|x| x.ad_money_from.as_ref()),
            "2024-04-01",
            "ad-money incentive in force from this date (seed)",
        ),
        ad_money_rate_ppm: to_ppm(v.prob(
            "platform.ad_money_rate",
            pf(|x| x.ad_money_rate),
            0.05,
            "ad credit as a share of Android consumption (seed 0.05)",
        )),
        ad_money_categories: v.category_mask(
            "platform.ad_money_categories",
            p.and_then(|x| x.ad_money_categories.as_ref()),
            &ids,
            &["mini_game"],
            "categories under the ad-money rule",
        ),
        iaa_share_ppm: [
            to_ppm(v.prob(
                "platform.iaa_share_douyin",
                pf(|x| x.iaa_share_douyin),
                0.30,
                "platform's share of IAA ad revenue on Douyin",
            )),
            to_ppm(v.prob(
                "platform.iaa_share_wechat",
                pf(|x| x.iaa_share_wechat),
                0.50,
                "platform's share of IAA ad revenue on WeChat",
            )),
        ],
        android_share: v.prob("platform.android_share", pf(|x| x.android_share), 0.75, "share of arrivals on Android"),
        settlement: [Settlement::Daily, Settlement::Weekly, Settlement::Monthly][v.choice(
            "platform.settlement",
            p.and_then(|x| x.settlement.as_ref()),
            &["daily", "weekly", "monthly"],
            "when accrued commission is paid out",
        )],
        settlement_delay_days: v.int(
            "platform.settlement_delay_days",
            p.and_then(|x| x.settlement_delay_days),
            7,
            0,
            365,
            "days",
            "settlement delay D",
        ) as u32,
        commission_base: [CommissionBase::NetOfFees, CommissionBase::Net][v.choice(
            "platform.commission_base",
            p.and_then(|x| x.commission_base.as_ref()),
            &["net_of_fees", "net"],
            "commission on revenue after fees, or after refunds only",
        )],
    };

    let w = raw.wechat.as_ref();
    let wechat = Wechat {
        dropoff: v.prob("wechat.dropoff", w.and_then(|x| x.dropoff), 0.3, "share of opens lost in the jump to WeChat"),
        premium_pay: v.num(
            "wechat.premium_pay",
            w.and_then(|x| x.premium_pay),
            1.5,
            0.0,
            100.0,
            "factor",
            "multiplier on p_pay for WeChat titles",
        ),
        premium_repeat: v.num(
            "wechat.premium_repeat",
            w.and_then(|x| x.premium_repeat),
            1.5,
            0.0,
            100.0,
            "factor",
            "multiplier on p_repeat for WeChat titles",
        ),
    };

    let feed = validate_feed(&mut v, raw.feed.as_ref());

    let fo = raw.formats.as_ref();
    let format = |v: &mut V, kind: &str, f: Option<&RawFormat>, d: (f64, f64, f64)| Format {
        ctr: v.num(
            &format!("formats.{kind}.ctr"),
            f.and_then(|x| x.ctr),
            d.0,
            0.0,
            100.0,
            "factor",
            "CTR multiplier of the format",
        ),
        reach: v.num(
            &format!("formats.{kind}.reach"),
            f.and_then(|x| x.reach),
            d.1,
            0.0,
            100.0,
            "factor",
            "reach (demand) multiplier of the format",
        ),
        cost_rmb: v.num(
            &format!("formats.{kind}.cost_rmb"),
            f.and_then(|x| x.cost_rmb),
            d.2,
            0.0,
            BIG,
            "RMB/clip",
            "production cost in RMB-equivalent effort",
        ),
    };
    let formats = [
        format(&mut v, "video", fo.and_then(|x| x.video.as_ref()), (1.0, 1.0, 1.0)),
        format(&mut v, "image_text", fo.and_then(|x| x.image_text.as_ref()), (0.7, 0.6, 0.3)),
    ];

    let s = raw.square.as_ref();
    let sf = |f: fn(&RawSquare) -> Option<f64>| s.and_then(f);
    let square = Square {
        sample_size: v.int(
            "square.sample_size",
            s.and_then(|x| x.sample_size),
            20,
            1,
            1000,
            "plans",
            "plans a creator sees per attempt (K)",
        ) as usize,
        sampling: [Sampling::Popularity, Sampling::Uniform][v.choice(
            "square.sampling",
            s.and_then(|x| x.sampling.as_ref()),
            &["popularity", "uniform"],
            "how the sample is drawn",
        )],
        popularity_exponent: v.num(
            "square.popularity_exponent",
            sf(|x| x.popularity_exponent),
            0.5,
            0.0,
            10.0,
            "exponent",
            "alpha in (clips_7d + 1)^alpha",
        ),
        epc_weight: v.prob(
            "square.epc_weight",
            sf(|x| x.epc_weight),
            0.5,
            "beta: weight of the square's shown EPC against own learning",
        ),
        epc_prior_clips: v.num(
            "square.epc_prior_clips",
            sf(|x| x.epc_prior_clips),
            10.0,
            0.0,
            1e6,
            "clips",
            "m: shrinkage of EPC toward its prior",
        ),
        temperature_rmb: v.num(
            "square.temperature_rmb",
            sf(|x| x.temperature_rmb),
            10.0,
            1e-3,
            1e6,
            "RMB",
            "tau: softmax temperature of plan choice",
        ),
    };

    let creators = validate_creators(&mut v, raw.creators.as_ref(), platform.settlement_delay_days);
    let operators = validate_operators(&mut v, raw.operators.as_ref(), &ids);
    let subsidies = validate_subsidies(&mut v, raw.subsidies.as_deref(), &ids);

    if v.problems.is_empty() {
        let mut scenario = Scenario {
            name,
            start,
            days: days as u32,
            replications: replications as u32,
            seed: seed as u64,
            platform,
            wechat,
            feed,
            formats,
            square,
            creators,
            operators,
            categories,
            subsidies,
        };
        fill_launch_rates(&mut scenario);
        Ok(scenario)
    } else {
        Err(v.problems)
    }
}

/// A negative launch rate means "not given": the initial stock over the mean plan duration, so
/// the stock of titles holds steady (MODEL.md sec. 10).
fn fill_launch_rates(s: &mut Scenario) {
    let total_share: f64 = s.categories.iter().map(|c| c.share).sum();
    let mean_days = (s.operators.plan_days_min + s.operators.plan_days_max) as f64 / 2.0;
    for c in &mut s.categories {
        if c.launch_rate < 0.0 {
            let stock = if total_share > 0.0 { s.operators.titles as f64 * c.share / total_share } else { 0.0 };
            c.launch_rate = stock / mean_days.max(1.0);
        }
    }
}

fn validate_feed(v: &mut V, f: Option<&RawFeed>) -> Feed {
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

fn validate_creators(v: &mut V, c: Option<&RawCreators>, delay: u32) -> Creators {
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

fn validate_operators(v: &mut V, o: Option<&RawOperators>, ids: &[String]) -> Operators {
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
            "median commission budget of a plan",
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

fn validate_categories(v: &mut V, raw: &RawScenario) -> Vec<Category> {
    let given: Vec<(String, Option<&RawCategory>)> = match &raw.categories {
        Some(map) => map.iter().map(|(k, c)| (k.clone(), Some(c))).collect(),
        None => CATEGORIES.iter().map(|c| (c.id.to_owned(), None)).collect(),
    };
    if given.is_empty() {
        v.bad(
            "categories",
            "lists no category: list at least one, or leave out [categories] for the six defaults".into(),
        );
    }
    let mut out = Vec::with_capacity(given.len());
    for (id, c) in given {
        let base_id = c.and_then(|x| x.base.clone()).unwrap_or_else(|| id.clone());
        let d = match defaults::category(&base_id) {
            Some(d) => d,
            None => {
                let key = if c.and_then(|x| x.base.as_ref()).is_some() {
                    format!("categories.{id}.base")
                } else {
                    format!("categories.{id}")
                };
                let hint = super::schema::closest(&base_id, CATEGORIES.iter().map(|c| c.id))
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default();
                v.bad(&key, format!("unknown category \"{base_id}\": {hint}a new category needs `base = \"<known id>\"` to take its defaults from ({})", CATEGORIES.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")));
                &CATEGORIES[0]
            }
        };
        out.push(validate_category(v, &id, c, d));
    }
    out
}

fn validate_category(v: &mut V, id: &str, c: Option<&RawCategory>, d: &defaults::CategoryDefaults) -> Category {
    let k = |name: &str| format!("categories.{id}.{name}");
    let cf = |g: fn(&RawCategory) -> Option<f64>| c.and_then(g);
    let pays = v.choice(
        &k("pays"),
        c.and_then(|x| x.pays.as_ref()).or(Some(&d.pays.to_owned())),
        &["iap+iaa", "iap", "iaa"],
        "how the category monetises",
    );
    v.doc(&k("prices_rmb"), "RMB", format!("{:?}", d.prices_rmb), "each > 0".into(), "price list of an IAP payment");
    v.doc(
        &k("price_weights"),
        "weights",
        format!("{:?}", d.price_weights),
        "each >= 0, one per price".into(),
        "probability weight of each price",
    );
    let prices = c.and_then(|x| x.prices_rmb.clone()).unwrap_or_else(|| d.prices_rmb.to_vec());
    let weights = c.and_then(|x| x.price_weights.clone()).unwrap_or_else(|| {
        if c.and_then(|x| x.prices_rmb.as_ref()).is_some() {
            vec![1.0; prices.len()]
        } else {
            d.price_weights.to_vec()
        }
    });
    if prices.len() > crate::funnel::MAX_PRICES {
        v.bad(&k("prices_rmb"), format!("may list at most {} prices, got {}", crate::funnel::MAX_PRICES, prices.len()));
    }
    if prices.is_empty() {
        v.bad(&k("prices_rmb"), "must list at least one price".into());
    }
    for (i, p) in prices.iter().enumerate() {
        if !p.is_finite() || *p <= 0.0 || *p > 1e8 {
            v.bad(&format!("{}[{i}]", k("prices_rmb")), format!("must be a price in RMB above 0, got {p}"));
        }
    }
    if weights.len() != prices.len() {
        v.bad(&k("price_weights"), format!("must have one weight per price ({}), got {}", prices.len(), weights.len()));
    } else if weights.iter().any(|w| !w.is_finite() || *w < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
        v.bad(&k("price_weights"), "weights must be finite, non-negative and not all zero".into());
    }
    let commission_min =
        v.prob(&k("commission_min"), cf(|x| x.commission_min), d.commission.0, "lowest commission rate of a plan");
    let commission_max =
        v.prob(&k("commission_max"), cf(|x| x.commission_max), d.commission.1, "highest commission rate of a plan");
    if commission_max < commission_min {
        v.bad(
            &k("commission_max"),
            format!("must be at least commission_min ({commission_min}), got {commission_max}"),
        );
    }
    v.doc(&k("name"), "text", format!("\"{}\"", d.name), "any".into(), "display name (Chinese is fine)");
    v.doc(
        &k("base"),
        "category id",
        "the id itself".into(),
        "a known id".into(),
        "known category whose defaults a new id takes",
    );
    Category {
        id: id.to_owned(),
        name: c
            .and_then(|x| x.name.clone())
            .unwrap_or_else(|| if id == d.id { d.name.to_owned() } else { id.to_owned() }),
        share: v.num(
            &k("share"),
            cf(|x| x.share),
            d.share,
            0.0,
            1e6,
            "weight",
            "share of the initial titles (weights are normalised)",
        ),
        launch_rate: v.num(
            &k("launch_rate"),
            cf(|x| x.launch_rate),
            -1.0,
            -1.0,
            1e6,
            "titles/day",
            "launches a day (-1: stock / mean plan days)",
        ),
        iap: pays != 2,
        iaa: pays != 1,
        ctr: v.prob(&k("ctr"), cf(|x| x.ctr), d.ctr, "mount CTR: opens per fresh impression"),
        p_pay: v.prob(&k("p_pay"), cf(|x| x.p_pay), d.p_pay, "probability that an arrival pays"),
        prices_fen: prices.iter().map(|p| rmb_to_fen(*p)).collect(),
        price_weights: weights,
        p_repeat: v.prob(
            &k("p_repeat"),
            cf(|x| x.p_repeat),
            d.p_repeat,
            "daily probability that a payer pays again in the window",
        ),
        window_days: v.int(
            &k("window_days"),
            c.and_then(|x| x.window_days),
            d.window_days,
            1,
            365,
            "days",
            "attribution window W",
        ) as u32,
        ad_views_per_day: v.num(
            &k("ad_views_per_day"),
            cf(|x| x.ad_views_per_day),
            d.ad_views_per_day,
            0.0,
            1000.0,
            "views/day",
            "rewarded ads an IAA viewer watches a day",
        ),
        ad_keep: v.prob(&k("ad_keep"), cf(|x| x.ad_keep), 0.7, "daily retention of ad viewers"),
        ecpm_fen_per_1000: rmb_to_fen(v.num(
            &k("ecpm_rmb"),
            cf(|x| x.ecpm_rmb),
            140.0,
            0.0,
            1e6,
            "RMB/1000 views",
            "rewarded-video eCPM",
        )),
        refund: v.prob(&k("refund"), cf(|x| x.refund), d.refund, "share of IAP payments refunded"),
        commission_min,
        commission_max,
        audience_median: v.num(
            &k("audience_median"),
            cf(|x| x.audience_median),
            d.audience_median,
            0.0,
            2e9,
            "people",
            "median addressable audience A_k of a title",
        ),
        audience_sigma: v.num(
            &k("audience_sigma"),
            cf(|x| x.audience_sigma),
            1.0,
            0.0,
            5.0,
            "log-sd",
            "sigma of LogNormal audiences",
        ),
        wechat_share: v.prob(
            &k("wechat_share"),
            cf(|x| x.wechat_share),
            0.2,
            "share of new titles landing on WeChat (landing = fixed)",
        ),
        ios_iap: v.flag(&k("ios_iap"), c.and_then(|x| x.ios_iap), d.ios_iap, "iOS arrivals can pay in-app"),
        fee_ppm: [
            to_ppm(v.prob(
                &k("fee_douyin"),
                cf(|x| x.fee_douyin),
                d.fee_douyin,
                "platform fee or revenue share on IAP landing on Douyin",
            )),
            to_ppm(v.prob(
                &k("fee_wechat"),
                cf(|x| x.fee_wechat),
                d.fee_wechat,
                "platform fee or revenue share on IAP landing on WeChat",
            )),
        ],
        affinity_alpha: v.num(
            &k("affinity_alpha"),
            cf(|x| x.affinity_alpha),
            1.0,
            1e-3,
            1000.0,
            "concentration",
            "Dirichlet alpha_c of creator affinity",
        ),
    }
}

fn validate_subsidies(v: &mut V, list: Option<&[RawSubsidy]>, ids: &[String]) -> Vec<Subsidy> {
    let empty = RawSubsidy::default();
    let list: Vec<&RawSubsidy> = match list {
        Some(l) => l.iter().collect(),
        // Visit one empty program when documenting, so its keys are recorded.
        None if v.rec.on => vec![&empty],
        None => vec![],
    };
    let documenting = v.rec.on && list.len() == 1 && std::ptr::eq(list[0], &empty);
    let mut out = Vec::new();
    for (i, s) in list.into_iter().enumerate() {
        let k = |name: &str| if documenting { format!("subsidies[].{name}") } else { format!("subsidies[{i}].{name}") };
        let sf = |g: fn(&RawSubsidy) -> Option<f64>| g(s);
        v.doc(&k("name"), "text", "\"subsidy N\"".into(), "any".into(), "program name for reports");
        let from = v.date(&k("from"), s.from.as_ref(), "1970-01-01", "first day of the program");
        let to = v.date(&k("to"), s.to.as_ref(), "9999-12-31", "last day of the program");
        if to < from {
            v.bad(&k("to"), format!("must not be before `from` ({from}), got {to}"));
        }
        out.push(Subsidy {
            name: s.name.clone().unwrap_or_else(|| format!("subsidy {}", i + 1)),
            from,
            to,
            categories: v.category_mask(
                &k("categories"),
                s.categories.as_ref(),
                ids,
                &[],
                "eligible categories (all if absent)",
            ),
            budget_fen: rmb_to_fen(v.num(
                &k("budget_rmb"),
                sf(|x| x.budget_rmb),
                0.0,
                0.0,
                1e13,
                "RMB",
                "total budget of the program",
            )),
            form: [SubsidyForm::CommissionTopup, SubsidyForm::PerClip, SubsidyForm::PerOpen][v.choice(
                &k("form"),
                s.form.as_ref(),
                &["commission_topup", "per_clip", "per_open"],
                "what the program pays for",
            )],
            topup_ppm: to_ppm(v.num(
                &k("topup"),
                sf(|x| x.topup),
                0.0,
                0.0,
                10.0,
                "share",
                "top-up as a share of commission (commission_topup)",
            )),
            per_clip_fen: rmb_to_fen(v.num(
                &k("per_clip_rmb"),
                sf(|x| x.per_clip_rmb),
                0.0,
                0.0,
                1e8,
                "RMB/clip",
                "bonus per clip (per_clip)",
            )),
            first_clips: v.int(
                &k("first_clips"),
                s.first_clips,
                10,
                0,
                MAX_COUNT,
                "clips",
                "bonus for a creator's first n clips in the program (per_clip)",
            ) as u32,
            per_open_fen: rmb_to_fen(v.num(
                &k("per_open_rmb"),
                sf(|x| x.per_open_rmb),
                0.0,
                0.0,
                1e6,
                "RMB/open",
                "bonus per open (per_open)",
            )),
        });
    }
    if documenting {
        out.clear();
    }
    out
}
