//! The strategist's own plans (`[[plans]]`): one named title each, with its rate, budget and
//! dates, checked key by key and turned into [`OwnPlan`]s that the model places into the
//! generated market.

use super::raw::RawPlan;
use super::validate::{fmt_num, BIG, V};
use super::*;
use crate::base::money::{rmb_to_fen, to_ppm};

/// Characters a plan's name may not hold: it names the plan in key paths such as
/// `plans.<name>.commission`, which split on dots and brackets.
const RESERVED: [char; 3] = ['.', '[', ']'];

/// One own plan, in model units.
#[derive(Clone, Debug)]
pub struct OwnPlan {
    pub name: String,
    pub category: usize,
    pub landing: Landing,
    pub rate_ppm: Ppm,
    /// `None` for an unlimited budget.
    pub budget_fen: Option<Fen>,
    pub start: Date,
    pub end: Date,
    /// Simulation days of `start` and `end` (day 0 is `scenario.start_date`; may be negative).
    pub start_day: i32,
    pub end_day: i32,
    /// Title traits; `None` draws them as the category's titles are drawn.
    pub audience: Option<u64>,
    pub quality: Option<f64>,
    pub paid_traffic_fen_per_day: Fen,
    pub relaunch: bool,
    pub policy: RatePolicy,
    /// Bounds of rate steering.
    pub commission_min: f64,
    pub commission_max: f64,
}

impl Scenario {
    /// The index of the own plan called `name`.
    pub fn own_plan_index(&self, name: &str) -> Option<usize> {
        self.plans.iter().position(|p| p.name == name)
    }
}

/// The context own plans are checked against.
pub(super) struct Market<'a> {
    pub categories: &'a [Category],
    pub operators: &'a Operators,
    pub start: Date,
    pub days: u32,
}

