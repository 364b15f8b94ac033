//! Optimisation: the `[optimize]` table of a scenario file (decision variables, an objective,
//! constraints, a budget of runs), validated into a [`Spec`], and the candidates it names built
//! into scenarios exactly as sweep variants are (key paths set on the file, then validated).
//!
//! ```toml
//! [optimize]
//! objective = "operator_net"        # a metric by name (crate::model::metrics::metric_value)
//! goal = "maximize"                 # or "minimize"
//! runs = 600                        # budget: simulation runs (candidate x replication)
//! confidence = 0.95                 # of each elimination in the race
//! [optimize.variables]
//! "categories.short_drama.commission_max" = { from = 0.1, to = 0.9, resolution = 0.025, also = ["categories.short_drama.commission_min"] }
//! [optimize.constraints]
//! clips = { min = 1000 }
//! ```
//! The search itself is in [`search`], its resumable state in [`state`]; the method and its
//! stopping rule are documented there and in `docs/OPTIMIZE.md`.

use crate::model::metrics::METRICS;
use crate::report::output::file_hash;
use crate::scenario::{self, raw::RawScenario, schema, validate, Problem, Recorder, Scenario, ScenarioError};
use crate::study::sweep::{self, Overrides, Study, Variant};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

pub mod cmaes;
mod evolve;
pub mod search;
pub mod state;
mod stats;
pub mod summary;

/// Every key of `[optimize]`: (key, unit, default, range, meaning). The validator refuses any
/// other key (with "did you mean") and `cpsim schema` prints this table, so the two agree.
pub const KEYS: &[(&str, &str, &str, &str, &str)] = &[
    ("objective", "metric", "(required)", "a headline metric, or an own plan's `plans.<name>.<metric>`", "What the search maximises or minimises: its mean over replications."),
    ("goal", "", "\"maximize\"", "\"maximize\", \"minimize\"", "Direction of the objective."),
    ("method", "", "\"race\" (one or two variables), \"cmaes\" (three or more)", "\"race\", \"cmaes\", \"grid\"", "`race`: coarse-to-fine grids, each raced on paired intervals (one or two variables). `cmaes`: CMA-ES on paired estimates, its best candidates then raced (any number of variables). `grid`: every point at `resolution` with `max_replications` each (the reference the others are checked against). docs/OPTIMIZE.md."),
    ("runs", "runs", "500", "1 to 1000000", "Budget: simulation runs (candidate x replication) at most. The search stops when the next round would exceed it and reports the best so far."),
    ("confidence", "share", "0.95", "0.5 to 0.999", "Confidence of each elimination: a candidate is dropped when the one-sided bound (Bonferroni over the candidates alive) of the incumbent's paired advantage over it is above zero."),
    ("first_replications", "replications", "5", "3 to 1000", "Replications every candidate of a grid gets before the first elimination; the race doubles them while candidates remain."),
    ("max_replications", "replications", "40", "first_replications to 10000", "Replications at most per candidate; candidates still tied then are reported as tied."),
    ("points", "count", "5", "3 to 21", "Grid points per continuous variable at each level of the coarse-to-fine search."),
    ("variables.<key path>", "", "(at least one required)", "{ from, to, resolution, also } or a list of values", "A decision: a scenario key path set as sweeps set it. A range is searched coarse to fine down to `resolution` (default (to - from) / 64; a whole-number `from`, `to` and `resolution` give whole numbers); `also` lists keys set to the same value. A list is tried value by value."),
    ("constraints.<metric>", "", "(none)", "{ min, max }", "A metric whose mean must lie within [min, max]. A candidate whose confidence interval lies wholly outside is dropped; the best is chosen among candidates whose mean satisfies every constraint."),
];

const TOP_KEYS: [&str; 9] = [
    "objective",
    "goal",
    "method",
    "runs",
    "confidence",
    "first_replications",
    "max_replications",
    "points",
    "variables",
];

