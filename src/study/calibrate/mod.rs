//! Calibration (`cpsim calibrate`): fits scenario parameters to observed daily series by
//! ABC-SMC with an adaptive tolerance, deterministic at any thread count and resumable after each
//! generation. [`config`] reads the `[calibrate]` table, [`observed`] the data, [`abc`] holds the
//! sampler's numbers, [`state`] the saved generations, [`shards`] a generation's
//! simulations split over a batch engine's tasks, [`outputs`] turns a run into the report's data.

pub mod abc;
pub mod config;
pub mod observed;
pub mod outputs;
pub mod shards;
pub mod state;

use crate::base::rng;
use crate::model::metrics::RepData;
use crate::model::series;
use crate::report::output::{file_hash, OutputError};
use crate::scenario::{self, raw::RawScenario, validate, Problem, Recorder, Scenario, ScenarioError};
use crate::study::sweep::set_path;
use config::Config;
use observed::{Observed, ObservedError};
use rayon::prelude::*;
use state::{Generation, Particle, Pending, State};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use toml::{Table, Value};

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Observed(#[from] ObservedError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{0}")]
    Usage(String),
    #[error(
        "interrupted after generation {0}: the finished generations are saved; run the same command again to resume"
    )]
    Interrupted(u32),
}

/// A calibration ready to run: the scenario with its `[calibrate]` table read, the data checked
/// against its calendar, and the series to fit.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub stem: String,
    pub file: PathBuf,
    /// The scenario file without its `[calibrate]` table: each particle sets its keys here.
    pub doc: Table,
    pub base: Scenario,
    pub config: Config,
    pub observed: Observed,
    /// (observed series index, weight) of the series in the distance.
    pub fit: Vec<(usize, f64)>,
    /// Days each simulation runs: through the last observed day.
    pub days: u32,
    /// The master seed every particle's seed derives from.
    pub seed: u64,
    /// Hash of everything a result depends on; a saved state with another hash is not resumed.
    pub hash: String,
}

fn invalid(path: &Path, key: &str, message: String, text: &str) -> ScenarioError {
    ScenarioError::Invalid {
        path: path.to_owned(),
        problems: vec![Problem { key: key.to_owned(), message, line: scenario::schema::locate(text, key) }],
    }
}

/// Validates a scenario document as sweeps validate their variants; `what` says which point
/// of the calibration it is, for messages.
pub fn scenario_of(doc: &Table, stem: &str, path: &Path, what: &str) -> Result<Scenario, ScenarioError> {
    // Through TOML text: the toml crate reads dates from text, not from a `Table`.
    let text = toml::to_string(doc).unwrap_or_default();
    let raw: RawScenario = toml::from_str(&text).map_err(|e| ScenarioError::Syntax {
        path: path.to_owned(),
        message: format!("{what}: {}", scenario::schema::did_you_mean(e.message())),
    })?;
    validate(&raw, stem, &mut Recorder::off()).map_err(|problems| ScenarioError::Invalid {
        path: path.to_owned(),
        problems: problems.into_iter().map(|p| Problem { message: format!("{} ({what})", p.message), ..p }).collect(),
    })
}

/// `doc` with each key set to its value (natural units).
pub fn with_values(doc: &Table, keys: &[String], values: &[f64]) -> Result<Table, String> {
    let mut t = doc.clone();
    for (k, v) in keys.iter().zip(values) {
        set_path(&mut t, k, Value::Float(*v))?;
    }
    Ok(t)
}

