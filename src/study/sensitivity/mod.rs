//! Sensitivity analysis: one-at-a-time elasticities of the headline outcomes (GMV, commission
//! settled, creators paid) to the scenario's numeric parameters.
//!
//! Each parameter is a key path of the schema, or a pattern over key paths where `*` stands for
//! any run of characters but `.` (`categories.*.p_pay` scales `p_pay` of every category at once).
//! It is scaled down and up by `step` (clamped to each key's valid range, whole-number keys
//! rounded) and the two variants run with the baseline's replication seeds (common random
//! numbers): both are built by the sweep machinery ([`crate::study::sweep::load_text`] with a
//! `[sweep] mode = "zip"` table), so they are validated like any sweep variant. For replication
//! `r` the elasticity is
//!
//! ```text
//! e_r = ((M+_r - M-_r) / M0_r) / ((x+ - x-) / x0)
//! ```
//!
//! (`x+ - x-` is `2 * step * x0` unless clamping or rounding made it smaller); the mean and the
//! 95% interval over replications are reported, paired by replication.

use crate::report::output::OutputError;
use crate::scenario::{self, schema, validate, Recorder, ScenarioError};
use crate::study::runner;
use crate::study::sweep::{self, Overrides, Study};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

mod report;

pub use report::{csv, outcome_title, rows, run, table, write, Row};

/// The outcomes ranked, in [`METRICS`] names; a scenario with own plans adds theirs
/// ([`Plan::outcomes`]).
pub const OUTCOMES: [&str; 4] = ["gmv", "commission_settled", "creators_paid", "operator_net"];

/// What each own plan adds to the outcomes, as `plans.<name>.<metric>`.
pub const OWN_OUTCOMES: [&str; 2] = ["operator_net", "clips"];

/// The parameters analysed when `--params` is not given: the levers and the uncertain market
/// numbers of MODEL.md. Patterns that match no key of a scenario (a subsidy of a scenario without
/// subsidies) are left out silently.
pub const DEFAULT_PARAMS: &[&str] = &[
    // Plans and money, every category at once.
    "categories.*.commission_*",
    "categories.*.fee_*",
    "categories.*.prices_rmb",
    "categories.*.refund",
    "categories.*.ecpm_rmb",
    "categories.*.ad_views_per_day",
    // Viewers: the funnel and the audience.
    "categories.*.ctr",
    "categories.*.p_pay",
    "categories.*.p_repeat",
    "categories.*.window_days",
    "categories.*.audience_median",
    // Platform rules.
    "platform.feed_supply",
    "platform.ad_money_rate",
    "platform.iaa_share_*",
    "platform.settlement_delay_days",
    "wechat.dropoff",
    "wechat.premium_pay",
    // The feed.
    "feed.decay",
    "feed.lifetime_days",
    "feed.engagement_base",
    "feed.follower_reach",
    // Creators.
    "creators.count",
    "creators.posts_per_day",
    "creators.reservation_median_rmb",
    "creators.churn_ratio",
    "creators.churn_hazard",
    "creators.entry_rate",
    "square.temperature_rmb",
    // Operators.
    "operators.titles",
    "operators.budget_median_rmb",
    "operators.paid_traffic_rmb_per_day",
    // Subsidy programs.
    "subsidies[*].budget_rmb",
    "subsidies[*].topup",
    "subsidies[*].per_clip_rmb",
    "subsidies[*].per_open_rmb",
];

/// Keys that are not model parameters.
const NOT_PARAMETERS: [&str; 2] = ["scenario.seed", "scenario.replications"];

/// What to analyse.
#[derive(Clone, Debug)]
pub struct Options {
    /// Relative change down and up (0.1 = ±10%).
    pub step: f64,
    /// Parameters (key paths or patterns); `None` for [`DEFAULT_PARAMS`].
    pub params: Option<Vec<String>>,
    pub overrides: Overrides,
}

#[derive(Debug, thiserror::Error)]
pub enum SensitivityError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("interrupted")]
    Interrupted,
}

/// One key a parameter scales: its baseline, low and high values.
#[derive(Clone, Debug)]
pub struct KeyChange {
    pub key: String,
    pub base: Value,
    pub low: Value,
    pub high: Value,
}

