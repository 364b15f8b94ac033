//! From a finished search to what the report writes: each candidate's mean and 95% interval,
//! its paired difference to the best on their common replications, the share of those in which
//! it beat the best, and the best decision as a scenario file `cpsim run` takes.

use super::search::{Outcome, Stop};
use super::state::State;
use super::{Method, Optimization};
use crate::model::metrics::stat;
use crate::report::optimize::{CandidateRow, EvalRow, Optimized};

/// The report of an outcome.
pub fn summarize(opt: &Optimization, state: &State, out: &Outcome, seed: u64, name: &str) -> Optimized {
    let spec = &opt.spec;
    let sign = spec.sign;
    let best_n = state.reps(&out.best.key);
    let best_obj = state.column(&out.best.key, 0, best_n);
    let mut candidates = Vec::with_capacity(out.seen.len());
    let mut evals = Vec::new();
    let mut best = 0;
    for (i, s) in out.seen.iter().enumerate() {
        let n = state.reps(&s.key);
        let obj = state.column(&s.key, 0, n);
        let st = stat(&obj.iter().flatten().copied().collect::<Vec<_>>());
        let is_best = s.key == out.best.key;
        if is_best {
            best = i;
        }
        let pairs: Vec<(f64, f64)> = obj.iter().zip(&best_obj).filter_map(|(c, b)| Some(((*c)?, (*b)?))).collect();
        let (diff, share_better) = if is_best || pairs.is_empty() {
            (None, None)
        } else {
            let d = stat(&pairs.iter().map(|(c, b)| c - b).collect::<Vec<_>>());
            let better = pairs.iter().filter(|(c, b)| sign * (c - b) > 0.0).count();
            (Some((d.mean, d.lo, d.hi)), Some(better as f64 / pairs.len() as f64))
        };
        let constraints = (0..spec.constraints.len())
            .map(|j| {
                let v: Vec<f64> = state.column(&s.key, j + 1, n).into_iter().flatten().collect();
                stat(&v).mean
            })
            .collect();
        candidates.push(CandidateRow {
            values: s.point.iter().map(show).collect(),
            level: s.level,
            replications: n,
            mean: if obj.iter().any(|x| x.is_some()) { st.mean } else { f64::NAN },
            lo: st.lo,
            hi: st.hi,
            diff,
            share_better,
            constraints,
            status: s.status.clone(),
        });
        let cols: Vec<Vec<Option<f64>>> = (0..spec.metrics().len()).map(|j| state.column(&s.key, j, n)).collect();
        for r in 0..n as usize {
            let values = cols.iter().map(|c| c[r]).collect();
            evals.push(EvalRow { candidate: i, replication: r as u32, values });
        }
    }
    let best_scenario = format!(
        "# The best decision cpsim optimize found for {} (objective {}: {} {:.2}, 95% interval {:.2} to {:.2},\n\
         # {} replications). The file's market with these values set; `cpsim run` takes it.\n{}",
        opt.file.display(),
        spec.objective,
        if sign > 0.0 { "maximised at" } else { "minimised at" },
        candidates[best].mean,
        candidates[best].lo,
        candidates[best].hi,
        candidates[best].replications,
        opt.candidate_text(&out.best.point).unwrap_or_default()
    );
    Optimized {
        name: name.to_owned(),
        stem: opt.stem.clone(),
        file: opt.file.display().to_string(),
        hash: opt.hash(),
        seed,
        objective: spec.objective.clone(),
        goal: if sign > 0.0 { "maximize".into() } else { "minimize".into() },
        method: match spec.method {
            Method::Race => "race (coarse-to-fine grids, each raced on paired t intervals)".into(),
            Method::Grid => "grid (every point at resolution, max_replications each)".into(),
            Method::Cmaes => {
                "cmaes (CMA-ES on paired estimates, its best candidates then raced on paired t intervals)".into()
            }
        },
        confidence: spec.confidence,
        runs_budget: spec.runs,
        runs_used: state.runs(),
        levels: out.levels,
        stop: match out.stop {
            Stop::Converged if spec.method == Method::Cmaes => {
                "converged (CMA-ES's steps below every variable's resolution, the final race decided)".into()
            }
            Stop::Converged => "converged (the last level compared neighbours one resolution apart)".into(),
            Stop::Budget => "stopped by the budget of runs".into(),
        },
        variables: spec.variables.iter().map(|v| v.keys[0].clone()).collect(),
        constraints: spec.constraints.iter().map(|c| (c.metric.clone(), c.min, c.max)).collect(),
        candidates,
        best,
        evals,
        best_scenario,
    }
}

/// A value as the file writes it, strings without quotes.
fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
