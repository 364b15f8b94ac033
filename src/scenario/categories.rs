//! Validation of the categories (defaults by id, overrides key by key) and subsidy programs.

use super::defaults::{self, CATEGORIES};
use super::raw::*;
use super::validate::{fmt_num, BIG, MAX_COUNT, V};
use super::*;
use crate::base::money::{rmb_to_fen, to_ppm};

/// At most this many prices in a category's price list (the funnel keeps a fixed array of them).
pub const MAX_PRICES: usize = 8;

/// The market's categories: the six defaults in their order, then every new id defined under
/// `[categories]` in name order, unless `scenario.categories` lists which (in its order). A
/// `[categories.X]` table overrides X key by key and never removes another category: leaving
/// one out of the market is said in `scenario.categories`, so it cannot happen by accident.
pub(super) fn validate_categories(v: &mut V, raw: &RawScenario) -> Vec<Category> {
    let tables = raw.categories.as_ref();
    let table = |id: &str| tables.and_then(|m| m.get(id));
    v.doc(
        "scenario.categories",
        "category ids",
        "the six defaults, then new ids of [categories]".into(),
        "known or defined ids, each once".into(),
        "the categories in the market, in this order; list them to leave a default one out",
    );
    let ids: Vec<(String, String)> = match raw.scenario.as_ref().and_then(|m| m.categories.as_ref()) {
        Some(list) => {
            if list.is_empty() {
                v.bad(
                    "scenario.categories",
                    "lists no category: list at least one, or leave the key out for all six defaults".into(),
                );
            }
            for (i, id) in list.iter().enumerate() {
                if list[..i].contains(id) {
                    v.bad(&format!("scenario.categories[{i}]"), format!("lists \"{id}\" twice"));
                }
            }
            if let Some(map) = tables {
                for id in map.keys().filter(|id| !list.contains(id)) {
                    v.bad(
                        &format!("categories.{id}"),
                        format!(
                            "is not in the market: scenario.categories leaves it out; add \"{id}\" to that list or remove this table"
                        ),
                    );
                }
            }
            list.iter().enumerate().map(|(i, id)| (id.clone(), format!("scenario.categories[{i}]"))).collect()
        }
        None => CATEGORIES
            .iter()
            .map(|c| c.id.to_owned())
            .chain(tables.into_iter().flat_map(|m| m.keys()).filter(|id| defaults::category(id).is_none()).cloned())
            .map(|id| {
                let key = format!("categories.{id}");
                (id, key)
            })
            .collect(),
    };
    let mut out = Vec::with_capacity(ids.len());
    for (id, list_key) in ids {
        let c = table(&id);
        let base_id = c.and_then(|x| x.base.clone()).unwrap_or_else(|| id.clone());
        let d = match defaults::category(&base_id) {
            Some(d) => d,
            None => {
                let key = if c.and_then(|x| x.base.as_ref()).is_some() {
                    format!("categories.{id}.base")
                } else if c.is_some() {
                    format!("categories.{id}")
                } else {
                    list_key
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
        "probability weight of each price (equal weights when `prices_rmb` is given without them)",
    );
    let prices = c.and_then(|x| x.prices_rmb.clone()).unwrap_or_else(|| d.prices_rmb.to_vec());
    let weights = c.and_then(|x| x.price_weights.clone()).unwrap_or_else(|| {
        if c.and_then(|x| x.prices_rmb.as_ref()).is_some() {
            vec![1.0; prices.len()]
        } else {
            d.price_weights.to_vec()
        }
    });
    if prices.len() > MAX_PRICES {
        v.bad(&k("prices_rmb"), format!("may list at most {} prices, got {}", MAX_PRICES, prices.len()));
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
        budget_median_fen: {
            // Not given: a negative scale of `operators.budget_median_rmb`, filled in once the
            // operators are validated (`validate::fill_budgets`).
            v.doc(
                &k("budget_median_rmb"),
                "RMB",
                format!("operators.budget_median_rmb x {}", fmt_num(d.budget_scale)),
                format!("0 to {}", fmt_num(BIG)),
                "median commission budget of a plan of the category",
            );
            match cf(|x| x.budget_median_rmb) {
                Some(_) => {
                    v.num(&k("budget_median_rmb"), cf(|x| x.budget_median_rmb), 0.0, 0.0, BIG, "RMB", "") * 100.0
                }
                None => -d.budget_scale,
            }
        },
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

pub(super) fn validate_subsidies(v: &mut V, list: Option<&[RawSubsidy]>, ids: &[String]) -> Vec<Subsidy> {
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