/// A parameter: one key or the keys of a pattern, scaled together.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub keys: Vec<KeyChange>,
    /// `(x+ - x-) / x0` (averaged over the keys): `2 * step` unless clamped or rounded.
    pub change: f64,
    /// Why the parameter is skipped, or how its change differs from ±step; empty otherwise.
    pub note: String,
    /// Its study (low and high variants) in [`Plan::studies`]; `None` when skipped.
    pub study: Option<usize>,
}

/// A sensitivity analysis ready to run: the baseline (study 0) and two variants per parameter.
#[derive(Clone, Debug)]
pub struct Plan {
    pub stem: String,
    pub file: PathBuf,
    pub step: f64,
    pub studies: Vec<Study>,
    pub params: Vec<Param>,
}

impl Plan {
    /// Units of work (variant x replication).
    pub fn units(&self) -> usize {
        runner::units(&self.studies).len()
    }
    pub fn replications(&self) -> u32 {
        self.studies[0].variants[0].scenario.replications
    }
    pub fn seed(&self) -> u64 {
        self.studies[0].variants[0].scenario.seed
    }
    /// The outcomes ranked: [`OUTCOMES`], then [`OWN_OUTCOMES`] of each own plan.
    pub fn outcomes(&self) -> Vec<String> {
        let mut out: Vec<String> = OUTCOMES.iter().map(|m| m.to_string()).collect();
        for p in &self.studies[0].variants[0].scenario.plans {
            out.extend(OWN_OUTCOMES.iter().map(|m| format!("plans.{}.{m}", p.name)));
        }
        out
    }
}

/// A numeric key of the scenario with its baseline value and valid range.
#[derive(Clone, Debug)]
struct NumKey {
    key: String,
    base: Value,
    lo: f64,
    hi: f64,
    /// A list whose elements must stay in [0, 1].
    unit_list: bool,
}

/// `*` matches any run of characters other than `.`.
pub fn matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[u8], k: &[u8]) -> bool {
        match p.split_first() {
            None => k.is_empty(),
            Some((b'*', rest)) => {
                let mut i = 0;
                loop {
                    if go(rest, &k[i..]) {
                        return true;
                    }
                    if i == k.len() || k[i] == b'.' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some((c, rest)) => k.first() == Some(c) && go(rest, &k[1..]),
        }
    }
    go(pattern.as_bytes(), key.as_bytes())
}

/// The value at a key path (`a.b`, `subsidies[0].x`), if the document has it.
fn get_path<'t>(t: &'t Table, key: &str) -> Option<&'t Value> {
    let mut cur: Option<&Value> = None;
    for part in key.split('.') {
        let table = match cur {
            None => t,
            Some(Value::Table(x)) => x,
            _ => return None,
        };
        let (name, index) = sweep::split_index(part);
        let v = table.get(name)?;
        cur = Some(match index {
            Some(i) => v.as_array()?.get(i)?,
            None => v,
        });
    }
    cur
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn nums(v: &Value) -> Option<Vec<f64>> {
    match v {
        Value::Array(a) => a.iter().map(num).collect(),
        _ => None,
    }
}