/// Reads a scenario with a `[calibrate]` table and its observed data; checks everything before
/// any simulation (both ends of every prior must give a valid scenario).
pub fn load(file: &Path, observed_path: &Path, seed: Option<u64>) -> Result<Calibration, CalibrateError> {
    let text = std::fs::read_to_string(file).map_err(|source| ScenarioError::Read { path: file.to_owned(), source })?;
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into());
    let raw = scenario::parse_raw(&text).map_err(|e| e.at(file))?;
    let mut base = scenario::parse(&text, &stem).map_err(|e| e.at(file))?;
    if raw.sweep.is_some() {
        return Err(invalid(file, "sweep", "a calibration takes a scenario without [sweep]".into(), &text).into());
    }
    let Some(table) = raw.calibrate else {
        return Err(invalid(
            file,
            "calibrate",
            "no [calibrate] table: it names the parameters to fit and their priors".into(),
            &text,
        )
        .into());
    };
    let config = config::read(&table, file, &text)?;
    let observed = observed::read(observed_path, &base)?;
    let mut fit = Vec::new();
    if config.series.is_empty() {
        fit.extend((0..observed.names.len()).map(|k| (k, 1.0)));
    }
    for (name, w) in &config.series {
        match observed.index(name) {
            Some(k) => fit.push((k, *w)),
            None => {
                return Err(invalid(
                    file,
                    &format!("calibrate.series.{name}"),
                    format!("no column `{name}` in {}; it has {}", observed_path.display(), observed.names.join(", ")),
                    &text,
                )
                .into())
            }
        }
    }
    let mut doc: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ScenarioError::Syntax { path: file.to_owned(), message: e.to_string() })?;
    doc.remove("calibrate");
    let keys: Vec<String> = config.params.iter().map(|p| p.key.clone()).collect();
    for end in [0, 1] {
        let values: Vec<f64> =
            config.params.iter().map(|p| if end == 0 { p.prior.range().0 } else { p.prior.range().1 }).collect();
        let what = if end == 0 {
            "every parameter at the low end of its prior"
        } else {
            "every parameter at the high end of its prior"
        };
        let t = with_values(&doc, &keys, &values).map_err(|m| invalid(file, "calibrate.params", m, &text))?;
        scenario_of(&t, &stem, file, what)?;
    }
    if let Some(s) = seed {
        base.seed = s;
    }
    let days = observed.horizon_days();
    let hash = file_hash(
        format!("{}\n{}\n{}\n{}", env!("CARGO_PKG_VERSION"), base.seed, text, observed.to_csv(&base)).as_bytes(),
    );
    Ok(Calibration { stem, file: file.to_owned(), doc, seed: base.seed, base, config, observed, fit, days, hash })
}

impl Calibration {
    pub fn keys(&self) -> Vec<String> {
        self.config.params.iter().map(|p| p.key.clone()).collect()
    }

    /// Sampler coordinates to natural values.
    pub fn natural(&self, theta: &[f64]) -> Vec<f64> {
        self.config.params.iter().zip(theta).map(|(p, z)| p.prior.to_natural(*z)).collect()
    }

    fn bounds(&self) -> Vec<(f64, f64)> {
        self.config.params.iter().map(|p| p.prior.bounds()).collect()
    }

    /// The observed (day, value) pairs of each fitted series.
    fn targets(&self) -> Vec<Vec<(u32, f64)>> {
        self.fit
            .iter()
            .map(|(k, _)| {
                self.observed
                    .days
                    .iter()
                    .zip(&self.observed.values[*k])
                    .filter_map(|(d, v)| Some((*d, (*v)?)))
                    .collect()
            })
            .collect()
    }

    /// Simulates one particle: every observed series, by day, through the observed window.
    pub fn simulate(&self, theta: &[f64], seed: u64) -> Result<Vec<Vec<f64>>, ScenarioError> {
        let values = self.natural(theta);
        let what = format!(
            "calibration particle {}",
            self.keys().iter().zip(&values).map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
        );
        let t = with_values(&self.doc, &self.keys(), &values)
            .map_err(|m| invalid(&self.file, "calibrate.params", m, ""))?;
        let mut s = scenario_of(&t, &self.stem, &self.file, &what)?;
        s.days = self.days;
        s.seed = seed;
        s.replications = 1;
        Ok(run_series(&s, &self.observed.keys))
    }
}

