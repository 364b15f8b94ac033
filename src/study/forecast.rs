//! Forecasts (`cpsim forecast`): posterior draws of a calibration run forward past the observed
//! window under each decision of the `[forecast]` table, every decision on the same draws and
//! seeds (common random numbers), so the difference of two decisions is paired.
//!
//! ```toml
//! [forecast]
//! days = 30      # past the last observed day
//! draws = 50     # posterior draws (weighted resampling of the particles)
//! [[forecast.decisions]]
//! name = "as calibrated"
//! [[forecast.decisions]]
//! name = "commission 70%"
//! set = { "categories.short_drama.commission_min" = 0.7 }
//! ```
//! A decision takes effect on the first day past the observed data (`model::switch`): every
//! draw runs the observed window as calibrated, so each decision's fan starts from the same
//! market. `from = "start"` makes a decision hold for the whole run instead, burn-in included
//! (what the market would be had it always been so).

use crate::base::rng::{self, Kind};
use crate::model::metrics::stat;
use crate::model::series::SeriesKey;
use crate::model::switch;
use crate::report::calibrate::Band;
use crate::report::forecast::{ForecastReport, ForecastSeries, PairedRow, TotalRow};
use crate::scenario::{self, schema, Problem, Scenario, ScenarioError};
use crate::study::calibrate::observed::{self, Observed};
use crate::study::calibrate::outputs::band;
use crate::study::calibrate::{run_series, scenario_of, series_of, with_values, CalibrateError};
use crate::study::sweep::set_path;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

pub struct Decision {
    pub name: String,
    pub set: Vec<(String, Value)>,
    /// The decision holds for the whole run (`from = "start"`) rather than from the first
    /// forecast day.
    pub from_start: bool,
}

/// A forecast ready to run.
pub struct Forecast {
    pub stem: String,
    pub dir: PathBuf,
    pub file: PathBuf,
    pub doc: Table,
    pub base: Scenario,
    pub keys: Vec<String>,
    /// The chosen posterior draws: (particle index in posterior.csv, its natural values).
    pub draws: Vec<(usize, Vec<f64>)>,
    pub observed: Observed,
    pub days_ahead: u32,
    pub decisions: Vec<Decision>,
    pub seed: u64,
}

/// Each draw's series under each decision: `runs[draw][decision][series][day]`.
pub type Runs = Vec<Vec<Vec<Vec<f64>>>>;

fn bad(path: &Path, text: &str, key: &str, message: String) -> CalibrateError {
    let line = schema::locate(text, key);
    ScenarioError::Invalid { path: path.to_owned(), problems: vec![Problem { key: key.into(), message, line }] }.into()
}

