//! Sweeps: a `[sweep]` table turns one scenario file into variants (a grid, paired lists, or a
//! Latin hypercube over ranges), each a complete scenario validated like any other.
//!
//! ```toml
//! [sweep]
//! mode = "grid"                      # or "zip" (paired lists), "lhs" (Latin hypercube)
//! samples = 20                       # lhs only
//! "categories.short_drama.commission_max" = [0.5, 0.7, 0.9]
//! "operators.budget_median_rmb" = { from = 10_000, to = 100_000, steps = 4 }
//! ```
//! Every variant runs with the same master seed, so variants see common random numbers and
//! their differences are not drowned in noise.

use crate::base::rng::{self, Kind};
use crate::report::output::file_hash;
use crate::scenario::{self, raw::RawScenario, validate, Problem, Recorder, Scenario, ScenarioError};
use rand::Rng;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// At most this many variants in one sweep (a guard against a typo that asks for millions).
pub const MAX_VARIANTS: usize = 100_000;

/// One scenario of a study: the file itself, or one point of its sweep.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Folder name: empty for a file without a sweep, else `v000`, `v001`...
    pub name: String,
    /// (key path, value) of the swept parameters.
    pub params: Vec<(String, Value)>,
    pub scenario: Scenario,
    /// Hash of the variant's effective content (with command-line overrides), for resuming.
    pub hash: String,
}

/// A scenario file with its variants.
#[derive(Clone, Debug)]
pub struct Study {
    pub stem: String,
    pub file: PathBuf,
    pub text: String,
    pub param_names: Vec<String>,
    pub variants: Vec<Variant>,
}

impl Study {
    pub fn is_sweep(&self) -> bool {
        !self.param_names.is_empty()
    }
}

/// Command-line overrides applied to every variant.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub replications: Option<u32>,
    pub seed: Option<u64>,
}

fn invalid(path: &Path, key: &str, message: String, text: &str) -> ScenarioError {
    ScenarioError::Invalid {
        path: path.to_owned(),
        problems: vec![Problem { key: key.to_owned(), message, line: scenario::schema::locate(text, key) }],
    }
}

/// Reads a scenario file and expands its sweep, validating every variant before anything runs.
pub fn load(path: &Path, ov: Overrides) -> Result<Study, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into());
    load_text(text, &stem, path, ov)
}

/// [`load`] for text already read; `path` names the file in messages and manifests.
pub fn load_text(text: String, stem: &str, path: &Path, ov: Overrides) -> Result<Study, ScenarioError> {
    let stem = stem.to_owned();
    let base = scenario::parse(&text, &stem).map_err(|e| e.at(path))?;
    let raw = scenario::parse_raw(&text).map_err(|e| e.at(path))?;
    let apply = |mut s: Scenario| {
        if let Some(r) = ov.replications {
            s.replications = r;
        }
        if let Some(seed) = ov.seed {
            s.seed = seed;
        }
        s
    };
    let overrides = format!("reps={:?};seed={:?};", ov.replications, ov.seed);
    let Some(sweep) = raw.sweep else {
        let hash = file_hash(format!("{overrides}{text}").as_bytes());
        let variants = vec![Variant { name: String::new(), params: vec![], scenario: apply(base), hash }];
        return Ok(Study { stem, file: path.to_owned(), text, param_names: vec![], variants });
    };
    let points = expand(&sweep, path, &text, base.seed)?;
    let mut doc: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ScenarioError::Syntax { path: path.to_owned(), message: e.to_string() })?;
    doc.remove("sweep");
    let param_names: Vec<String> =
        points.first().map(|p| p.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    let width = points.len().saturating_sub(1).to_string().len().max(3);
    let mut variants = Vec::with_capacity(points.len());
    for (i, point) in points.into_iter().enumerate() {
        let name = format!("v{i:0width$}");
        let mut t = doc.clone();
        for (key, value) in &point {
            set_path(&mut t, key, value.clone()).map_err(|m| invalid(path, &format!("sweep.{key}"), m, &text))?;
        }
        let where_ = || point.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ");
        // Through TOML text: the toml crate reads dates from text, not from a `Table`.
        let variant_text = toml::to_string(&t).unwrap_or_default();
        let raw: RawScenario = toml::from_str(&variant_text).map_err(|e| ScenarioError::Syntax {
            path: path.to_owned(),
            message: format!("sweep variant {name} ({}): {}", where_(), scenario::schema::did_you_mean(e.message())),
        })?;
        let s = validate(&raw, &stem, &mut Recorder::off()).map_err(|problems| ScenarioError::Invalid {
            path: path.to_owned(),
            problems: problems
                .into_iter()
                .map(|p| Problem { message: format!("{} (sweep variant {name}: {})", p.message, where_()), ..p })
                .collect(),
        })?;
        let hash = file_hash(format!("{overrides}{variant_text}").as_bytes());
        variants.push(Variant { name, params: point, scenario: apply(s), hash });
    }
    Ok(Study { stem, file: path.to_owned(), text, param_names, variants })
}

