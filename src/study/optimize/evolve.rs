//! The search for three or more decision variables (`method = "cmaes"`): CMA-ES ([`super::cmaes`])
//! in the unit box of the decisions, on paired estimates, then a race of its best candidates.
//!
//! Each generation's population is snapped to the variables' lattices (a range's `resolution`, a
//! list's values); every distinct candidate runs replications `0..first_replications` on the same
//! seeds as every other candidate (common random numbers), so the ranking told to CMA-ES
//! compares candidates on the same draws: candidates whose means meet the constraints first, each
//! group by the mean of `sign * objective`, ties in population order. CMA-ES stops when its
//! standard deviation along every axis is below half that variable's lattice step (converged), or
//! when the next generation would take the runs past half of `runs` (the other half is kept for
//! the race). Then the `points` best candidates met (same order) and the snapped mean of the
//! final distribution are raced exactly as one level of the race method is (paired one-sided t
//! bounds, Bonferroni, replications doubling up to `max_replications`), within what is left of
//! `runs`. Like the race, everything is a function of the spec, the seed and the cached values,
//! so a resumed run replays to the same bytes.

use super::cmaes::Cmaes;
use super::search::{point_key, OptimizeError, Outcome, Search, Seen, Stop};
use super::Domain;
use std::collections::BTreeMap;
use toml::Value;

/// Safety stop on generations (never reached on a budget of runs that CI or a user affords).
const MAX_GENERATIONS: u32 = 1000;