/// Reads a calibration folder: `calibrated.toml` (with its `[forecast]` table), `posterior.csv`
/// and `observed.csv`.
pub fn load(dir: &Path, days: Option<u32>, draws: Option<u32>) -> Result<Forecast, CalibrateError> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let Some(stem) = name.strip_prefix("calibrate-").map(str::to_owned) else {
        return Err(CalibrateError::Usage(format!("{}: not a calibration folder (calibrate-<stem>)", dir.display())));
    };
    let file = dir.join("calibrated.toml");
    let text = std::fs::read_to_string(&file).map_err(|source| ScenarioError::Read { path: file.clone(), source })?;
    let raw = scenario::parse_raw(&text).map_err(|e| e.at(&file))?;
    let base = scenario::parse(&text, &stem).map_err(|e| e.at(&file))?;
    let mut doc: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ScenarioError::Syntax { path: file.clone(), message: e.to_string() })?;
    doc.remove("forecast");
    let table = raw.forecast.unwrap_or_default();
    if let Some(k) = table.keys().find(|k| !["days", "draws", "decisions"].contains(&k.as_str())) {
        return Err(bad(
            &file,
            &text,
            &format!("forecast.{k}"),
            "unknown key; [forecast] takes days, draws, decisions".into(),
        ));
    }
    let whole = |key: &str, default: i64| -> Result<u32, CalibrateError> {
        match table.get(key) {
            None => Ok(default as u32),
            Some(Value::Integer(n)) if (1..=3650).contains(n) => Ok(*n as u32),
            Some(v) => Err(bad(
                &file,
                &text,
                &format!("forecast.{key}"),
                format!("must be a whole number from 1 to 3650, got {v}"),
            )),
        }
    };
    let days_ahead = days.map_or_else(|| whole("days", 30), Ok)?;
    let n_draws = draws.map_or_else(|| whole("draws", 50), Ok)?;
    if days_ahead == 0 || n_draws == 0 {
        return Err(CalibrateError::Usage("--days and --draws must be at least 1".into()));
    }
    let mut decisions = Vec::new();
    match table.get("decisions") {
        None => decisions.push(Decision { name: "as calibrated".into(), set: vec![], from_start: false }),
        Some(Value::Array(list)) if !list.is_empty() => {
            for (i, d) in list.iter().enumerate() {
                let at = format!("forecast.decisions[{i}]");
                let Value::Table(t) = d else {
                    return Err(bad(&file, &text, &at, "must be a table { name, set }".into()));
                };
                let name = match t.get("name") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    _ => return Err(bad(&file, &text, &at, "needs a `name`".into())),
                };
                let set = match t.get("set") {
                    None => vec![],
                    Some(Value::Table(s)) => s.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    Some(v) => {
                        return Err(bad(
                            &file,
                            &text,
                            &format!("{at}.set"),
                            format!("must be a table of key = value, got {v}"),
                        ))
                    }
                };
                let from_start = match t.get("from") {
                    None => false,
                    Some(Value::String(f)) if f == "forecast" => false,
                    Some(Value::String(f)) if f == "start" => true,
                    Some(v) => {
                        return Err(bad(
                            &file,
                            &text,
                            &format!("{at}.from"),
                            format!("must be \"forecast\" (the first day past the data, the default) or \"start\" (the whole run), got {v}"),
                        ))
                    }
                };
                if let Some(k) = t.keys().find(|k| !["name", "set", "from"].contains(&k.as_str())) {
                    return Err(bad(
                        &file,
                        &text,
                        &format!("{at}.{k}"),
                        "unknown key; a decision takes name, set and from".into(),
                    ));
                }
                if decisions.iter().any(|x: &Decision| x.name == name) {
                    return Err(bad(&file, &text, &format!("{at}.name"), format!("two decisions are named `{name}`")));
                }
                decisions.push(Decision { name, set, from_start });
            }
        }
        Some(v) => return Err(bad(&file, &text, "forecast.decisions", format!("must be a list of tables, got {v}"))),
    }
    // Every decision must give a valid scenario before anything runs, and one that can take
    // over mid-run unless it holds from the start.
    for (i, d) in decisions.iter().enumerate() {
        let mut t = doc.clone();
        for (k, v) in &d.set {
            set_path(&mut t, k, v.clone()).map_err(|m| bad(&file, &text, "forecast.decisions", m))?;
        }
        let after = scenario_of(&t, &stem, &file, &format!("forecast decision `{}`", d.name))?;
        if let Some((key, what)) =
            (!d.from_start).then(|| switch::problems(&base, &after)).and_then(|p| p.into_iter().next())
        {
            let message = format!(
                "sets {key}, which {what}: a decision from the first forecast day cannot change it (the \
                 market is built with it); give the decision from = \"start\" to hold it for the whole run"
            );
            return Err(bad(&file, &text, &format!("forecast.decisions[{i}]"), message));
        }
    }
    let (keys, particles) = read_posterior(&dir.join("posterior.csv"))?;
    let obs_file = dir.join("observed.csv");
    let observed = observed::read(&obs_file, &Scenario { days: 3650, ..base.clone() })?;
    let seed = base.seed;
    let weights: Vec<f64> = particles.iter().map(|p| p.0).collect();
    let mut r = rng::stream(seed, Kind::Forecast, 0, 0);
    let draws = (0..n_draws)
        .map(|_| {
            let j = rng::pick_weighted(&mut r, &weights);
            (j, particles[j].1.clone())
        })
        .collect();
    Ok(Forecast { stem, dir: dir.to_owned(), file, doc, base, keys, draws, observed, days_ahead, decisions, seed })
}

/// (keys, [(weight, values)]) of a posterior.csv.
#[allow(clippy::type_complexity)]
fn read_posterior(path: &Path) -> Result<(Vec<String>, Vec<(f64, Vec<f64>)>), CalibrateError> {
    let bad = |line: usize, column: usize, message: String| observed::ObservedError::Bad {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|source| observed::ObservedError::Read { path: path.to_owned(), source })?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    if head.len() < 5 || head[..4] != ["particle", "seed", "weight", "distance"] {
        return Err(bad(1, 1, "not a posterior.csv (particle,seed,weight,distance,<parameters>)".into()).into());
    }
    let keys = head[4..].iter().map(|s| s.to_string()).collect();
    let mut rows = Vec::new();
    for (i, l) in lines.enumerate() {
        let cells: Vec<f64> = l
            .split(',')
            .map(|c| c.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| bad(i + 2, 1, e.to_string()))?;
        if cells.len() != head.len() || cells[2].is_nan() || cells[2] < 0.0 {
            return Err(bad(i + 2, 1, "a row needs a number >= 0 in every column".into()).into());
        }
        rows.push((cells[2], cells[4..].to_vec()));
    }
    if rows.is_empty() {
        return Err(bad(1, 1, "no particles".into()).into());
    }
    Ok((keys, rows))
}

impl Forecast {
    pub fn days_total(&self) -> u32 {
        self.observed.horizon_days() + self.days_ahead
    }

    /// The scenario of draw `i` under decision `d` (`None`: as calibrated): its seed is the
    /// draw's alone, shared by every decision.
    fn scenario(&self, i: usize, d: Option<usize>) -> Result<Scenario, ScenarioError> {
        let mut t = with_values(&self.doc, &self.keys, &self.draws[i].1).map_err(|m| ScenarioError::Invalid {
            path: self.file.clone(),
            problems: vec![Problem { key: String::new(), message: m, line: None }],
        })?;
        let name = d.map_or("as calibrated", |d| self.decisions[d].name.as_str());
        for (k, v) in d.map_or(&[][..], |d| &self.decisions[d].set) {
            let _ = set_path(&mut t, k, v.clone());
        }
        let mut s = scenario_of(&t, &self.stem, &self.file, &format!("forecast draw {i}, decision `{name}`"))?;
        s.days = self.days_total();
        s.seed = rng::particle_seed(self.seed, u32::MAX, i as u32);
        s.replications = 1;
        Ok(s)
    }