/// Sets `a.b.c = value` in a TOML table, creating tables on the way. A part `name[i]` is the
/// i-th element of a list the file already has (`subsidies[0].budget_rmb`).
pub fn set_path(t: &mut Table, key: &str, value: Value) -> Result<(), String> {
    if let Some(indexed) = own_plan_path(t, key)? {
        return set_path(t, &indexed, value);
    }
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().filter(|p| !p.is_empty()).ok_or_else(|| format!("`{key}` is not a key path"))?;
    let mut cur = t;
    for p in parts {
        let entry = match split_index(p) {
            (name, Some(i)) => element(cur, name, i, key)?,
            (name, None) => cur.entry(name.to_owned()).or_insert_with(|| Value::Table(Table::new())),
        };
        cur = match entry {
            Value::Table(inner) => inner,
            _ => return Err(format!("`{p}` in `{key}` is a value, not a table")),
        };
    }
    match split_index(last) {
        (name, Some(i)) => *element(cur, name, i, key)? = value,
        (name, None) => {
            cur.insert(name.to_owned(), value);
        }
    }
    Ok(())
}

/// `plans.<name>.<key>` as `plans[<index>].<key>`, the index of the `[[plans]]` table called
/// `<name>`; `None` for any other path.
fn own_plan_path(t: &Table, key: &str) -> Result<Option<String>, String> {
    let Some((name, rest)) = key.strip_prefix("plans.").and_then(|k| k.split_once('.')) else {
        return Ok(None);
    };
    let list = match t.get("plans") {
        Some(Value::Array(a)) => a,
        _ => return Err(format!("`{key}` names an own plan, but the file has no `[[plans]]`")),
    };
    let names: Vec<&str> = list.iter().filter_map(|p| p.get("name").and_then(|n| n.as_str())).collect();
    match list.iter().position(|p| p.get("name").and_then(|n| n.as_str()) == Some(name)) {
        Some(i) => Ok(Some(format!("plans[{i}].{rest}"))),
        None => {
            let hint = crate::scenario::schema::closest(name, names.iter().copied())
                .map(|c| format!("; did you mean \"{c}\"?"))
                .unwrap_or_default();
            Err(format!(
                "`{key}`: no own plan is called \"{name}\" (the file's `[[plans]]` are {}){hint}",
                names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
            ))
        }
    }
}

/// `name[3]` as (`name`, Some(3)); any other part as (part, None).
pub fn split_index(part: &str) -> (&str, Option<usize>) {
    match part.strip_suffix(']').and_then(|p| p.split_once('[')) {
        Some((name, i)) => match i.parse() {
            Ok(i) => (name, Some(i)),
            Err(_) => (part, None),
        },
        None => (part, None),
    }
}

fn element<'t>(t: &'t mut Table, name: &str, i: usize, key: &str) -> Result<&'t mut Value, String> {
    match t.get_mut(name) {
        Some(Value::Array(a)) => {
            let n = a.len();
            a.get_mut(i).ok_or_else(|| format!("`{name}` in `{key}` has {n} elements, so no element {i}"))
        }
        _ => Err(format!("`{name}` in `{key}` is not a list in the file")),
    }
}