pub(super) fn validate_plans(v: &mut V, list: Option<&[RawPlan]>, m: &Market) -> Vec<OwnPlan> {
    let empty = RawPlan::default();
    let list: Vec<&RawPlan> = match list {
        Some(l) => l.iter().collect(),
        // Visit one empty plan when documenting, so its keys are recorded.
        None if v.rec.on => vec![&empty],
        None => vec![],
    };
    let documenting = v.rec.on && list.len() == 1 && std::ptr::eq(list[0], &empty);
    let ids: Vec<&str> = m.categories.iter().map(|c| c.id.as_str()).collect();
    let mut out: Vec<OwnPlan> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (i, p) in list.into_iter().enumerate() {
        let k = |name: &str| if documenting { format!("plans[].{name}") } else { format!("plans[{i}].{name}") };
        v.doc(
            &k("name"),
            "text",
            "required".into(),
            "unique, no `.`, `[` or `]`".into(),
            "the plan's name in outputs and key paths (`plans.<name>.commission`); Chinese is fine",
        );
        let name = match &p.name {
            Some(n) if n.trim().is_empty() => {
                v.bad(&k("name"), "must not be empty".into());
                String::new()
            }
            Some(n) if n.contains(RESERVED) => {
                v.bad(
                    &k("name"),
                    format!("must not contain `.`, `[` or `]` (it names the plan in key paths such as plans.<name>.commission), got \"{n}\""),
                );
                n.clone()
            }
            Some(n) => {
                if let Some(j) = names.iter().position(|x| x == n) {
                    v.bad(
                        &k("name"),
                        format!("\"{n}\" is already the name of plans[{j}]; own plans need unique names"),
                    );
                }
                n.clone()
            }
            None if documenting => String::new(),
            None => {
                v.bad(
                    &format!("plans[{i}]"),
                    "needs a `name` (unique; it names the plan in outputs and key paths)".into(),
                );
                format!("plan {}", i + 1)
            }
        };
        names.push(name.clone());
        v.doc(
            &k("category"),
            "category id",
            "required".into(),
            "ids of `[categories]`".into(),
            "category of the plan's title",
        );
        let category = match &p.category {
            Some(c) => match ids.iter().position(|id| id == c) {
                Some(j) => j,
                None => {
                    let hint = super::schema::closest(c, ids.iter().copied())
                        .map(|x| format!("did you mean \"{x}\"? "))
                        .unwrap_or_default();
                    v.bad(
                        &k("category"),
                        format!("unknown category \"{c}\": {hint}the scenario's categories are {}", ids.join(", ")),
                    );
                    0
                }
            },
            None if documenting => 0,
            None => {
                v.bad(&format!("plans[{i}]"), format!("needs a `category`, one of {}", ids.join(", ")));
                0
            }
        };
        let landing = [Landing::Douyin, Landing::Wechat]
            [v.choice(&k("landing"), p.landing.as_ref(), &["douyin", "wechat"], "where the plan's mini-program opens")];
        v.doc(&k("commission"), "rate", "required".into(), "0 to 1".into(), "commission rate of the plan");
        let rate = match p.commission {
            Some(x) if !x.is_finite() || !(0.0..=1.0).contains(&x) => {
                v.bad(&k("commission"), format!("must be a rate between 0 and 1, got {}", fmt_num(x)));
                0.0
            }
            Some(x) => x,
            None if documenting => 0.0,
            None => {
                v.bad(&format!("plans[{i}]"), "needs a `commission` rate between 0 and 1 (0.6 = 60%)".into());
                0.0
            }
        };
        v.doc(
            &k("budget_rmb"),
            "RMB",
            "required".into(),
            "a number >= 0, or \"unlimited\"".into(),
            "commission budget of the plan; the plan leaves the square when it is spent",
        );
        let budget_fen = match &p.budget_rmb {
            Some(toml::Value::String(s)) if s == "unlimited" => None,
            Some(toml::Value::String(s)) => {
                let hint = super::schema::closest(s, ["unlimited"].into_iter())
                    .map(|_| "; did you mean \"unlimited\"?")
                    .unwrap_or_default();
                v.bad(&k("budget_rmb"), format!("must be a number of RMB or \"unlimited\", got \"{s}\"{hint}"));
                None
            }
            Some(val) => match val.as_float().or_else(|| val.as_integer().map(|n| n as f64)) {
                Some(x) if x.is_finite() && (0.0..=BIG).contains(&x) => Some(rmb_to_fen(x)),
                Some(x) => {
                    v.bad(&k("budget_rmb"), format!("must be between 0 and {} RMB, got {}", fmt_num(BIG), fmt_num(x)));
                    None
                }
                None => {
                    v.bad(&k("budget_rmb"), format!("must be a number of RMB or \"unlimited\", got {val}"));
                    None
                }
            },
            None if documenting => None,
            None => {
                v.bad(&format!("plans[{i}]"), "needs a `budget_rmb`: a number of RMB, or \"unlimited\"".into());
                None
            }
        };
        let last = m.start.add_days(m.days as i32 - 1);
        v.doc(
            &k("start"),
            "date",
            "scenario.start_date".into(),
            "YYYY-MM-DD".into(),
            "first day of the plan (may be before the run)",
        );
        v.doc(
            &k("end"),
            "date",
            "the run's last day".into(),
            "YYYY-MM-DD, not before `start`".into(),
            "last day of the plan",
        );
        let start = v.date(&k("start"), p.start.as_ref(), &m.start.to_string(), "");
        let end = v.date(&k("end"), p.end.as_ref(), &last.to_string(), "");
        if end < start {
            v.bad(&k("end"), format!("must not be before `start` ({start}), got {end}"));
        } else if end < m.start {
            v.bad(&k("end"), format!("is before the run starts ({}): the plan would never run, got {end}", m.start));
        } else if start > last {
            v.bad(&k("start"), format!("is after the run's last day ({last}): the plan would never run, got {start}"));
        }
        let c = &m.categories[category.min(m.categories.len().saturating_sub(1))];
        v.doc(
            &k("audience"),
            "people",
            "drawn as the category's".into(),
            "0 to 2000000000".into(),
            "addressable audience of the title",
        );
        let audience = p.audience.map(|x| v.num(&k("audience"), Some(x), 0.0, 0.0, 2e9, "people", "").round() as u64);
        v.doc(
            &k("quality"),
            "factor",
            "drawn as the category's".into(),
            "0.001 to 100".into(),
            "title quality (1 = a median title)",
        );
        let quality = p.quality.map(|q| v.num(&k("quality"), Some(q), 1.0, 1e-3, 100.0, "factor", ""));
        let o = m.operators;
        let paid_default = if o.paid_traffic_categories.get(category).copied().unwrap_or(false) {
            o.paid_traffic_fen_per_day
        } else {
            0
        };
        v.doc(
            &k("paid_traffic_rmb_per_day"),
            "RMB/day",
            "operators.paid_traffic_rmb_per_day if its category buys paid traffic".into(),
            format!("0 to {}", fmt_num(BIG)),
            "paid traffic bought for the title a day while the plan is open",
        );
        let paid_traffic_fen_per_day = match p.paid_traffic_rmb_per_day {
            Some(x) => rmb_to_fen(v.num(&k("paid_traffic_rmb_per_day"), Some(x), 0.0, 0.0, BIG, "RMB/day", "")),
            None => paid_default,
        };
        v.doc(
            &k("relaunch"),
            "bool",
            "operators.relaunch".into(),
            "true \\| false".into(),
            "relaunch with the same budget when it runs out before the end date",
        );
        let relaunch = p.relaunch.unwrap_or(o.relaunch);
        v.doc(
            &k("policy"),
            "choice",
            "operators.policy".into(),
            "\"fixed\" \\| \"target_clips\" \\| \"target_margin\"".into(),
            "rate steering of the plan (targets and review days of `[operators]`)",
        );
        let policy = match &p.policy {
            None => o.policy,
            Some(_) => [RatePolicy::Fixed, RatePolicy::TargetClips, RatePolicy::TargetMargin]
                [v.choice(&k("policy"), p.policy.as_ref(), &["fixed", "target_clips", "target_margin"], "")],
        };
        v.doc(
            &k("commission_min"),
            "rate",
            "the category's, or `commission` if lower".into(),
            "0 to 1".into(),
            "lowest rate steering may set",
        );
        v.doc(
            &k("commission_max"),
            "rate",
            "the category's, or `commission` if higher".into(),
            "0 to 1".into(),
            "highest rate steering may set",
        );
        let commission_min = match p.commission_min {
            Some(x) => v.prob(&k("commission_min"), Some(x), 0.0, ""),
            None => c.commission_min.min(rate),
        };
        let commission_max = match p.commission_max {
            Some(x) => v.prob(&k("commission_max"), Some(x), 1.0, ""),
            None => c.commission_max.max(rate),
        };
        if commission_min > rate || rate > commission_max {
            v.bad(
                &k("commission"),
                format!(
                    "must lie between commission_min ({}) and commission_max ({}), got {}",
                    fmt_num(commission_min),
                    fmt_num(commission_max),
                    fmt_num(rate)
                ),
            );
        }
        out.push(OwnPlan {
            name,
            category,
            landing,
            rate_ppm: to_ppm(rate),
            budget_fen,
            start,
            end,
            start_day: start.0 - m.start.0,
            end_day: end.0 - m.start.0,
            audience,
            quality,
            paid_traffic_fen_per_day,
            relaunch,
            policy,
            commission_min,
            commission_max,
        });
    }
    if documenting {
        out.clear();
    }
    out
}
