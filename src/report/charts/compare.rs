//! Comparison of several scenario folders (`cpsim run A.toml B.toml ...`): each scenario after
//! the first against the first, from their saved `replications.csv`, paired when both runs share
//! their replication seeds, drawn in the one comparison design of [`super::paired`].

use std::path::Path;

use super::data::ScenarioSummary;
use super::paired::{self, Change, Series};
use super::ChartError;
use crate::model::metrics::t975;
use crate::report::labels;

/// Short label of scenario `i` in tables and chart titles.
pub fn short_label(i: usize) -> String {
    format!("S{}", i + 1)
}

/// A folder's `replications.csv`: the seed column and, per metric, its values by replication.
struct Reps {
    seeds: Vec<String>,
    metrics: Vec<(String, Vec<f64>)>,
}

fn read_reps(dir: &Path) -> Result<Reps, ChartError> {
    let path = dir.join("replications.csv");
    if !path.is_file() {
        return Err(ChartError::MissingFile { path });
    }
    let bad = |line: u64, message: String| ChartError::BadRow { path: path.clone(), line, message };
    let mut r = csv::Reader::from_path(&path).map_err(|e| bad(1, e.to_string()))?;
    let header: Vec<String> = r.headers().map_err(|e| bad(1, e.to_string()))?.iter().map(str::to_owned).collect();
    let seed = header.iter().position(|h| h == "seed");
    let first_metric = header.iter().position(|h| h == "gmv").unwrap_or(header.len());
    let mut out =
        Reps { seeds: Vec::new(), metrics: header[first_metric..].iter().map(|h| (h.clone(), Vec::new())).collect() };
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(i as u64 + 2, e.to_string()))?;
        out.seeds.push(seed.and_then(|s| rec.get(s)).unwrap_or("").to_string());
        for (k, (_, vals)) in out.metrics.iter_mut().enumerate() {
            // An empty cell is a metric undefined in that replication (a share of nothing).
            vals.push(rec.get(first_metric + k).and_then(|c| c.parse::<f64>().ok()).unwrap_or(f64::NAN));
        }
    }
    Ok(out)
}

/// The changes of `b` from `a`, in display order: from their `replications.csv`, paired when
/// the folders' replication seeds are the same list; from their summaries, unpaired, when a
/// folder has no `replications.csv` (the sd recovered from the interval of the mean).
pub fn changes(a: &ScenarioSummary, b: &ScenarioSummary) -> Result<Vec<Change>, ChartError> {
    if a.dir.join("replications.csv").is_file() && b.dir.join("replications.csv").is_file() {
        return Ok(paired::ordered(&series(a, b)?));
    }
    let stats = |s: &ScenarioSummary, m: &str| -> Option<(f64, f64, usize)> {
        let r = s.metric(m)?;
        let n = s.manifest.replications as usize;
        let sd = if n >= 2 { (r.hi - r.lo) / 2.0 * (n as f64).sqrt() / t975(n - 1) } else { 0.0 };
        r.mean.is_finite().then_some((r.mean, if sd.is_finite() { sd } else { 0.0 }, n.max(1)))
    };
    let mut out = Vec::new();
    for l in labels::TABLE {
        let (Some(sa), Some(sb)) = (stats(a, l.name), stats(b, l.name)) else { continue };
        out.push(paired::change_from_stats(l.name, l.unit, l.group.title(), sa, sb));
    }
    out.sort_by_key(|c| labels::info(&c.metric).map(|l| l.group));
    Ok(out)
}

/// The series of `b` against `a`: every labelled metric both folders hold, paired when the
/// folders' replication seeds are the same list.
pub fn series(a: &ScenarioSummary, b: &ScenarioSummary) -> Result<Vec<Series>, ChartError> {
    let (ra, rb) = (read_reps(&a.dir)?, read_reps(&b.dir)?);
    let paired = !ra.seeds.is_empty() && ra.seeds == rb.seeds && ra.seeds.iter().all(|s| !s.is_empty());
    let mut out = Vec::new();
    for (metric, av) in &ra.metrics {
        let Some((_, bv)) = rb.metrics.iter().find(|(m, _)| m == metric) else { continue };
        let (Some(group), Some(l)) = (paired::group_of(metric), labels::info(metric)) else { continue };
        let (a, b): (Vec<f64>, Vec<f64>) = if paired {
            av.iter().zip(bv).filter(|(x, y)| x.is_finite() && y.is_finite()).map(|(x, y)| (*x, *y)).unzip()
        } else {
            (
                av.iter().copied().filter(|x| x.is_finite()).collect(),
                bv.iter().copied().filter(|x| x.is_finite()).collect(),
            )
        };
        if a.is_empty() || b.is_empty() {
            continue;
        }
        out.push(Series { metric: metric.clone(), unit: l.unit, group: group.to_string(), a, b, paired });
    }
    Ok(out)
}