impl Search<'_> {
    /// Lattice steps of each variable in unit coordinates.
    fn unit_steps(&self) -> Vec<f64> {
        self.opt
            .spec
            .variables
            .iter()
            .map(|v| match &v.domain {
                Domain::Range { from, to, resolution, .. } => (resolution / (to - from)).min(1.0),
                Domain::List(l) => 1.0 / (l.len().max(2) - 1) as f64,
            })
            .collect()
    }

    /// The candidate nearest to a point of the unit box: each coordinate snapped to its lattice.
    fn snap(&self, u: &[f64]) -> Vec<Value> {
        self.opt
            .spec
            .variables
            .iter()
            .enumerate()
            .map(|(i, v)| match &v.domain {
                Domain::Range { from, to, resolution, .. } => {
                    let last = ((to - from) / resolution + 1e-9).floor() as i64;
                    let k = (u[i] * (to - from) / resolution).round() as i64;
                    self.opt.axis_value(i, k.clamp(0, last))
                }
                Domain::List(l) => l[((u[i] * (l.len() - 1) as f64).round() as usize).min(l.len() - 1)].clone(),
            })
            .collect()
    }

    /// Ranking key of a candidate on replications `0..n`: feasible first, then the higher mean.
    fn rank_key(&self, key: &str, n: u32) -> (bool, f64) {
        let mean = Self::mean(&self.scores(key, n)).unwrap_or(f64::NEG_INFINITY);
        (self.feasible(key, n), mean)
    }

    pub(super) fn evolve(&mut self) -> Result<Outcome, OptimizeError> {
        let spec = self.opt.spec.clone();
        let nvar = spec.variables.len();
        let seed = match self.opt.seed {
            Some(s) => s,
            None => self.opt.scenario(&self.opt.corners()[0])?.seed,
        };
        let steps = self.unit_steps();
        let first = spec.first_replications;
        let mut es = Cmaes::new(nvar, vec![0.5; nvar], 0.3, seed);
        let mut seen: Vec<Seen> = Vec::new();
        let mut cma_stop = Stop::Converged;
        while es.generation < MAX_GENERATIONS {
            let xs = es.ask();
            let pts: Vec<(String, Vec<Value>)> = xs
                .iter()
                .map(|u| {
                    let p = self.snap(u);
                    (point_key(&p), p)
                })
                .collect();
            let mut distinct: Vec<(String, Vec<Value>)> = Vec::new();
            for p in &pts {
                if !distinct.iter().any(|d| d.0 == p.0) {
                    distinct.push(p.clone());
                }
            }
            let cost =
                distinct.iter().map(|(k, _)| (0..first).filter(|r| !self.state.has(k, *r)).count() as u64).sum::<u64>();
            if self.state.runs() + cost > spec.runs / 2 || !self.ensure(&distinct, first)? {
                cma_stop = Stop::Budget;
                break;
            }
            for (k, p) in &distinct {
                if !seen.iter().any(|s| &s.key == k) {
                    seen.push(Seen {
                        key: k.clone(),
                        point: p.clone(),
                        level: es.generation as usize,
                        status: String::new(),
                    });
                }
            }
            let keys: Vec<(bool, f64)> = pts.iter().map(|(k, _)| self.rank_key(k, first)).collect();
            let mut order: Vec<usize> = (0..xs.len()).collect();
            order.sort_by(|a, b| keys[*b].0.cmp(&keys[*a].0).then(keys[*b].1.total_cmp(&keys[*a].1)).then(a.cmp(b)));
            es.tell(&xs, &order);
            if es.sd().iter().zip(&steps).all(|(sd, step)| *sd < step / 2.0) {
                break;
            }
        }
        if seen.is_empty() {
            return Err(OptimizeError::Usage(format!(
                "{}: half of `optimize.runs` ({}) does not cover CMA-ES's first generation ({} runs)",
                self.opt.file.display(),
                spec.runs,
                self.opt.first_round_runs()
            )));
        }
        // The final race: the best candidates met, and the final distribution's mean.
        let mut ranked: Vec<usize> = (0..seen.len()).collect();
        let keys: Vec<(bool, f64)> = seen.iter().map(|s| self.rank_key(&s.key, first)).collect();
        ranked.sort_by(|a, b| keys[*b].0.cmp(&keys[*a].0).then(keys[*b].1.total_cmp(&keys[*a].1)).then(a.cmp(b)));
        let mut finalists: Vec<(String, Vec<Value>)> =
            ranked.iter().take(spec.points).map(|i| (seen[*i].key.clone(), seen[*i].point.clone())).collect();
        let centre = self.snap(&es.mean);
        let centre_key = point_key(&centre);
        if !finalists.iter().any(|f| f.0 == centre_key) {
            if !seen.iter().any(|s| s.key == centre_key) {
                seen.push(Seen {
                    key: centre_key.clone(),
                    point: centre.clone(),
                    level: es.generation as usize,
                    status: String::new(),
                });
            }
            finalists.push((centre_key, centre));
        }
        let level = es.generation as usize;
        let mut status: BTreeMap<String, String> = BTreeMap::new();
        let (best_key, stop) = match self.race(finalists.clone(), level, &mut status)? {
            Some((key, _, true)) => (key, cma_stop),
            Some((key, _, false)) => (key, Stop::Budget),
            // Not even the centre's first replications fit: the best candidate met stands.
            None => (finalists[0].0.clone(), Stop::Budget),
        };
        for s in &mut seen {
            s.status = if s.key == best_key {
                "best".into()
            } else if let Some(st) = status.get(&s.key) {
                st.clone()
            } else if finalists.iter().any(|f| f.0 == s.key) {
                format!("in the final race at level {level}, not raced further (budget)")
            } else {
                format!("CMA-ES generation {}, not among the {} finalists", s.level, spec.points)
            };
        }
        let best = seen.iter().find(|s| s.key == best_key).cloned().unwrap_or_else(|| seen[0].clone());
        Ok(Outcome { best, seen, levels: level + 1, stop })
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::State;
    use super::super::{Domain, Method, Optimization, Spec, Variable};
    use super::*;
    use crate::base::rng::{self, Kind};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const TARGET: [f64; 4] = [0.3, 0.62, 0.45, 0.8];
    const CURVATURE: [f64; 4] = [1.0, 2.0, 0.5, 1.5];

    fn problem(runs: u64) -> Optimization {
        let var = |k: &str| Variable {
            keys: vec![k.into()],
            domain: Domain::Range { from: 0.0, to: 1.0, resolution: 0.01, integer: false },
        };
        let spec = Spec {
            objective: "gmv".into(),
            sign: 1.0,
            method: Method::Cmaes,
            runs,
            confidence: 0.95,
            first_replications: 5,
            max_replications: 40,
            points: 5,
            variables: ["a", "b", "c", "d"].map(var).to_vec(),
            constraints: vec![],
        };
        Optimization {
            stem: "t".into(),
            file: "t.toml".into(),
            text: String::new(),
            spec,
            doc: toml::Table::new(),
            seed: Some(7),
        }
    }

    fn truth(x: &[f64]) -> f64 {
        100.0 - 100.0 * x.iter().zip(TARGET).zip(CURVATURE).map(|((a, t), w)| w * (a - t).powi(2)).sum::<f64>()
    }

    /// A smooth objective with the noise of a simulation: a replication's common shock (sd 10,
    /// shared by every candidate, as common random numbers make it) and a candidate's own
    /// noise (sd 0.2).
    fn model(p: &[Value], r: u32) -> Vec<Option<f64>> {
        let x: Vec<f64> = p.iter().map(|v| v.as_float().unwrap()).collect();
        let common = 10.0 * rng::normal(&mut rng::stream(1, Kind::Feed, 0, r));
        let own_seed = x.iter().fold(0u64, |h, v| h.wrapping_mul(31).wrapping_add(v.to_bits()));
        let own = 0.2 * rng::normal(&mut rng::stream(own_seed, Kind::Clip, 0, r));
        vec![Some(truth(&x) + common + own)]
    }

    fn search(opt: &Optimization, state: &mut State, stop_after: Option<usize>) -> Result<Outcome, OptimizeError> {
        let stop = AtomicBool::new(false);
        let rounds = AtomicUsize::new(0);
        let mut saved = |_: &State| {
            if stop_after == Some(rounds.fetch_add(1, Ordering::SeqCst) + 1) {
                stop.store(true, Ordering::SeqCst);
            }
            Ok(())
        };
        let m = |p: &[Value], r: u32| model(p, r);
        Search { opt, state, stop: &stop, tick: &|| {}, saved: &mut saved, model: Some(&m) }.run()
    }

    /// Known answer: the optimum of the 4-variable quadratic is found within 0.05 on every
    /// coordinate and 0.5 of the objective's maximum (100), within the budget; the same search
    /// stopped after 3 rounds and resumed from its cache gives the same candidates and best.
    #[test]
    fn finds_a_known_optimum_in_four_variables_and_resumes() {
        let opt = problem(2000);
        let mut state = State::new("h");
        let out = search(&opt, &mut state, None).unwrap();
        let best: Vec<f64> = out.best.point.iter().map(|v| v.as_float().unwrap()).collect();
        for (b, t) in best.iter().zip(TARGET) {
            assert!((b - t).abs() <= 0.05 + 1e-9, "best {best:?}, optimum {TARGET:?}");
        }
        assert!(truth(&best) >= 99.5, "best {best:?} has objective {}", truth(&best));
        assert!(state.runs() <= 2000, "{} runs", state.runs());
        let mut part = State::new("h");
        assert!(matches!(search(&opt, &mut part, Some(3)), Err(OptimizeError::Interrupted)));
        assert!(part.runs() < state.runs());
        let again = search(&opt, &mut part, None).unwrap();
        assert_eq!(part, state);
        assert_eq!(again.best.key, out.best.key);
        assert_eq!(
            again.seen.iter().map(|s| &s.status).collect::<Vec<_>>(),
            out.seen.iter().map(|s| &s.status).collect::<Vec<_>>()
        );
    }
}