/// Runs replication 0 of `s` and returns the named daily series.
pub fn run_series(s: &Scenario, keys: &[series::SeriesKey]) -> Vec<Vec<f64>> {
    series_of(s, crate::model::sim::run_replication(s, 0, false), keys)
}

/// The daily series `keys` of a replication `r` of `s`.
pub fn series_of(s: &Scenario, r: crate::model::metrics::RepResult, keys: &[series::SeriesKey]) -> Vec<Vec<f64>> {
    let d = RepData {
        replication: 0,
        seed: r.seed,
        metrics: vec![],
        daily: r.daily,
        active_by_day: r.active_by_day,
        detail_files: vec![],
        episode: r.episode,
        own_plans: r.own_plans,
    };
    keys.iter().map(|k| series::daily(s, &d, k)).collect()
}

/// A test hook: `CPSIM_STOP_AFTER_GENERATION=K` stops the run once generation K (1-based) is
/// saved, as a kill would, to check that resuming gives the bytes of an uninterrupted run.
fn stop_after() -> Option<u32> {
    std::env::var("CPSIM_STOP_AFTER_GENERATION").ok()?.parse().ok()
}

/// The generation and batch to simulate next, or `None` when the calibration is over: every
/// generation done, or the run budget reached (then `st.ended` says so and a part-filled
/// generation is dropped, as a run without shards drops it).
pub fn next_batch(cal: &Calibration, st: &mut State) -> Option<(u32, u32)> {
    let cfg = &cal.config;
    if st.ended.is_some() || st.generations.len() >= cfg.generations as usize {
        return None;
    }
    let g = st.generations.len() as u32;
    let (batch, spent) =
        st.pending.as_ref().filter(|p| p.generation == g).map_or((0, 0), |p| (p.batches, p.simulations));
    if st.simulations + spent + u64::from(cfg.particles) > cfg.max_simulations {
        st.ended = Some(format!(
            "the run budget: generation {g} would need more than max_simulations = {}",
            cfg.max_simulations
        ));
        st.pending = None;
        return None;
    }
    Some((g, batch))
}

/// Simulates batch `batch` of generation `g` (proposals `batch * particles ..` of the next
/// `particles`), or only the proposals shard `shard` owns. Each entry is (proposal index, the
/// particle, or `None` for a proposal that never landed inside the prior's box), by index.
/// Everything is drawn from streams of (seed, generation, index) and the previous generation,
/// so any split of the indices gives the same particles.
pub fn simulate_batch(
    cal: &Calibration,
    st: &State,
    g: u32,
    batch: u32,
    shard: Option<crate::study::shard::ShardSpec>,
) -> Result<Vec<(u32, Option<Particle>)>, ScenarioError> {
    let n = cal.config.particles;
    let bounds = cal.bounds();
    let targets = cal.targets();
    let weights: Vec<f64> = cal.fit.iter().map(|(_, w)| *w).collect();
    let prev = g.checked_sub(1).and_then(|p| st.generations.get(p as usize));
    let kernel = prev.map(|p| abc::Kernel::from_particles(&p.thetas(), &p.weights()));
    let (prev_x, prev_w) = prev.map(|p| (p.thetas(), p.weights())).unwrap_or_default();
    let first = batch * n;
    let indices: Vec<u32> = (first..first + n).filter(|i| shard.map_or(true, |s| s.owns(*i as usize))).collect();
    indices
        .into_par_iter()
        .map(|i| {
            let prev = kernel.as_ref().map(|k| (prev_x.as_slice(), prev_w.as_slice(), k));
            let Some((theta, _)) = abc::propose(cal.seed, g, i, &bounds, prev) else { return Ok((i, None)) };
            let seed = rng::particle_seed(cal.seed, g, i);
            let series = cal.simulate(&theta, seed)?;
            let fitted: Vec<Vec<f64>> = cal.fit.iter().map(|(k, _)| series[*k].clone()).collect();
            let distance = abc::distance(&fitted, &targets, &weights);
            Ok((i, Some(Particle { index: i, theta, weight: 1.0, distance, seed, series })))
        })
        .collect()
}

