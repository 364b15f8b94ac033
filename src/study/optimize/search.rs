//! The search: coarse-to-fine grids over the decision variables, each grid raced on paired
//! intervals with common random numbers (docs/OPTIMIZE.md).
//!
//! Every candidate runs replication `r` with the same seed, so two candidates are compared by
//! the per-replication differences of their objective. A level's race: every candidate gets
//! `first_replications`; then, while more than one is alive and fewer than `max_replications`
//! have run, the incumbent (the alive candidate with the best mean among those whose means meet
//! the constraints) is compared with each other alive candidate on their paired differences, and
//! a candidate is dropped when the one-sided lower bound of the incumbent's advantage (on every
//! replication both have run, earlier levels' included), at level
//! `1 - (1 - confidence) / (alive - 1)` (Bonferroni), is above zero, or when a constraint's
//! interval lies wholly on the wrong side of its bound; the survivors' replications double.
//! The next level is a grid of `points` per range variable centred on the winner, half as wide
//! as the last spacing on each side; the search stops after the level whose spacing is the
//! variable's `resolution` (converged) or when the next round would exceed `runs` (budget).
//! Everything depends on the spec and the values alone, so the search replays exactly from a
//! saved [`State`] and at any thread count.

use super::cmaes::Cmaes;
use super::state::State;
use super::stats::t_quantile;
use super::{value, Domain, Method, Optimization};
use crate::model::metrics::{metric_value, RepData};
use crate::scenario::ScenarioError;
use crate::study::runner::{self, Unit};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use toml::Value;

#[derive(Debug, thiserror::Error)]
pub enum OptimizeError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot save the optimisation state {0}: {1}")]
    Save(String, std::io::Error),
    #[error("interrupted")]
    Interrupted,
}

/// A stand-in for the model: (candidate, replication) to the values of [`super::Spec::metrics`].
pub type StandIn = dyn Fn(&[Value], u32) -> Vec<Option<f64>> + Sync;

/// A finished unit: (variant in the round's study, replication, values).
type Done = (usize, u32, Vec<Option<f64>>);

/// A candidate's identity in the state and the files: its values, `; `-separated.
pub fn point_key(point: &[Value]) -> String {
    point.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; ")
}

/// Why the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The last level compared neighbours `resolution` apart (or every value of every list).
    Converged,
    /// The next round would have exceeded `runs`.
    Budget,
}

/// One candidate as the search met it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub key: String,
    pub point: Vec<Value>,
    /// The level it was first part of.
    pub level: usize,
    /// What became of it: `best`, `dropped at level L after N replications`, ...
    pub status: String,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub best: Seen,
    /// Every candidate, in the order first met.
    pub seen: Vec<Seen>,
    pub levels: usize,
    pub stop: Stop,
}

/// Where a level's grid lies, per variable: lattice indices.
#[derive(Clone, Debug)]
struct Axis {
    /// Largest lattice index (a range has indices `0..=last`; a list one per value).
    last: i64,
    /// Current spacing in lattice steps (a list: 0, never refined).
    spacing: f64,
    indices: Vec<i64>,
}

impl Optimization {
    pub(super) fn axis_value(&self, var: usize, i: i64) -> Value {
        match &self.spec.variables[var].domain {
            Domain::Range { from, resolution, integer, to } => {
                let x = (from + i as f64 * resolution).min(*to);
                value(tidy(x), *integer)
            }
            Domain::List(l) => l[i as usize].clone(),
        }
    }

    fn axes(&self) -> Vec<Axis> {
        let points = self.spec.points as i64;
        self.spec
            .variables
            .iter()
            .map(|v| match &v.domain {
                Domain::Range { from, to, resolution, .. } => {
                    let last = ((to - from) / resolution + 1e-9).floor() as i64;
                    if self.spec.method == Method::Grid || last < points {
                        Axis { last, spacing: 1.0, indices: (0..=last).collect() }
                    } else {
                        let spacing = last as f64 / (points - 1) as f64;
                        let indices = (0..points).map(|i| (i as f64 * spacing).round() as i64).collect();
                        Axis { last, spacing, indices }
                    }
                }
                Domain::List(l) => {
                    Axis { last: l.len() as i64 - 1, spacing: 0.0, indices: (0..l.len() as i64).collect() }
                }
            })
            .collect()
    }

