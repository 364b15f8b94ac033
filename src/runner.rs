//! Runs scenarios: every (scenario, replication) pair in parallel on rayon's pool, results in a
//! fixed order so that output does not depend on the number of threads.

use crate::scenario::Scenario;
use crate::sim::{run_replication, RepResult};
use rayon::prelude::*;

/// The replications of one scenario, in replication order (replication 0 carries the detail).
pub struct ScenarioResult {
    pub reps: Vec<RepResult>,
}

/// Runs all replications of all scenarios. `on_done` is called once per finished replication
/// (from any thread), for progress reporting.
pub fn run_all(scenarios: &[Scenario], on_done: &(dyn Fn() + Sync)) -> Vec<ScenarioResult> {
    let jobs: Vec<(usize, u32)> =
        scenarios.iter().enumerate().flat_map(|(k, s)| (0..s.replications).map(move |r| (k, r))).collect();
    let mut results: Vec<(usize, RepResult)> = jobs
        .par_iter()
        .map(|&(k, r)| {
            let out = run_replication(&scenarios[k], r, r == 0);
            on_done();
            (k, out)
        })
        .collect();
    let mut out: Vec<ScenarioResult> = scenarios.iter().map(|_| ScenarioResult { reps: Vec::new() }).collect();
    for (k, r) in results.drain(..) {
        out[k].reps.push(r);
    }
    out
}
