//! The high stage of input: range checks, defaults and unit conversion, naming every bad key.
//!
//! The same calls that check a value also record its key, unit, default and range in a
//! [`Recorder`], so the schema reference (`cpsim schema`) is generated from this one source.

use super::categories::{validate_categories, validate_subsidies};
use super::defaults::DEFAULT_BURN_IN_DAYS;
use super::raw::*;
use super::sections::{validate_creators, validate_feed, validate_operators};
use super::*;
use crate::base::money::to_ppm;
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
    pub(super) on: bool,
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

pub(super) struct V<'r> {
    pub(super) problems: Vec<Problem>,
    pub(super) rec: &'r mut Recorder,
}

pub(super) const MAX_COUNT: i64 = 1_000_000_000;

impl V<'_> {
    pub(super) fn bad(&mut self, key: &str, message: String) {
        self.problems.push(Problem { key: key.to_owned(), message, line: None });
    }

    pub(super) fn doc(&mut self, key: &str, unit: &'static str, default: String, range: String, doc: &'static str) {
        if self.rec.on && !self.rec.rows.iter().any(|r| r.key == key) {
            self.rec.rows.push(KeyDoc { key: key.to_owned(), unit, default, range, doc });
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn num(
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

    pub(super) fn prob(&mut self, key: &str, v: Option<f64>, default: f64, doc: &'static str) -> f64 {
        self.num(key, v, default, 0.0, 1.0, "probability", doc)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn int(
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

    pub(super) fn date(&mut self, key: &str, v: Option<&Datetime>, default: &str, doc: &'static str) -> Date {
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

    pub(super) fn choice(
        &mut self,
        key: &str,
        v: Option<&String>,
        options: &[&'static str],
        doc: &'static str,
    ) -> usize {
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

    pub(super) fn flag(&mut self, key: &str, v: Option<bool>, default: bool, doc: &'static str) -> bool {
        self.doc(key, "bool", default.to_string(), "true \\| false".into(), doc);
        v.unwrap_or(default)
    }

    /// A list of category ids turned into a mask over the scenario's categories.
    pub(super) fn category_mask(
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

pub(super) fn quoted(options: &[&str]) -> String {
    options.iter().map(|o| format!("\"{o}\"")).collect::<Vec<_>>().join(", ")
}

pub(super) fn fmt_num(x: f64) -> String {
    if x == f64::MAX {
        "any".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

pub(super) const BIG: f64 = 1e12;

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
    let burn_in_days = v.int(
        "scenario.burn_in_days",
        m(|x| x.burn_in_days),
        i64::from(DEFAULT_BURN_IN_DAYS),
        0,
        3650,
        "days",
        "days the market runs before start_date, reporting nothing (0: start empty)",
    );
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
            "promoted-feed supply S_0 on day 0 (with its growth, at most 4294967295 on any day)",
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

    // The feed counts a clip's impressions of a day in 32 bits, so that a clip's record fits one
    // cache line (issue 19): no day's supply may pass `u32::MAX`. The supply is monotone in the
    // day, so the ends of the run (burn-in included) bound it.
    let last_day = (burn_in_days + days) as u32;
    let peak = platform.supply(last_day);
    if platform.supply(0).max(peak).floor() > u32::MAX as f64 {
        v.bad(
            "platform.feed_supply",
            format!(
                "must keep every day's supply at most {} impressions (a clip's impressions of a day are counted in \
                 32 bits), got {} growing to {} by day {last_day}",
                u32::MAX,
                fmt_num(platform.feed_supply),
                fmt_num(peak.floor()),
            ),
        );
    }

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
    let market = super::plans::Market { categories: &categories, operators: &operators, start, days: days as u32 };
    let plans = super::plans::validate_plans(&mut v, raw.plans.as_deref(), &market);

    if v.problems.is_empty() {
        let mut scenario = Scenario {
            name,
            start,
            days: days as u32,
            burn_in_days: burn_in_days as u32,
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
            plans,
        };
        fill_launch_rates(&mut scenario);
        fill_budgets(&mut scenario);
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

/// A negative category budget is a scale of `operators.budget_median_rmb` (the category's
/// default, docs/MODEL.md "Budgets by category"), so a scenario that scales the operators' median
/// scales every category's with it.
fn fill_budgets(s: &mut Scenario) {
    let median = s.operators.budget_median_fen;
    for c in &mut s.categories {
        if c.budget_median_fen < 0.0 {
            c.budget_median_fen = median * -c.budget_median_fen;
        }
    }
}