    /// The grid of a level: the product of the axes, the last variable fastest.
    fn grid(&self, axes: &[Axis]) -> Vec<(Vec<i64>, Vec<Value>)> {
        let mut out: Vec<Vec<i64>> = vec![vec![]];
        for a in axes {
            out = out.iter().flat_map(|p| a.indices.iter().map(move |i| [p.clone(), vec![*i]].concat())).collect();
        }
        out.into_iter()
            .map(|idx| {
                let point = idx.iter().enumerate().map(|(v, i)| self.axis_value(v, *i)).collect();
                (idx, point)
            })
            .collect()
    }

    /// Runs of the first round: what `runs` must at least allow.
    pub fn first_round_runs(&self) -> u64 {
        let n = match self.spec.method {
            Method::Cmaes => Cmaes::new(self.spec.variables.len(), vec![], 0.0, 0).lambda as u64,
            _ => self.axes().iter().map(|a| a.indices.len() as u64).product::<u64>(),
        };
        let reps = match self.spec.method {
            Method::Race | Method::Cmaes => self.spec.first_replications,
            Method::Grid => self.spec.max_replications,
        };
        n * reps as u64
    }
}

/// 12 significant digits, so lattice values print as written (0.35, not 0.35000000000000003).
fn tidy(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// The searcher's view: the problem, the cache of values, and how to run what is missing.
pub struct Search<'a> {
    pub opt: &'a Optimization,
    pub state: &'a mut State,
    pub stop: &'a AtomicBool,
    /// Called once per finished replication (the progress bar).
    pub tick: &'a (dyn Fn() + Sync),
    /// Called after every round that ran something, with the state to save.
    pub saved: &'a mut dyn FnMut(&State) -> Result<(), OptimizeError>,
    /// A stand-in for the model, for tests of the search on an objective whose optimum is known:
    /// (candidate, replication) to the values of [`super::Spec::metrics`].
    pub model: Option<&'a StandIn>,
}