/// How the search proceeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Race,
    Grid,
    /// CMA-ES on paired estimates (`cmaes`), its best candidates raced at the end.
    Cmaes,
}

/// One decision variable.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// A range searched coarse to fine, on the lattice `from + k * resolution`.
    Range { from: f64, to: f64, resolution: f64, integer: bool },
    /// Values tried one by one.
    List(Vec<Value>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    /// The key path it sets, then the keys set to the same value.
    pub keys: Vec<String>,
    pub domain: Domain,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub metric: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The validated `[optimize]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub objective: String,
    /// +1 to maximise, -1 to minimise: the search maximises `sign * objective`.
    pub sign: f64,
    pub method: Method,
    pub runs: u64,
    pub confidence: f64,
    pub first_replications: u32,
    pub max_replications: u32,
    pub points: usize,
    pub variables: Vec<Variable>,
    pub constraints: Vec<Constraint>,
}

impl Spec {
    /// The metrics each replication is reduced to: the objective, then each constraint's.
    pub fn metrics(&self) -> Vec<String> {
        std::iter::once(self.objective.clone()).chain(self.constraints.iter().map(|c| c.metric.clone())).collect()
    }
}

/// A scenario file with an `[optimize]` table, ready to build candidates.
#[derive(Clone, Debug)]
pub struct Optimization {
    pub stem: String,
    pub file: PathBuf,
    pub text: String,
    pub spec: Spec,
    /// The file without `[optimize]`, as a TOML document: candidates are set on it.
    doc: Table,
    seed: Option<u64>,
}

fn bad(path: &Path, text: &str, key: &str, message: String) -> ScenarioError {
    let key = format!("optimize.{key}");
    // A variable's key path is quoted in the key shown, plain for finding its line.
    ScenarioError::Invalid {
        path: path.to_owned(),
        problems: vec![Problem { line: schema::locate(text, &key.replace('"', "")), key, message }],
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// A metric name the search can read: a headline metric, or an own plan's (`plans.` names are
/// checked against the results, since only a run knows which plan metrics exist).
fn check_metric(name: &str) -> Result<(), String> {
    if METRICS.iter().any(|(m, _)| *m == name) || name.starts_with("plans.") {
        return Ok(());
    }
    let hint = schema::closest(name, METRICS.iter().map(|(m, _)| *m))
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default();
    Err(format!("`{name}` is not a metric (a headline metric of summary.csv, or plans.<name>.<metric>){hint}"))
}

impl Optimization {
    /// Reads a scenario file with an `[optimize]` table; every problem of the table, and every
    /// corner of the decision space that would not validate, is an error before anything runs.
    pub fn load(path: &Path, seed: Option<u64>) -> Result<Self, ScenarioError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into());
        // The market itself must be valid, as `cpsim run` would have it.
        let base = sweep::load_text(text.clone(), &stem, path, Overrides { replications: None, seed })?;
        let raw = scenario::parse_raw(&text).map_err(|e| e.at(path))?;
        if base.is_sweep() {
            return Err(bad(
                path,
                &text,
                "variables",
                "a file with [optimize] cannot also have a [sweep] table".into(),
            ));
        }
        let Some(table) = raw.optimize else {
            return Err(ScenarioError::Invalid {
                path: path.to_owned(),
                problems: vec![Problem {
                    key: "optimize".into(),
                    message: "the file has no [optimize] table (see `cpsim schema`, section optimize)".into(),
                    line: None,
                }],
            });
        };
        let spec = parse_spec(&table).map_err(|(key, m)| bad(path, &text, &key, m))?;
        let syntax = |e: toml::de::Error| ScenarioError::Syntax { path: path.to_owned(), message: e.to_string() };
        let mut doc: Table = text.parse().map_err(syntax)?;
        doc.remove("optimize");
        // A file without [categories] has the six defaults; setting one category's key would
        // otherwise leave only that category, so the defaults are listed (as sensitivity does).
        let touches_categories = spec.variables.iter().flat_map(|v| &v.keys).any(|k| k.starts_with("categories."));
        if touches_categories && !doc.contains_key("categories") {
            let ids = base.variants[0].scenario.categories.iter().map(|c| (c.id.clone(), Value::Table(Table::new())));
            doc.insert("categories".into(), Value::Table(ids.collect()));
        }
        let p = Optimization { stem, file: path.to_owned(), text, spec, doc, seed };
        // The corners (and every listed value) validate, so no candidate fails halfway.
        for corner in p.corners() {
            p.scenario(&corner)?;
        }
        if p.first_round_runs() > p.spec.runs {
            let m = format!(
                "{} runs do not cover the first round ({} runs: every candidate of the first grid with its first \
                 replications)",
                p.spec.runs,
                p.first_round_runs()
            );
            return Err(bad(path, &p.text, "runs", m));
        }
        Ok(p)
    }

    /// Every combination of each variable's extremes (a range's ends, all of a list).
    pub fn corners(&self) -> Vec<Vec<Value>> {
        let mut out: Vec<Vec<Value>> = vec![vec![]];
        for v in &self.spec.variables {
            let values = match &v.domain {
                Domain::Range { from, to, integer, .. } => vec![value(*from, *integer), value(*to, *integer)],
                Domain::List(l) => l.clone(),
            };
            out = out.iter().flat_map(|p| values.iter().map(move |x| [p.clone(), vec![x.clone()]].concat())).collect();
        }
        out
    }

    /// The file with the decision `point` (one value per variable) set: the text a candidate runs.
    pub fn candidate_text(&self, point: &[Value]) -> Result<String, String> {
        let mut t = self.doc.clone();
        for (var, x) in self.spec.variables.iter().zip(point) {
            for key in &var.keys {
                sweep::set_path(&mut t, key, x.clone())?;
            }
        }
        Ok(toml::to_string(&t).unwrap_or_default())
    }

    /// The candidate `point` as a validated scenario (with the `--seed` override).
    pub fn scenario(&self, point: &[Value]) -> Result<Scenario, ScenarioError> {
        let where_ = || {
            self.spec
                .variables
                .iter()
                .zip(point)
                .map(|(v, x)| format!("{} = {x}", v.keys[0]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let text = self.candidate_text(point).map_err(|m| {
            bad(&self.file, &self.text, &format!("variables.\"{}\"", self.spec.variables[0].keys[0]), m)
        })?;
        // Through TOML text: the toml crate reads dates from text, not from a `Table`.
        let raw: RawScenario = toml::from_str(&text).map_err(|e| ScenarioError::Syntax {
            path: self.file.clone(),
            message: format!("optimize candidate ({}): {}", where_(), schema::did_you_mean(e.message())),
        })?;
        let mut s = validate(&raw, &self.stem, &mut Recorder::off()).map_err(|problems| ScenarioError::Invalid {
            path: self.file.clone(),
            problems: problems
                .into_iter()
                .map(|p| {
                    // A value the search set is found at its variable in [optimize].
                    let set = self.spec.variables.iter().any(|v| v.keys.contains(&p.key));
                    let line = if set {
                        schema::locate(&self.text, "optimize.variables")
                    } else {
                        schema::locate(&self.text, &p.key)
                    };
                    Problem { message: format!("{} (optimize candidate {})", p.message, where_()), line, ..p }
                })
                .collect(),
        })?;
        if let Some(seed) = self.seed {
            s.seed = seed;
        }
        Ok(s)
    }

    /// The candidates as one study for the runner: variant `i` is `points[i]`, with room for
    /// `max_replications` replications (the runner runs only the units it is given).
    pub fn study(&self, points: &[Vec<Value>]) -> Result<Study, ScenarioError> {
        let mut variants = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            let mut scenario = self.scenario(p)?;
            scenario.replications = self.spec.max_replications;
            variants.push(Variant {
                name: format!("c{i}"),
                params: self.spec.variables.iter().zip(p).map(|(v, x)| (v.keys[0].clone(), x.clone())).collect(),
                scenario,
                hash: String::new(),
            });
        }
        Ok(Study {
            stem: self.stem.clone(),
            file: self.file.clone(),
            text: self.text.clone(),
            param_names: self.spec.variables.iter().map(|v| v.keys[0].clone()).collect(),
            variants,
        })
    }

    /// What identifies this problem for resuming: the file and the seed override.
    pub fn hash(&self) -> String {
        file_hash(format!("seed={:?};{}", self.seed, self.text).as_bytes())
    }
}

/// A range value on its lattice as TOML: a whole number for whole-number ranges.
pub fn value(x: f64, integer: bool) -> Value {
    if integer {
        Value::Integer(x.round() as i64)
    } else {
        Value::Float(x)
    }
}

type Bad = (String, String);

fn parse_spec(t: &Table) -> Result<Spec, Bad> {
    let err = |k: &str, m: String| (k.to_owned(), m);
    for k in t.keys() {
        if !TOP_KEYS.contains(&k.as_str()) && k != "constraints" {
            let hint = schema::closest(k, TOP_KEYS.iter().copied().chain(["constraints"]))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(err(k, format!("unknown key `{k}` in [optimize]{hint}")));
        }
    }
    let objective = match t.get("objective") {
        Some(Value::String(s)) => s.clone(),
        None => {
            return Err(err(
                "objective",
                "[optimize] needs an `objective`, a metric name such as \"operator_net\"".into(),
            ))
        }
        Some(v) => return Err(err("objective", format!("must be a metric name in quotes, got {v}"))),
    };
    check_metric(&objective).map_err(|m| err("objective", m))?;
    let word = |k: &str, options: &[&str], default: &str| -> Result<String, Bad> {
        match t.get(k) {
            None => Ok(default.to_owned()),
            Some(Value::String(s)) if options.contains(&s.as_str()) => Ok(s.clone()),
            Some(v) => {
                let hint = v
                    .as_str()
                    .and_then(|s| schema::closest(s, options.iter().copied()))
                    .map(|c| format!("; did you mean \"{c}\"?"))
                    .unwrap_or_default();
                Err(err(
                    k,
                    format!(
                        "must be one of {}, got {v}{hint}",
                        options.iter().map(|o| format!("\"{o}\"")).collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        }
    };
    let sign = if word("goal", &["maximize", "minimize"], "maximize")? == "maximize" { 1.0 } else { -1.0 };
    let method_word = word("method", &["race", "cmaes", "grid"], "")?;
    let whole = |k: &str, default: i64, lo: i64, hi: i64| -> Result<i64, Bad> {
        match t.get(k) {
            None => Ok(default),
            Some(Value::Integer(n)) if (lo..=hi).contains(n) => Ok(*n),
            Some(v) => Err(err(k, format!("must be a whole number from {lo} to {hi}, got {v}"))),
        }
    };
    let runs = whole("runs", 500, 1, 1_000_000)? as u64;
    let confidence = match t.get("confidence") {
        None => 0.95,
        Some(v) => match num(v) {
            Some(c) if (0.5..=0.999).contains(&c) => c,
            _ => return Err(err("confidence", format!("must be a number from 0.5 to 0.999, got {v}"))),
        },
    };
    let first = whole("first_replications", 5, 3, 1000)?;
    let max = whole("max_replications", 40.max(first), first, 10_000)?;
    let points = whole("points", 5, 3, 21)? as usize;
    let variables = match t.get("variables") {
        Some(Value::Table(vs)) if !vs.is_empty() => {
            vs.iter().map(|(k, v)| parse_variable(k, v)).collect::<Result<Vec<_>, _>>()?
        }
        None => {
            return Err(err(
                "variables",
                "[optimize] needs `variables`: a table of key paths to ranges or lists".into(),
            ))
        }
        Some(v) => return Err(err("variables", format!("must be a table of key paths to ranges or lists, got {v}"))),
    };
    let method = match method_word.as_str() {
        "race" if variables.len() > 2 => {
            return Err(err(
                "method",
                format!(
                    "the race searches one or two variables, and there are {}: use \"cmaes\" (the default for \
                     three or more) or \"grid\"",
                    variables.len()
                ),
            ))
        }
        "race" => Method::Race,
        "grid" => Method::Grid,
        "cmaes" => Method::Cmaes,
        _ if variables.len() > 2 => Method::Cmaes,
        _ => Method::Race,
    };
    let mut seen: Vec<&str> = Vec::new();
    for k in variables.iter().flat_map(|v| &v.keys) {
        if seen.contains(&k.as_str()) {
            return Err(err(
                &format!("variables.\"{}\"", variables[0].keys[0]),
                format!("`{k}` is set by two variables"),
            ));
        }
        seen.push(k);
    }
    let constraints = match t.get("constraints") {
        None => vec![],
        Some(Value::Table(cs)) => cs.iter().map(|(k, v)| parse_constraint(k, v)).collect::<Result<Vec<_>, _>>()?,
        Some(v) => return Err(err("constraints", format!("must be a table of metrics to {{ min, max }}, got {v}"))),
    };
    Ok(Spec {
        objective,
        sign,
        method,
        runs,
        confidence,
        first_replications: first as u32,
        max_replications: max as u32,
        points,
        variables,
        constraints,
    })
}

fn parse_variable(key: &str, v: &Value) -> Result<Variable, Bad> {
    let at = format!("variables.\"{key}\"");
    let err = |m: String| (at.clone(), m);
    let mut keys = vec![key.to_owned()];
    let domain = match v {
        Value::Array(l) if !l.is_empty() => Domain::List(l.clone()),
        Value::Table(r) => {
            if let Some(k) = r.keys().find(|k| !["from", "to", "resolution", "also"].contains(&k.as_str())) {
                let hint = schema::closest(k, ["from", "to", "resolution", "also"].into_iter())
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                return Err((format!("{at}.{k}"), format!("unknown key `{k}` in a range{hint}")));
            }
            let (Some(from), Some(to)) = (r.get("from").and_then(num), r.get("to").and_then(num)) else {
                return Err(err("a range needs numbers `from` and `to`".into()));
            };
            if from >= to {
                return Err(err(format!("`from` ({from}) must be below `to` ({to})")));
            }
            let resolution = match r.get("resolution") {
                None => (to - from) / 64.0,
                Some(x) => match num(x) {
                    Some(h) if h > 0.0 && h <= to - from => h,
                    _ => {
                        return Err((
                            format!("{at}.resolution"),
                            format!("must be a number above 0 and at most to - from ({}), got {x}", to - from),
                        ))
                    }
                },
            };
            let is_int = |k: &str| matches!(r.get(k), Some(Value::Integer(_)));
            let integer = is_int("from") && is_int("to") && (r.get("resolution").is_none() || is_int("resolution"));
            let resolution = if integer { resolution.round().max(1.0) } else { resolution };
            match r.get("also") {
                None => {}
                Some(Value::Array(a)) if a.iter().all(|x| x.is_str()) => {
                    keys.extend(a.iter().filter_map(|x| x.as_str()).map(str::to_owned))
                }
                Some(x) => {
                    return Err((format!("{at}.also"), format!("must be a list of key paths in quotes, got {x}")))
                }
            }
            Domain::Range { from, to, resolution, integer }
        }
        _ => return Err(err(format!("must be a range {{ from, to }} or a non-empty list of values, got {v}"))),
    };
    Ok(Variable { keys, domain })
}

fn parse_constraint(metric: &str, v: &Value) -> Result<Constraint, Bad> {
    let at = format!("constraints.{metric}");
    check_metric(metric).map_err(|m| (at.clone(), m))?;
    let Value::Table(r) = v else {
        return Err((at, format!("must be {{ min = X }}, {{ max = Y }} or both, got {v}")));
    };
    if let Some(k) = r.keys().find(|k| *k != "min" && *k != "max") {
        return Err((format!("{at}.{k}"), format!("unknown key `{k}`: a constraint has `min` and `max`")));
    }
    let bound = |k: &str| -> Result<Option<f64>, Bad> {
        match r.get(k) {
            None => Ok(None),
            Some(x) => num(x).map(Some).ok_or_else(|| (format!("{at}.{k}"), format!("must be a number, got {x}"))),
        }
    };
    let (min, max) = (bound("min")?, bound("max")?);
    match (min, max) {
        (None, None) => Err((at, "a constraint needs `min`, `max` or both".into())),
        (Some(a), Some(b)) if a > b => Err((at, format!("`min` ({a}) is above `max` ({b})"))),
        _ => Ok(Constraint { metric: metric.to_owned(), min, max }),
    }
}

/// The `[optimize]` section of `cpsim schema` (docs/SCHEMA.md), from [`KEYS`].
pub fn schema_section() -> String {
    let mut out = String::from(
        "\n## `[optimize]`: the best decision (`cpsim optimize FILE`)\n\n\
         Read only by `cpsim optimize`; `cpsim run` runs the file's market as it is. Every candidate\n\
         runs on the same replication seeds (common random numbers). The method and its stopping\n\
         rule: docs/OPTIMIZE.md.\n\n\
         | key | unit | default | range | meaning |\n|---|---|---|---|---|\n",
    );
    for (k, unit, default, range, doc) in KEYS {
        out.push_str(&format!("| `optimize.{k}` | {unit} | {default} | {range} | {doc} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<Spec, Bad> {
        parse_spec(&text.parse::<Table>().unwrap())
    }

    #[test]
    fn reads_a_full_table() {
        let s = spec(
            "objective = \"gmv\"\ngoal = \"minimize\"\nruns = 90\n[variables]\n\"a.b\" = { from = 1, to = 9 }\n\
             \"c.d\" = [0.1, 0.2]\n[constraints]\nclips = { min = 3 }\n",
        )
        .unwrap();
        assert_eq!(s.sign, -1.0);
        assert_eq!(s.runs, 90);
        assert_eq!(s.variables[0].domain, Domain::Range { from: 1.0, to: 9.0, resolution: 1.0, integer: true });
        assert_eq!(s.constraints[0], Constraint { metric: "clips".into(), min: Some(3.0), max: None });
        assert_eq!(s.metrics(), vec!["gmv".to_string(), "clips".to_string()]);
    }

    #[test]
    fn names_the_bad_key() {
        let e = spec("objective = \"operator_nett\"\n[variables]\na = [1]\n").unwrap_err();
        assert_eq!(e.0, "objective");
        assert!(e.1.contains("did you mean `operator_net`"), "{}", e.1);
        let e = spec("objective = \"gmv\"\nrunz = 3\n[variables]\na = [1]\n").unwrap_err();
        assert!(e.1.contains("did you mean `runs`"), "{}", e.1);
        let e = spec("objective = \"gmv\"\n[variables]\na = { from = 2, to = 1 }\n").unwrap_err();
        assert_eq!(e.0, "variables.\"a\"");
        let three = "objective = \"gmv\"\n[variables]\na = [1]\nb = [1]\nc = [2]\n";
        assert_eq!(spec(three).unwrap().method, Method::Cmaes);
        let e = spec(&format!("method = \"race\"\n{three}")).unwrap_err();
        assert!(e.0 == "method" && e.1.contains("use \"cmaes\""), "{e:?}");
        assert!(
            spec("objective = \"gmv\"\n[variables]\na = [1]\n[constraints]\nclips = { min = 3, max = 1 }\n").is_err()
        );
    }
}