/// The sweep's points: each a list of (key path, value), in a fixed order.
fn expand(sweep: &Table, path: &Path, text: &str, seed: u64) -> Result<Vec<Vec<(String, Value)>>, ScenarioError> {
    let bad = |key: &str, m: String| invalid(path, &format!("sweep.{key}"), m, text);
    let mode = match sweep.get("mode") {
        None => "grid",
        Some(Value::String(m)) if ["grid", "zip", "lhs"].contains(&m.as_str()) => m.as_str(),
        Some(v) => return Err(bad("mode", format!("must be \"grid\", \"zip\" or \"lhs\", got {v}"))),
    };
    let samples = match sweep.get("samples") {
        None if mode == "lhs" => return Err(bad("samples", "an lhs design needs `samples = N`".into())),
        None => 0,
        Some(Value::Integer(n)) if *n >= 1 && (*n as usize) <= MAX_VARIANTS => *n as usize,
        Some(v) => return Err(bad("samples", format!("must be a whole number from 1 to {MAX_VARIANTS}, got {v}"))),
    };
    let mut params: Vec<(String, Vec<Value>)> = Vec::new();
    let mut ranges: Vec<(String, f64, f64)> = Vec::new();
    for (key, v) in sweep.iter().filter(|(k, _)| *k != "mode" && *k != "samples") {
        match (mode, v) {
            ("lhs", Value::Table(r)) => {
                let (from, to) = (num(r.get("from")), num(r.get("to")));
                match (from, to) {
                    (Some(a), Some(b)) if a.is_finite() && b.is_finite() => ranges.push((key.clone(), a, b)),
                    _ => return Err(bad(key, "an lhs range needs numbers `from` and `to`".into())),
                }
            }
            ("lhs", _) => return Err(bad(key, "with mode = \"lhs\" each parameter is a range { from, to }".into())),
            (_, Value::Array(list)) if !list.is_empty() => params.push((key.clone(), list.clone())),
            (_, Value::Table(r)) => {
                let (from, to, steps) =
                    (num(r.get("from")), num(r.get("to")), r.get("steps").and_then(|s| s.as_integer()));
                match (from, to, steps) {
                    (Some(a), Some(b), Some(n))
                        if n >= 1 && n as usize <= MAX_VARIANTS && a.is_finite() && b.is_finite() =>
                    {
                        let vals = (0..n)
                            .map(|i| if n == 1 { a } else { a + (b - a) * i as f64 / (n - 1) as f64 })
                            .map(Value::Float);
                        params.push((key.clone(), vals.collect()));
                    }
                    _ => return Err(bad(key, "a range needs numbers `from`, `to` and a whole `steps` >= 1".into())),
                }
            }
            _ => return Err(bad(key, format!("must be a non-empty list of values or {{ from, to, steps }}, got {v}"))),
        }
    }
    if params.is_empty() && ranges.is_empty() {
        return Err(bad("mode", "a [sweep] table needs at least one parameter".into()));
    }
    match mode {
        "zip" => {
            let n = params[0].1.len();
            if let Some((k, l)) = params.iter().find(|(_, l)| l.len() != n) {
                return Err(bad(
                    k,
                    format!("zip mode needs lists of equal length: {} has {}, {k} has {}", params[0].0, n, l.len()),
                ));
            }
            Ok((0..n).map(|i| params.iter().map(|(k, l)| (k.clone(), l[i].clone())).collect()).collect())
        }
        "lhs" => Ok(latin_hypercube(&ranges, samples, seed)),
        _ => {
            let total =
                params.iter().try_fold(1usize, |acc, (_, l)| acc.checked_mul(l.len()).filter(|n| *n <= MAX_VARIANTS));
            let Some(total) = total else {
                return Err(bad(
                    &params[0].0,
                    format!("the grid has more than {MAX_VARIANTS} variants: use fewer values or mode = \"lhs\""),
                ));
            };
            // The last parameter varies fastest, like nested loops written in file order.
            Ok((0..total)
                .map(|mut i| {
                    let mut point = vec![(String::new(), Value::Boolean(false)); params.len()];
                    for (j, (k, l)) in params.iter().enumerate().rev() {
                        point[j] = (k.clone(), l[i % l.len()].clone());
                        i /= l.len();
                    }
                    point
                })
                .collect())
        }
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// A Latin hypercube: each parameter's range cut into `n` strata, each stratum used once, the
/// strata of different parameters paired by random permutations from the scenario's seed.
fn latin_hypercube(ranges: &[(String, f64, f64)], n: usize, seed: u64) -> Vec<Vec<(String, Value)>> {
    let mut r = rng::stream(seed, Kind::Population, u64::MAX, u32::MAX);
    let columns: Vec<Vec<f64>> = ranges
        .iter()
        .map(|(_, a, b)| {
            let mut strata: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                strata.swap(i, r.random_range(0..=i));
            }
            strata.into_iter().map(|k| a + (b - a) * (k as f64 + r.random::<f64>()) / n as f64).collect()
        })
        .collect();
    (0..n)
        .map(|i| ranges.iter().zip(&columns).map(|((k, _, _), c)| (k.clone(), Value::Float(c[i]))).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(text: &str) -> Table {
        text.parse::<Table>().unwrap()
    }

    #[test]
    fn grid_is_the_cartesian_product_in_file_order() {
        let t = sweep("a = [1, 2]\nb = { from = 0.0, to = 1.0, steps = 3 }\n");
        let p = expand(&t, Path::new("x"), "", 1).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(p[1][0].1, Value::Integer(1));
        assert_eq!(p[1][1].1, Value::Float(0.5));
        assert_eq!(p[3][0].1, Value::Integer(2));
    }

    #[test]
    fn zip_pairs_lists_and_refuses_unequal_ones() {
        let p = expand(&sweep("mode = \"zip\"\na = [1, 2]\nb = [3, 4]\n"), Path::new("x"), "", 1).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1][1].1, Value::Integer(4));
        assert!(expand(&sweep("mode = \"zip\"\na = [1, 2]\nb = [3]\n"), Path::new("x"), "", 1).is_err());
    }

    #[test]
    fn lhs_uses_each_stratum_once() {
        let t = sweep("mode = \"lhs\"\nsamples = 10\na = { from = 0, to = 10 }\nb = { from = -1, to = 1 }\n");
        let p = expand(&t, Path::new("x"), "", 7).unwrap();
        assert_eq!(p.len(), 10);
        let mut strata: Vec<usize> = p.iter().map(|pt| pt[0].1.as_float().unwrap().floor() as usize).collect();
        strata.sort();
        assert_eq!(strata, (0..10).collect::<Vec<_>>());
        assert_eq!(p, expand(&t, Path::new("x"), "", 7).unwrap(), "deterministic");
    }

    #[test]
    fn sets_elements_of_lists() {
        let mut t: Table = "[[subsidies]]\nbudget_rmb = 1.0\n[a]\nxs = [1, 2]\n".parse().unwrap();
        set_path(&mut t, "subsidies[0].budget_rmb", Value::Float(2.0)).unwrap();
        set_path(&mut t, "a.xs[1]", Value::Integer(5)).unwrap();
        assert_eq!(t["subsidies"][0]["budget_rmb"], Value::Float(2.0));
        assert_eq!(t["a"]["xs"][1], Value::Integer(5));
        assert!(set_path(&mut t, "subsidies[3].budget_rmb", Value::Float(2.0)).is_err());
        assert!(set_path(&mut t, "b[0].x", Value::Float(2.0)).is_err());
    }

    #[test]
    fn sets_own_plans_by_name() {
        let mut t: Table =
            "[[plans]]\nname = \"a\"\ncommission = 0.1\n[[plans]]\nname = \"我的短剧\"\ncommission = 0.6\n"
                .parse()
                .unwrap();
        set_path(&mut t, "plans.我的短剧.commission", Value::Float(0.7)).unwrap();
        set_path(&mut t, "plans[0].commission", Value::Float(0.2)).unwrap();
        assert_eq!(t["plans"][1]["commission"], Value::Float(0.7));
        assert_eq!(t["plans"][0]["commission"], Value::Float(0.2));
        let e = set_path(&mut t, "plans.我的短居.commission", Value::Float(0.7)).unwrap_err();
        assert!(e.contains("no own plan is called \"我的短居\"") && e.contains("did you mean \"我的短剧\""), "{e}");
    }

    #[test]
    fn refuses_huge_grids() {
        let t = sweep("a = { from = 0, to = 1, steps = 1000 }\nb = { from = 0, to = 1, steps = 1000 }\n");
        let e = expand(&t, Path::new("x"), "", 1).unwrap_err().to_string();
        assert!(e.contains("more than 100000 variants"), "{e}");
    }
}