    /// Draw `i` under decision `d`: the observed window as calibrated, then the decision (or
    /// the decision throughout, `from = "start"`).
    fn series(&self, i: usize, d: usize) -> Result<Vec<Vec<f64>>, ScenarioError> {
        let dec = &self.decisions[d];
        let after = self.scenario(i, Some(d))?;
        if dec.from_start || dec.set.is_empty() {
            return Ok(run_series(&after, &self.observed.keys));
        }
        let before = self.scenario(i, None)?;
        let from_day = self.observed.horizon_days();
        let r = crate::model::sim::run_replication_switched(&before, &after, from_day, 0);
        Ok(series_of(&after, r, &self.observed.keys))
    }
}

/// Runs every (draw, decision) in parallel; the result does not depend on the thread count.
pub fn run(f: &Forecast) -> Result<Runs, ScenarioError> {
    let nd = f.decisions.len();
    let flat: Vec<Vec<Vec<f64>>> = (0..f.draws.len() * nd)
        .into_par_iter()
        .map(|u| f.series(u / nd, u % nd))
        .collect::<Result<_, ScenarioError>>()?;
    let mut it = flat.into_iter();
    Ok((0..f.draws.len()).map(|_| it.by_ref().take(nd).collect()).collect())
}

fn is_money(k: &SeriesKey) -> bool {
    k.flow.is_money()
}

/// The report: bands per series and decision, totals over the forecast window, and each
/// decision's paired difference from the first.
pub fn report(f: &Forecast, runs: &Runs) -> ForecastReport {
    let total = f.days_total() as usize;
    let start = f.observed.horizon_days() as usize;
    let n = runs.len();
    let w = vec![1.0; n];
    let dates: Vec<String> = (0..total).map(|d| f.base.date(d as u32).to_string()).collect();
    let window = |v: &[f64]| v[start..total].iter().sum::<f64>();
    let mut series = Vec::new();
    let mut totals = Vec::new();
    let mut paired = Vec::new();
    for (k, name) in f.observed.names.iter().enumerate() {
        let mut observed = vec![None; total];
        for (d, v) in f.observed.days.iter().zip(&f.observed.values[k]) {
            observed[*d as usize] = *v;
        }
        let fans: Vec<Vec<Band>> = (0..f.decisions.len())
            .map(|j| (0..total).map(|d| band(&runs.iter().map(|r| r[j][k][d]).collect::<Vec<_>>(), &w)).collect())
            .collect();
        for (j, dec) in f.decisions.iter().enumerate() {
            let sums: Vec<f64> = runs.iter().map(|r| window(&r[j][k])).collect();
            let b = band(&sums, &w);
            totals.push(TotalRow {
                series: name.clone(),
                decision: dec.name.clone(),
                median: b[2],
                lo: b[0],
                hi: b[4],
            });
            if j > 0 {
                let diffs: Vec<f64> = runs.iter().map(|r| window(&r[j][k]) - window(&r[0][k])).collect();
                let b = band(&diffs, &w);
                let st = stat(&diffs);
                paired.push(PairedRow {
                    series: name.clone(),
                    decision: dec.name.clone(),
                    reference: f.decisions[0].name.clone(),
                    mean: st.mean,
                    mean_lo: st.lo,
                    mean_hi: st.hi,
                    lo: b[0],
                    hi: b[4],
                });
            }
        }
        series.push(ForecastSeries { name: name.clone(), money: is_money(&f.observed.keys[k]), observed, fans });
    }
    ForecastReport {
        scenario: f.base.name.clone(),
        calibration: f.dir.display().to_string(),
        seed: f.seed,
        draws: n as u32,
        days_observed: start as u32,
        days_ahead: f.days_ahead,
        dates,
        decisions: f.decisions.iter().map(|d| d.name.clone()).collect(),
        series,
        totals,
        paired,
    }
}

/// The terminal summary: each decision's forecast-window total and the paired differences.
pub fn table(r: &ForecastReport) -> String {
    let mut out =
        format!("forecast of days {} to {} ({} draws)\n", r.days_observed, r.days_observed + r.days_ahead - 1, r.draws);
    for t in &r.totals {
        let _ = writeln!(
            out,
            "{:<36} {:<24} median {:>16.2}  90% {:>14.2} to {:>14.2}",
            t.series, t.decision, t.median, t.lo, t.hi
        );
    }
    for p in &r.paired {
        let _ = writeln!(
            out,
            "{:<36} {} - {}: mean {:.2} (95% CI of the mean {:.2} to {:.2}; 90% of draws {:.2} to {:.2})",
            p.series, p.decision, p.reference, p.mean, p.mean_lo, p.mean_hi, p.lo, p.hi
        );
    }
    out
}