impl Search<'_> {
    /// Makes sure every candidate has replications `0..n`; `false` when that would exceed the
    /// budget (nothing is run then).
    pub(super) fn ensure(&mut self, points: &[(String, Vec<Value>)], n: u32) -> Result<bool, OptimizeError> {
        let missing: Vec<(usize, u32)> = points
            .iter()
            .enumerate()
            .flat_map(|(i, (k, _))| (0..n).filter(|r| !self.state.has(k, *r)).map(move |r| (i, r)))
            .collect();
        if missing.is_empty() {
            return Ok(true);
        }
        if self.state.runs() + missing.len() as u64 > self.opt.spec.runs {
            return Ok(false);
        }
        if let Some(model) = self.model {
            for (i, r) in &missing {
                let values = model(&points[*i].1, *r);
                self.state.insert(&points[*i].0, *r, &values);
                (self.tick)();
            }
            self.check_metrics()?;
            (self.saved)(self.state)?;
            return if self.stop.load(Ordering::SeqCst) { Err(OptimizeError::Interrupted) } else { Ok(true) };
        }
        let needed: Vec<usize> = {
            let mut v: Vec<usize> = missing.iter().map(|m| m.0).collect();
            v.dedup();
            v
        };
        let study = self.opt.study(&needed.iter().map(|i| points[*i].1.clone()).collect::<Vec<_>>())?;
        let slot = |i: usize| needed.iter().position(|j| *j == i).unwrap_or(0);
        let todo: Vec<Unit> = missing.iter().map(|(i, r)| Unit { study: 0, variant: slot(*i), rep: *r }).collect();
        let metrics = self.opt.spec.metrics();
        let done: Mutex<Vec<Done>> = Mutex::new(Vec::new());
        let studies = [study];
        let tick = self.tick;
        runner::run_units(
            &studies,
            &todo,
            self.stop,
            &|u, d: &RepData| {
                let values = metrics.iter().map(|m| metric_value(d, m)).collect();
                done.lock().unwrap_or_else(|e| e.into_inner()).push((u.variant, u.rep, values));
                tick();
                Ok::<(), OptimizeError>(())
            },
            &|_, _, _| Ok(()),
        )?;
        for (v, rep, values) in done.into_inner().unwrap_or_else(|e| e.into_inner()) {
            self.state.insert(&points[needed[v]].0, rep, &values);
        }
        if self.stop.load(Ordering::SeqCst) {
            (self.saved)(self.state)?;
            return Err(OptimizeError::Interrupted);
        }
        // Before anything is saved: a metric no run has is bad input, and leaves no state.
        self.check_metrics()?;
        (self.saved)(self.state)?;
        if self.stop.load(Ordering::SeqCst) {
            return Err(OptimizeError::Interrupted);
        }
        Ok(true)
    }

    /// A metric that has no value in any run is not one this scenario has (a misspelt plan).
    fn check_metrics(&self) -> Result<(), OptimizeError> {
        for (j, m) in self.opt.spec.metrics().iter().enumerate() {
            let any =
                self.state.evaluations.values().flat_map(|r| r.values()).any(|v| v.get(j).copied().flatten().is_some());
            if !any {
                return Err(OptimizeError::Usage(format!(
                    "{}: `{m}` has no value in any replication: not a metric of this scenario (an own plan's \
                     metric is `plans.<name>.<metric>`, with the plan's name from [[plans]])",
                    self.opt.file.display()
                )));
            }
        }
        Ok(())
    }

    /// `sign * objective` of a candidate in replications `0..n`.
    pub(super) fn scores(&self, key: &str, n: u32) -> Vec<Option<f64>> {
        let sign = self.opt.spec.sign;
        self.state.column(key, 0, n).into_iter().map(|x| x.map(|x| sign * x)).collect()
    }

    pub(super) fn mean(xs: &[Option<f64>]) -> Option<f64> {
        let v: Vec<f64> = xs.iter().flatten().copied().collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// Whether the mean of each constraint's metric meets its bounds.
    pub(super) fn feasible(&self, key: &str, n: u32) -> bool {
        self.opt.spec.constraints.iter().enumerate().all(|(j, c)| match Self::mean(&self.state.column(key, j + 1, n)) {
            Some(m) => c.min.map_or(true, |lo| m >= lo) && c.max.map_or(true, |hi| m <= hi),
            None => false,
        })
    }

    /// The constraint whose interval lies wholly outside its bounds, if any.
    fn surely_infeasible(&self, key: &str, n: u32, level: f64) -> Option<String> {
        self.opt.spec.constraints.iter().enumerate().find_map(|(j, c)| {
            let v: Vec<f64> = self.state.column(key, j + 1, n).into_iter().flatten().collect();
            let (mean, half) = one_sided(&v, level)?;
            let low_out = c.max.is_some_and(|hi| mean - half > hi);
            let high_out = c.min.is_some_and(|lo| mean + half < lo);
            (low_out || high_out).then(|| c.metric.clone())
        })
    }

    /// The incumbent of some candidates: the best mean among those whose means meet the
    /// constraints (or among all, if none does); ties go to the first in grid order.
    pub(super) fn incumbent(&self, alive: &[(String, Vec<Value>)], n: u32) -> usize {
        let feasible: Vec<usize> = (0..alive.len()).filter(|i| self.feasible(&alive[*i].0, n)).collect();
        let pool = if feasible.is_empty() { (0..alive.len()).collect() } else { feasible };
        let mut best = pool[0];
        let mut best_mean = f64::NEG_INFINITY;
        for i in pool {
            let m = Self::mean(&self.scores(&alive[i].0, n)).unwrap_or(f64::NEG_INFINITY);
            if m > best_mean {
                best = i;
                best_mean = m;
            }
        }
        best
    }

    /// Races a level's candidates; returns the winner and records what became of the others.
    pub(super) fn race(
        &mut self,
        grid: Vec<(String, Vec<Value>)>,
        level: usize,
        status: &mut BTreeMap<String, String>,
    ) -> Result<Option<(String, Vec<Value>, bool)>, OptimizeError> {
        let spec = &self.opt.spec;
        let (mut n, max) = match spec.method {
            Method::Race | Method::Cmaes => (spec.first_replications, spec.max_replications),
            Method::Grid => (spec.max_replications, spec.max_replications),
        };
        let mut alive = grid;
        let mut ran = 0;
        loop {
            if !self.ensure(&alive, n)? {
                if ran == 0 {
                    // Not even this level's first round fits: the previous winner stands.
                    return Ok(None);
                }
                let w = self.incumbent(&alive, ran);
                return Ok(Some((alive[w].0.clone(), alive[w].1.clone(), false)));
            }
            ran = n;
            let conf = self.opt.spec.confidence;
            if alive.len() > 1 {
                let level_each = 1.0 - (1.0 - conf) / (alive.len() - 1) as f64;
                let mut keep = Vec::with_capacity(alive.len());
                for c in std::mem::take(&mut alive) {
                    match self.surely_infeasible(&c.0, n, level_each) {
                        Some(m) => {
                            status.insert(
                                c.0.clone(),
                                format!("infeasible ({m}) at level {level} after {n} replications"),
                            );
                        }
                        None => keep.push(c),
                    }
                }
                if keep.is_empty() {
                    return Err(OptimizeError::Usage(format!(
                        "{}: no candidate can meet the constraints (each one's interval lies outside a bound)",
                        self.opt.file.display()
                    )));
                }
                let w = self.incumbent(&keep, n);
                let level_each = 1.0 - (1.0 - conf) / (keep.len().max(2) - 1) as f64;
                for (i, c) in keep.iter().enumerate() {
                    // Every replication both have run (earlier levels' included) counts.
                    let m = self.state.reps(&keep[w].0).min(self.state.reps(&c.0));
                    let worse = i != w && {
                        let d: Vec<f64> = self
                            .scores(&keep[w].0, m)
                            .into_iter()
                            .zip(self.scores(&c.0, m))
                            .filter_map(|(a, b)| Some(a? - b?))
                            .collect();
                        one_sided(&d, level_each).is_some_and(|(m, half)| m - half > 0.0)
                    };
                    if worse {
                        status.insert(c.0.clone(), format!("dropped at level {level} after {m} paired replications"));
                    } else {
                        alive.push(c.clone());
                    }
                }
            }
            if alive.len() <= 1 || n >= max {
                let w = self.incumbent(&alive, n);
                for (i, c) in alive.iter().enumerate() {
                    if i != w {
                        status.insert(
                            c.0.clone(),
                            format!("tied with the winner at level {level} after {n} replications"),
                        );
                    }
                }
                return Ok(Some((alive[w].0.clone(), alive[w].1.clone(), true)));
            }
            n = (2 * n).min(max);
        }
    }

    /// Runs the whole search.
    pub fn run(&mut self) -> Result<Outcome, OptimizeError> {
        if self.opt.spec.method == Method::Cmaes {
            return self.evolve();
        }
        let mut axes = self.opt.axes();
        let mut seen: Vec<Seen> = Vec::new();
        let mut status: BTreeMap<String, String> = BTreeMap::new();
        let mut best: Option<(String, Vec<Value>)> = None;
        let mut level = 0;
        let stop = loop {
            let grid = self.opt.grid(&axes);
            let mut cands: Vec<(String, Vec<Value>)> = Vec::new();
            let mut idx_of: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            for (idx, point) in grid {
                let key = point_key(&point);
                if idx_of.contains_key(&key) {
                    continue;
                }
                if !seen.iter().any(|s| s.key == key) {
                    seen.push(Seen { key: key.clone(), point: point.clone(), level, status: String::new() });
                }
                idx_of.insert(key.clone(), idx);
                cands.push((key, point));
            }
            for (k, _) in &cands {
                status.remove(k);
            }
            let Some((key, point, finished)) = self.race(cands, level, &mut status)? else {
                break Stop::Budget;
            };
            best = Some((key.clone(), point));
            if !finished {
                break Stop::Budget;
            }
            // The next level: centred on the winner, half as wide as the last spacing each side.
            let centre = &idx_of[&key];
            let points = self.opt.spec.points;
            let mut refined = false;
            for (a, c) in axes.iter_mut().zip(centre) {
                if a.spacing > 1.0 {
                    let half = a.spacing;
                    let spacing = (2.0 * half / (points - 1) as f64).max(1.0);
                    let mut ix: Vec<i64> = (0..points)
                        .map(|i| (*c as f64 - half + i as f64 * 2.0 * half / (points - 1) as f64).round() as i64)
                        .map(|i| i.clamp(0, a.last))
                        .collect();
                    ix.dedup();
                    *a = Axis { last: a.last, spacing, indices: ix };
                    refined = true;
                } else {
                    // A converged or listed variable keeps only its winner's value.
                    a.indices = vec![*c];
                    a.spacing = a.spacing.min(1.0);
                }
            }
            if !refined {
                break Stop::Converged;
            }
            level += 1;
        };
        let Some((best_key, _)) = best else {
            return Err(OptimizeError::Usage(format!(
                "{}: `optimize.runs` ({}) does not cover the first round ({} runs)",
                self.opt.file.display(),
                self.opt.spec.runs,
                self.opt.first_round_runs()
            )));
        };
        for s in &mut seen {
            s.status = if s.key == best_key {
                "best".into()
            } else {
                status.get(&s.key).cloned().unwrap_or_else(|| format!("not raced further after level {}", s.level))
            };
        }
        let best = seen.iter().find(|s| s.key == best_key).cloned().unwrap_or_else(|| seen[0].clone());
        Ok(Outcome { best, seen, levels: level + 1, stop })
    }
}

/// Mean and the half-width of a one-sided interval at `level`, of at least two values.
fn one_sided(v: &[f64], level: f64) -> Option<(f64, f64)> {
    let n = v.len();
    if n < 2 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some((mean, t_quantile(level, n - 1) * (var / n as f64).sqrt()))
}