/// Takes a whole batch's results (every proposal of batch `batch` of generation `g`, by index)
/// into the state: particles within the tolerance are accepted in index order until the
/// generation has `particles`; then its importance weights are computed and the generation is
/// appended (`true`), else it stays pending for the next batch (`false`).
pub fn absorb(cal: &Calibration, st: &mut State, g: u32, batch: u32, results: Vec<(u32, Option<Particle>)>) -> bool {
    let n = cal.config.particles as usize;
    let prev = g.checked_sub(1).and_then(|p| st.generations.get(p as usize));
    let tolerance = prev.map(|p| abc::weighted_quantile(&p.distances(), &p.weights(), cal.config.quantile));
    let kernel = prev.map(|p| abc::Kernel::from_particles(&p.thetas(), &p.weights()));
    let (prev_x, prev_w) = prev.map(|p| (p.thetas(), p.weights())).unwrap_or_default();
    let mut p = st.pending.take().filter(|p| p.generation == g && p.batches == batch).unwrap_or(Pending {
        generation: g,
        batches: batch,
        simulations: 0,
        accepted: Vec::with_capacity(n),
    });
    p.simulations += results.iter().filter(|r| r.1.is_some()).count() as u64;
    for (_, particle) in results {
        let Some(particle) = particle else { continue };
        if p.accepted.len() < n && tolerance.map_or(true, |eps| particle.distance <= eps) {
            p.accepted.push(particle);
        }
    }
    p.batches += 1;
    if p.accepted.len() < n {
        st.pending = Some(p);
        return false;
    }
    let mut accepted = p.accepted;
    if let Some(k) = &kernel {
        let xs: Vec<Vec<f64>> = accepted.iter().map(|p| p.theta.clone()).collect();
        for (p, w) in accepted.iter_mut().zip(abc::weights(&xs, &prev_x, &prev_w, k)) {
            p.weight = w;
        }
    } else {
        accepted.iter_mut().for_each(|p| p.weight = 1.0 / n as f64);
    }
    st.simulations += p.simulations;
    st.generations.push(Generation { tolerance, simulations: p.simulations, particles: accepted });
    true
}

/// The error of a calibration whose budget did not cover one generation.
pub fn check_started(cal: &Calibration, st: &State) -> Result<(), CalibrateError> {
    if st.generations.is_empty() {
        return Err(CalibrateError::Usage(format!(
            "calibrate.max_simulations = {} does not cover one generation of {} particles",
            cal.config.max_simulations, cal.config.particles
        )));
    }
    Ok(())
}

/// Runs (or resumes from `state_path`) the calibration; saves the state after each generation.
/// `progress` sees (generation, simulations so far).
pub fn run(
    cal: &Calibration,
    state_path: &Path,
    stop: &AtomicBool,
    progress: &(dyn Fn(u32, u64) + Sync),
) -> Result<State, CalibrateError> {
    let mut st = state::load(state_path, &cal.hash).unwrap_or_else(|| State::new(&cal.hash));
    while let Some((g, batch)) = next_batch(cal, &mut st) {
        if stop.load(Ordering::SeqCst) {
            return Err(CalibrateError::Interrupted(g));
        }
        let results = simulate_batch(cal, &st, g, batch, None)?;
        if !absorb(cal, &mut st, g, batch, results) {
            continue;
        }
        state::save(state_path, &st)?;
        progress(g, st.simulations);
        if stop_after() == Some(g + 1) && st.generations.len() < cal.config.generations as usize {
            return Err(CalibrateError::Interrupted(g + 1));
        }
    }
    check_started(cal, &st)?;
    Ok(st)
}
