//! The `[calibrate]` table: which parameters to fit (key paths with priors), which observed
//! series to fit with what weights, and the run budget of the ABC-SMC.
//!
//! ```toml
//! [calibrate]
//! particles = 100          # accepted particles per generation
//! generations = 6          # at most this many (the first samples the prior)
//! quantile = 0.5           # next tolerance = this weighted quantile of the distances
//! max_simulations = 5000   # the run budget: stop before a generation would exceed it
//! [calibrate.params]
//! "categories.short_drama.ctr" = { prior = "log-uniform", from = 0.005, to = 0.05 }
//! "creators.posts_per_day" = { from = 0.2, to = 1.0 }   # prior = "uniform" by default
//! [calibrate.series]       # observed columns to fit, with weights (default: all, weight 1)
//! "market.gmv" = 1.0
//! ```

use crate::scenario::{schema, Problem, ScenarioError};
use std::path::Path;
use toml::{Table, Value};

/// A prior: uniform over `[from, to]`, or uniform in the logarithm (log-uniform).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prior {
    Uniform { from: f64, to: f64 },
    LogUniform { from: f64, to: f64 },
}

impl Prior {
    /// The prior's support in the coordinates the sampler works in (log for log-uniform), where
    /// every prior is uniform: the density is constant inside the box, so importance weights
    /// need the kernel alone.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Prior::Uniform { from, to } => (from, to),
            Prior::LogUniform { from, to } => (from.ln(), to.ln()),
        }
    }
    pub fn to_natural(self, z: f64) -> f64 {
        match self {
            Prior::Uniform { .. } => z,
            Prior::LogUniform { .. } => z.exp(),
        }
    }
    pub fn to_sampler(self, x: f64) -> f64 {
        match self {
            Prior::Uniform { .. } => x,
            Prior::LogUniform { .. } => x.ln(),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Prior::Uniform { .. } => "uniform",
            Prior::LogUniform { .. } => "log-uniform",
        }
    }
    pub fn range(self) -> (f64, f64) {
        match self {
            Prior::Uniform { from, to } | Prior::LogUniform { from, to } => (from, to),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub key: String,
    pub prior: Prior,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub particles: u32,
    pub generations: u32,
    pub quantile: f64,
    pub max_simulations: u64,
    pub params: Vec<Param>,
    /// (series name, weight); empty means every observed series at weight 1.
    pub series: Vec<(String, f64)>,
}

pub const MAX_PARTICLES: u32 = 100_000;

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// Reads the `[calibrate]` table of `text` (already parsed as `table`); every problem names its
/// key path and line.
pub fn read(table: &Table, path: &Path, text: &str) -> Result<Config, ScenarioError> {
    let mut problems = Vec::new();
    let mut bad = |key: String, message: String| {
        let line = schema::locate(text, &key);
        problems.push(Problem { key, message, line });
    };
    const KEYS: [&str; 6] = ["particles", "generations", "quantile", "max_simulations", "params", "series"];
    for k in table.keys().filter(|k| !KEYS.contains(&k.as_str())) {
        let hint =
            schema::closest(k, KEYS.iter().copied()).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
        bad(format!("calibrate.{k}"), format!("unknown key{hint}; the table takes {}", KEYS.join(", ")));
    }
    let mut int = |name: &str, default: i64, lo: i64, hi: i64| match table.get(name) {
        None => default,
        Some(Value::Integer(n)) if (lo..=hi).contains(n) => *n,
        Some(v) => {
            bad(format!("calibrate.{name}"), format!("must be a whole number from {lo} to {hi}, got {v}"));
            default
        }
    };
    let particles = int("particles", 100, 2, MAX_PARTICLES as i64) as u32;
    let generations = int("generations", 5, 1, 1000) as u32;
    let max_simulations = int("max_simulations", 100_000, 1, 1_000_000_000) as u64;
    let quantile = match table.get("quantile") {
        None => 0.5,
        Some(v) => match num(v) {
            Some(q) if q > 0.0 && q < 1.0 => q,
            _ => {
                bad("calibrate.quantile".into(), format!("must be a number strictly between 0 and 1, got {v}"));
                0.5
            }
        },
    };
    let mut params = Vec::new();
    match table.get("params") {
        Some(Value::Table(t)) if !t.is_empty() => {
            for (key, v) in t {
                let at = format!("calibrate.params.{key}");
                let Value::Table(spec) = v else {
                    bad(at, format!("must be a table {{ prior = \"uniform\", from = A, to = B }}, got {v}"));
                    continue;
                };
                if let Some(k) = spec.keys().find(|k| !["prior", "from", "to"].contains(&k.as_str())) {
                    bad(at.clone(), format!("unknown key `{k}`; a prior takes prior, from and to"));
                }
                let (from, to) = (spec.get("from").and_then(num), spec.get("to").and_then(num));
                let (Some(from), Some(to)) = (from, to) else {
                    bad(at, "needs numbers `from` and `to`".into());
                    continue;
                };
                if from >= to {
                    bad(at, format!("`from` ({from}) must be below `to` ({to})"));
                    continue;
                }
                let prior = match spec.get("prior").map(|p| p.as_str()) {
                    None | Some(Some("uniform")) => Prior::Uniform { from, to },
                    Some(Some("log-uniform")) if from > 0.0 => Prior::LogUniform { from, to },
                    Some(Some("log-uniform")) => {
                        bad(at, format!("a log-uniform prior needs `from` > 0, got {from}"));
                        continue;
                    }
                    Some(_) => {
                        bad(at, "`prior` must be \"uniform\" or \"log-uniform\"".into());
                        continue;
                    }
                };
                params.push(Param { key: key.clone(), prior });
            }
        }
        _ => bad(
            "calibrate.params".into(),
            "needs a table of parameters to fit, e.g. \"creators.posts_per_day\" = { from = 0.2, to = 1.0 }".into(),
        ),
    }
    let mut series = Vec::new();
    match table.get("series") {
        None => {}
        Some(Value::Table(t)) => {
            for (name, v) in t {
                match num(v) {
                    Some(w) if w > 0.0 => series.push((name.clone(), w)),
                    _ => bad(format!("calibrate.series.{name}"), format!("a weight must be a number > 0, got {v}")),
                }
            }
        }
        Some(v) => bad("calibrate.series".into(), format!("must be a table of series = weight, got {v}")),
    }
    if !problems.is_empty() {
        return Err(ScenarioError::Invalid { path: path.to_owned(), problems });
    }
    Ok(Config { particles, generations, quantile, max_simulations, params, series })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Result<Config, String> {
        let t: Table = text.parse().unwrap();
        let c = t.get("calibrate").and_then(|c| c.as_table()).cloned().unwrap_or_default();
        read(&c, Path::new("f.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_priors_and_defaults() {
        let c = cfg("[calibrate.params]\n\"a.b\" = { prior = \"log-uniform\", from = 0.01, to = 1 }\n\"c\" = { from = 0, to = 2 }\n").unwrap();
        assert_eq!(c.particles, 100);
        assert_eq!(c.params[0].prior, Prior::LogUniform { from: 0.01, to: 1.0 });
        assert_eq!(c.params[1].prior.bounds(), (0.0, 2.0));
        let p = c.params[0].prior;
        assert!((p.to_natural(p.to_sampler(0.3)) - 0.3).abs() < 1e-15);
    }

    #[test]
    fn names_every_bad_key() {
        let e = cfg("[calibrate]\nparticle = 3\nquantile = 1.5\n[calibrate.params]\n\"a\" = { from = 2, to = 1 }\n\"b\" = { prior = \"log-uniform\", from = 0, to = 1 }\n").unwrap_err();
        assert!(e.contains("`calibrate.particle`: unknown key (did you mean `particles`?)"), "{e}");
        assert!(e.contains("`calibrate.quantile`: must be a number strictly between 0 and 1"), "{e}");
        assert!(e.contains("`from` (2) must be below `to` (1)"), "{e}");
        assert!(e.contains("log-uniform prior needs `from` > 0"), "{e}");
        assert!(cfg("[calibrate]\nparticles = 10\n").unwrap_err().contains("needs a table of parameters"));
    }
}