/// 12 significant digits: `0.9 * 1.1` is written 0.99, not 0.9900000000000001.
fn tidy(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// Whether the file reads `key` as a whole number (a float there is a type error).
fn is_integer_key(doc: &Table, key: &str) -> bool {
    let mut t = doc.clone();
    if sweep::set_path(&mut t, key, Value::Float(0.5)).is_err() {
        return false;
    }
    let text = toml::to_string(&t).unwrap_or_default();
    scenario::parse_raw(&text).is_err()
}

/// Every numeric key of the scenario, from the schema as the validator records it.
fn numeric_keys(doc: &Table, text: &str, stem: &str) -> Result<Vec<NumKey>, ScenarioError> {
    let raw = scenario::parse_raw(text)?;
    let mut rec = Recorder::on();
    let _ = validate(&raw, stem, &mut rec);
    let mut out = Vec::new();
    for row in &rec.rows {
        if row.key.contains("[]") || NOT_PARAMETERS.contains(&row.key.as_str()) {
            continue;
        }
        let given = get_path(doc, &row.key).cloned();
        let list = row.range.starts_with("each") || row.range.contains(", each");
        if let (false, Some((lo, hi))) = (list, row.range.split_once(" to ")) {
            let (Ok(lo), Ok(hi)) = (lo.parse::<f64>(), hi.parse::<f64>()) else { continue };
            let base = match given {
                Some(v) if num(&v).is_some() => v,
                Some(_) => continue,
                None => match row.default.parse::<f64>() {
                    Ok(x) => Value::Float(x),
                    Err(_) => continue,
                },
            };
            let integer = is_integer_key(doc, &row.key);
            let base = match (integer, num(&base)) {
                (true, Some(x)) => Value::Integer(x as i64),
                (false, Some(x)) => Value::Float(x),
                _ => continue,
            };
            out.push(NumKey { key: row.key.clone(), base, lo, hi, unit_list: false });
        } else if list {
            let base = match given {
                Some(v) => v,
                None => match format!("v = {}", row.default).parse::<Table>() {
                    Ok(mut t) => t.remove("v").unwrap_or(Value::Boolean(false)),
                    Err(_) => continue,
                },
            };
            if nums(&base).is_none() {
                continue;
            }
            let unit_list = row.range.contains("[0, 1]");
            out.push(NumKey { key: row.key.clone(), base, lo: f64::MIN, hi: f64::MAX, unit_list });
        }
    }
    Ok(out)
}

/// All keys the recorder knows (for "did you mean" and "not a number").
fn all_keys(text: &str, stem: &str) -> Vec<(String, &'static str)> {
    let Ok(raw) = scenario::parse_raw(text) else { return Vec::new() };
    let mut rec = Recorder::on();
    let _ = validate(&raw, stem, &mut rec);
    rec.rows.iter().map(|r| (r.key.clone(), r.unit)).collect()
}

/// One key scaled by `factor`, clamped to its range; a whole-number key rounded.
fn scale(k: &NumKey, factor: f64) -> Value {
    let one = |x: f64| {
        let y = tidy(x * factor).clamp(k.lo, k.hi);
        if k.unit_list {
            y.clamp(0.0, 1.0)
        } else {
            y
        }
    };
    match &k.base {
        Value::Integer(i) => Value::Integer(one(*i as f64).round() as i64),
        Value::Float(f) => Value::Float(one(*f)),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| match v {
                    Value::Integer(i) => Value::Float(one(*i as f64)),
                    Value::Float(f) => Value::Float(one(*f)),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The sum of a scalar or of a list's elements.
fn total(v: &Value) -> f64 {
    num(v).or_else(|| nums(v).map(|x| x.iter().sum())).unwrap_or(0.0)
}

fn pct(x: f64) -> String {
    format!("{:+.1}%", 100.0 * x)
}

/// Builds the low and high change of a parameter from the keys it matches.
fn build_param(name: &str, keys: &[&NumKey], step: f64) -> Param {
    let mut changes = Vec::new();
    let (mut rel, mut down, mut up, mut zero) = (0.0, 0.0, 0.0, 0usize);
    for k in keys {
        let x0 = total(&k.base);
        if x0 == 0.0 {
            zero += 1;
            continue;
        }
        let (low, high) = (scale(k, 1.0 - step), scale(k, 1.0 + step));
        let (xl, xh) = (total(&low), total(&high));
        rel += (xh - xl) / x0;
        down += (xl - x0) / x0;
        up += (xh - x0) / x0;
        changes.push(KeyChange { key: k.key.clone(), base: k.base.clone(), low, high });
    }
    let n = changes.len();
    let mut p = Param { name: name.to_owned(), keys: changes, change: 0.0, note: String::new(), study: None };
    if n == 0 {
        p.note = "zero in the baseline: scaling cannot move it".into();
        return p;
    }
    p.change = rel / n as f64;
    let (down, up) = (down / n as f64, up / n as f64);
    if p.change.abs() < 1e-12 {
        p.note = "at a bound of its range (or rounds to the same whole number): cannot move".into();
        return p;
    }
    let mut notes = Vec::new();
    if (down + step).abs() > 1e-9 || (up - step).abs() > 1e-9 {
        notes.push(format!("change {} / {} (clamped to the valid range or rounded)", pct(down), pct(up)));
    }
    if zero > 0 {
        notes.push(format!("{zero} of {} keys are zero and stay so", n + zero));
    }
    p.note = notes.join("; ");
    p
}

/// Reads the scenario and builds the baseline and the two variants of every parameter; bad
/// input (a bad file, a sweep, an unknown or non-numeric `--params` key) is an error.
pub fn plan(path: &Path, opts: &Options) -> Result<Plan, SensitivityError> {
    if !(opts.step > 0.0 && opts.step < 1.0) {
        return Err(SensitivityError::Usage(format!(
            "--step must be a share between 0 and 1 (0.1 = ±10%), got {}",
            opts.step
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into());
    // The file as it is, validated like `cpsim run` would.
    let original = sweep::load_text(text.clone(), &stem, path, opts.overrides)?;
    if original.is_sweep() {
        return Err(SensitivityError::Usage(format!(
            "{}: sensitivity takes a plain scenario, not a sweep: remove its [sweep] table",
            path.display()
        )));
    }
    let syntax = |e: toml::de::Error| ScenarioError::Syntax { path: path.to_owned(), message: e.to_string() };
    let mut doc: Table = text.parse().map_err(syntax)?;
    // The wildcards (`categories.*.fee_*`) expand over the tables of the file, so every category
    // of the market gets one (an empty table keeps its defaults and drops nothing).
    let cats = doc.entry("categories").or_insert_with(|| Value::Table(Table::new()));
    if let Value::Table(t) = cats {
        for c in &original.variants[0].scenario.categories {
            t.entry(c.id.clone()).or_insert_with(|| Value::Table(Table::new()));
        }
    }
    pin_derived_defaults(&mut doc, &stem);
    let doc_text = toml::to_string(&doc).unwrap_or_default();
    let keys = numeric_keys(&doc, &doc_text, &stem).map_err(|e| e.at(path))?;

    let (patterns, given): (Vec<String>, bool) = match &opts.params {
        Some(list) => (list.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(), true),
        None => (DEFAULT_PARAMS.iter().map(|s| s.to_string()).collect(), false),
    };
    if given && patterns.is_empty() {
        return Err(SensitivityError::Usage("--params lists no parameter".into()));
    }
    let mut params: Vec<Param> = Vec::new();
    for pat in &patterns {
        if params.iter().any(|p| &p.name == pat) {
            continue;
        }
        let matched: Vec<&NumKey> = keys.iter().filter(|k| matches(pat, &k.key)).collect();
        if matched.is_empty() {
            if given {
                return Err(SensitivityError::Usage(unknown_param(pat, &keys, &doc_text, &stem, path)));
            }
            continue;
        }
        params.push(build_param(pat, &matched, opts.step));
    }

    let base = sweep::load_text(doc_text, &stem, path, opts.overrides)?;
    let mut studies = vec![base];
    for p in &mut params {
        if p.keys.is_empty() || p.change.abs() < 1e-12 {
            continue;
        }
        let mut t = doc.clone();
        let mut sw = Table::new();
        sw.insert("mode".into(), Value::String("zip".into()));
        for k in &p.keys {
            sw.insert(k.key.clone(), Value::Array(vec![k.low.clone(), k.high.clone()]));
        }
        t.insert("sweep".into(), Value::Table(sw));
        match sweep::load_text(toml::to_string(&t).unwrap_or_default(), &stem, path, opts.overrides) {
            Ok(st) => {
                p.study = Some(studies.len());
                studies.push(st);
            }
            Err(e) => {
                let why = e.to_string().lines().skip(1).map(str::trim).collect::<Vec<_>>().join("; ");
                p.note = format!("skipped: a scaled value is invalid: {why}");
            }
        }
    }
    Ok(Plan { stem, file: path.to_owned(), step: opts.step, studies, params })
}

/// Writes into the file the keys whose default follows another key, with the value they have,
/// so that a variant changes one thing: a category's `price_weights` (equal weights once
/// `prices_rmb` is given) and `creators.warmup_days` (30 days plus the settlement delay).
fn pin_derived_defaults(doc: &mut Table, stem: &str) {
    let Ok(raw) = scenario::parse_raw(&toml::to_string(doc).unwrap_or_default()) else { return };
    let mut rec = Recorder::on();
    let _ = validate(&raw, stem, &mut rec);
    for row in &rec.rows {
        let derived = if let Some(cat) = row.key.strip_suffix(".price_weights") {
            get_path(doc, &format!("{cat}.prices_rmb")).is_none()
        } else {
            row.key == "creators.warmup_days"
        };
        if !derived || get_path(doc, &row.key).is_some() {
            continue;
        }
        let value = match format!("v = {}", row.default).parse::<Table>() {
            Ok(mut t) => t.remove("v"),
            Err(_) => None,
        };
        if let Some(v) = value {
            let _ = sweep::set_path(doc, &row.key, v);
        }
    }
}

/// The message for a `--params` entry that names no numeric key of the scenario.
fn unknown_param(pat: &str, keys: &[NumKey], text: &str, stem: &str, path: &Path) -> String {
    if let Some(k) = NOT_PARAMETERS.iter().find(|k| matches(pat, k)) {
        return format!("--params: `{k}` is not a model parameter (set it with --seed or --reps)");
    }
    let all = all_keys(text, stem);
    if let Some((k, unit)) = all.iter().find(|(k, _)| matches(pat, k)) {
        return format!(
            "--params: `{k}` is not a number ({unit}); sensitivity scales numeric keys (see `cpsim schema`)"
        );
    }
    let options = keys.iter().map(|k| k.key.as_str()).chain(DEFAULT_PARAMS.iter().copied());
    let hint = schema::closest(pat, options).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default();
    format!(
        "--params: `{pat}` is not a numeric key of {} (see `cpsim schema`; `*` matches any part of a key){hint}",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_one_part() {
        assert!(matches("categories.*.p_pay", "categories.novel.p_pay"));
        assert!(matches("categories.*.commission_*", "categories.novel.commission_max"));
        assert!(!matches("categories.*.p_pay", "categories.novel.p_pay_x"));
        assert!(!matches("*.p_pay", "categories.novel.p_pay"));
        assert!(matches("subsidies[*].budget_rmb", "subsidies[0].budget_rmb"));
        assert!(matches("platform.feed_supply", "platform.feed_supply"));
    }

    #[test]
    fn variants_change_one_thing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.toml");
        std::fs::write(&file, "[scenario]\ndays = 5\n[platform]\nsettlement_delay_days = 7\n").unwrap();
        let params = ["categories.novel.prices_rmb", "platform.settlement_delay_days"];
        let opts =
            Options { step: 0.1, params: Some(params.map(String::from).to_vec()), overrides: Overrides::default() };
        let plan = plan(&file, &opts).unwrap();
        let base = &plan.studies[0].variants[0].scenario;
        assert_eq!(base.categories.len(), 6, "the default categories stay");
        let novel = base.category_index("novel").unwrap();
        let prices = &plan.studies[plan.params[0].study.unwrap()];
        for v in &prices.variants {
            let s = &v.scenario;
            assert_eq!(s.categories.len(), 6);
            assert_eq!(s.categories[novel].price_weights, base.categories[novel].price_weights);
            assert_ne!(s.categories[novel].prices_fen, base.categories[novel].prices_fen);
        }
        let delay = &plan.studies[plan.params[1].study.unwrap()];
        for v in &delay.variants {
            assert_eq!(v.scenario.creators.warmup_days, base.creators.warmup_days);
        }
    }

    #[test]
    fn scaling_clamps_and_rounds() {
        let k = NumKey { key: "x".into(), base: Value::Float(0.95), lo: 0.0, hi: 1.0, unit_list: false };
        assert_eq!(scale(&k, 1.1), Value::Float(1.0));
        assert_eq!(scale(&k, 0.9), Value::Float(0.855));
        let p = build_param("x", &[&k], 0.1);
        assert!((p.change - (1.0 - 0.855) / 0.95).abs() < 1e-12);
        assert!(p.note.contains("clamped"), "{}", p.note);
        let z = NumKey { base: Value::Float(0.0), ..k.clone() };
        assert!(build_param("z", &[&z], 0.1).note.contains("zero"));
        let i = NumKey { key: "d".into(), base: Value::Integer(7), lo: 1.0, hi: 365.0, unit_list: false };
        assert_eq!(scale(&i, 0.9), Value::Integer(6));
        assert_eq!(scale(&i, 1.1), Value::Integer(8));
    }
}
