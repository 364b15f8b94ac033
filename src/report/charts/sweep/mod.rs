//! Sweep charts: headline metrics against each swept parameter, a heat map over a
//! two-parameter grid, and a self-contained `sweep.html`, all from a sweep's `sweep.csv`.
//!
//! Parameters that move together across variants (a `zip` sweep of several keys) are one
//! chart axis: `sweep_1.png` is drawn against the first of them and names the others.
//! Numeric parameters are x values; text parameters are categories (points with 95%
//! intervals instead of lines and bands).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::data::{csv_err, io_err};
use super::html::{base64_encode, escape_html, fmt_value};
use super::{ensure_font, ChartError};

mod heatmap;
mod lines;
mod page;

use heatmap::draw_heatmap;
use lines::{draw_lines, param_title};
use page::write_page;

/// Size of each `sweep_<n>.png` (a header and a 2x2 grid of panels).
pub const SWEEP_SIZE: (u32, u32) = (1200, 900);

/// Size of `sweep_heatmap.png`.
pub const HEATMAP_SIZE: (u32, u32) = (1200, 800);

/// At most this many lines (values of the other parameters) per panel; with more, the
/// variants are drawn as points.
pub const MAX_LINES: usize = 6;

/// Metrics of the market's line-chart panels: (column stem, panel title, unit).
const PANELS: [(&str, &str, &str); 4] = [
    ("gmv", "GMV", "RMB"),
    ("operator_net", "Operator net", "RMB"),
    ("creators_paid", "Creators paid", "count"),
    ("commission_settled", "Commission settled", "RMB"),
];

/// Metrics of an own plan's line-chart panels (columns `plans.<name>.<stem>`): what the
/// strategist decides by first, their operator net.
const OWN_PANELS: [(&str, &str, &str); 4] = [
    ("operator_net", "Operator net", "RMB"),
    ("clips", "Clips", "count"),
    ("gmv", "GMV", "RMB"),
    ("commission_settled", "Commission settled", "RMB"),
];

/// Metrics of the heat-map panels (the market's, and an own plan's).
const HEAT_PANELS: [(&str, &str, &str); 2] = [("gmv", "GMV", "RMB"), ("operator_net", "Operator net", "RMB")];
const OWN_HEAT_PANELS: [(&str, &str, &str); 2] = [("operator_net", "Operator net", "RMB"), ("clips", "Clips", "count")];

/// One panel of a chart: the sweep.csv column stem, its title and unit.
#[derive(Debug, Clone)]
struct Panel {
    metric: String,
    title: String,
    unit: &'static str,
}

/// Whose metrics a chart shows: the market's headline, or own plan `k` of [`Sweep::own_plans`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Subject {
    Market,
    Own(usize),
}

impl Subject {
    fn panels(self, s: &Sweep, table: &[(&str, &str, &'static str)]) -> Vec<Panel> {
        table
            .iter()
            .map(|&(m, title, unit)| match self {
                Subject::Market => Panel { metric: m.to_string(), title: title.to_string(), unit },
                Subject::Own(k) => {
                    Panel { metric: format!("plans.{}.{m}", s.own_plans[k]), title: title.to_string(), unit }
                }
            })
            .collect()
    }

    /// The line-chart panels of this subject.
    fn line_panels(self, s: &Sweep) -> Vec<Panel> {
        self.panels(s, if self == Subject::Market { &PANELS } else { &OWN_PANELS })
    }

    /// The heat-map panels of this subject.
    fn heat_panels(self, s: &Sweep) -> Vec<Panel> {
        self.panels(s, if self == Subject::Market { &HEAT_PANELS } else { &OWN_HEAT_PANELS })
    }

    /// Put before a chart's title: the own plan's name, nothing for the market.
    fn prefix(self, s: &Sweep) -> String {
        match self {
            Subject::Market => String::new(),
            Subject::Own(k) => format!("Own plan {}: ", s.own_plans[k]),
        }
    }

    /// The file name's suffix (`sweep_1_own_2.png`).
    fn suffix(self) -> String {
        match self {
            Subject::Market => String::new(),
            Subject::Own(k) => format!("_own_{}", k + 1),
        }
    }
}

/// One chart file of a sweep and what it shows.
#[derive(Debug, Clone)]
struct ChartJob {
    path: PathBuf,
    subject: Subject,
    /// The line plan (index into the plans), or `None` for the heat map.
    plan: Option<usize>,
}

/// A swept key path as a reader meets it on an axis: the schema's meaning and unit, then the key
/// (`Maximum commission rate, rate: categories.short_drama.commission_max`); the key alone when the
/// schema does not know it.
pub(super) fn axis_name(key: &str) -> String {
    match crate::scenario::schema::describe(key) {
        Some((doc, unit)) => {
            let cut = doc.find(['.', ';', '(']).map_or(doc, |i| &doc[..i]).trim();
            let meaning = super::draw::truncate(cut, 60);
            if unit.is_empty() || unit == "-" {
                format!("{meaning}: {key}")
            } else {
                format!("{meaning} ({unit}): {key}")
            }
        }
        None => key.to_string(),
    }
}

/// Metrics of the HTML table.
const TABLE: [(&str, &str, &str); 6] = [
    ("gmv", "GMV", "RMB"),
    ("commission_settled", "Commission settled", "RMB"),
    ("operator_net", "Operator net", "RMB"),
    ("creators_paid", "Creators paid", "count"),
    ("active_creators", "Active creators", "count"),
    ("payout_gini", "Payout Gini", "share"),
];

/// One estimate: mean and 95% interval (NaN where unknown).
#[derive(Debug, Clone, Copy)]
struct Est {
    mean: f64,
    lo: f64,
    hi: f64,
}

const MISSING: Est = Est { mean: f64::NAN, lo: f64::NAN, hi: f64::NAN };

/// One swept parameter: its value in each variant and its distinct values (levels).
#[derive(Debug, Clone)]
struct Param {
    key: String,
    /// Whether every value is a finite number.
    numeric: bool,
    /// Distinct values: ascending for numbers, in order of appearance for text.
    levels: Vec<String>,
    /// Index into `levels` of each variant's value.
    level_of: Vec<usize>,
}

impl Param {
    fn new(key: String, raw: Vec<String>) -> Self {
        let numeric = !raw.is_empty() && raw.iter().all(|s| s.parse::<f64>().is_ok_and(f64::is_finite));
        let mut levels: Vec<String> = Vec::new();
        for s in &raw {
            if !levels.contains(s) {
                levels.push(s.clone());
            }
        }
        if numeric {
            levels.sort_by(|a, b| num(a).total_cmp(&num(b)).then_with(|| a.cmp(b)));
        }
        let level_of = raw.iter().map(|s| levels.iter().position(|l| l == s).unwrap_or(0)).collect();
        Param { key, numeric, levels, level_of }
    }

    /// Position of level `l` on an x axis: its value for numbers, its index for text.
    fn x_of_level(&self, l: usize) -> f64 {
        if self.numeric {
            self.levels.get(l).map_or(f64::NAN, |s| num(s))
        } else {
            l as f64
        }
    }

    /// Short display of level `l` (numbers with at most 6 significant digits).
    fn label(&self, l: usize) -> String {
        let s = self.levels.get(l).map_or("", String::as_str);
        if self.numeric {
            short_num(num(s), s)
        } else {
            s.to_string()
        }
    }
}

fn num(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(f64::NAN)
}

/// A number as written, or with at most 6 significant digits when the text is longer.
fn short_num(v: f64, raw: &str) -> String {
    if raw.len() <= 8 || !v.is_finite() {
        return raw.to_string();
    }
    if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e9) {
        return format!("{v:.3e}");
    }
    let decimals = (5 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The last segment of a key path: `categories.mini_game.fee_douyin` → `fee_douyin`.
fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// The contents of a sweep folder that the charts use.
#[derive(Debug, Clone)]
struct Sweep {
    dir: PathBuf,
    name: String,
    replications: Option<u64>,
    variants: Vec<String>,
    params: Vec<Param>,
    /// (metric stem, estimate per variant) in sweep.csv column order.
    metrics: Vec<(String, Vec<Est>)>,
    /// The own plans' names, from the `plans.<name>.operator_net` columns, in column order.
    own_plans: Vec<String>,
}

impl Sweep {
    fn load(dir: &Path) -> Result<Self, ChartError> {
        let path = dir.join("sweep.csv");
        let file = std::fs::File::open(&path).map_err(|e| io_err(&path, e))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(file);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_err(&path, &e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let variant_col = headers
            .iter()
            .position(|h| h == "variant")
            .ok_or_else(|| ChartError::MissingColumn { path: path.clone(), column: "variant".to_string() })?;
        // Parameters run from after `variant` to the first `<m>_mean` followed by `<m>_ci95_low`.
        let first_metric = (variant_col + 1..headers.len())
            .find(|&i| {
                headers[i].strip_suffix("_mean").is_some_and(|m| headers.get(i + 1) == Some(&format!("{m}_ci95_low")))
            })
            .unwrap_or(headers.len());
        let param_cols: Vec<usize> = (variant_col + 1..first_metric).collect();
        let mut metric_cols: Vec<(String, usize, Option<usize>, Option<usize>)> = Vec::new();
        for i in first_metric..headers.len() {
            if let Some(m) = headers[i].strip_suffix("_mean") {
                let find = |suffix: &str| headers.iter().position(|h| *h == format!("{m}{suffix}"));
                metric_cols.push((m.to_string(), i, find("_ci95_low"), find("_ci95_high")));
            }
        }

        let mut variants = Vec::new();
        let mut raw: Vec<Vec<String>> = vec![Vec::new(); param_cols.len()];
        let mut ests: Vec<Vec<Est>> = vec![Vec::new(); metric_cols.len()];
        let mut rec = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(csv_err(&path, &e)),
            }
            let line = rec.position().map_or(0, |p| p.line());
            let field = |i: usize| rec.get(i).unwrap_or("");
            let number = |i: Option<usize>, name: &str| -> Result<f64, ChartError> {
                let s = i.map_or("", field);
                if s.is_empty() {
                    return Ok(f64::NAN);
                }
                s.parse::<f64>().map_err(|_| ChartError::BadRow {
                    path: path.clone(),
                    line,
                    message: format!("column `{name}`: `{s}` is not a number"),
                })
            };
            variants.push(field(variant_col).to_string());
            for (k, &c) in param_cols.iter().enumerate() {
                raw[k].push(field(c).to_string());
            }
            for (k, (m, mean, lo, hi)) in metric_cols.iter().enumerate() {
                ests[k].push(Est {
                    mean: number(Some(*mean), &format!("{m}_mean"))?,
                    lo: number(*lo, &format!("{m}_ci95_low"))?,
                    hi: number(*hi, &format!("{m}_ci95_high"))?,
                });
            }
        }
        let params = param_cols.iter().zip(raw).map(|(&c, r)| Param::new(headers[c].clone(), r)).collect();
        let metrics: Vec<(String, Vec<Est>)> = metric_cols.into_iter().map(|(m, ..)| m).zip(ests).collect();
        let own_plans = metrics
            .iter()
            .filter_map(|(m, _)| m.strip_prefix("plans.")?.strip_suffix(".operator_net").map(str::to_string))
            .collect();

        let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let manifest = variants.first().and_then(|v| {
            let bytes = std::fs::read(dir.join(v).join("manifest.json")).ok()?;
            serde_json::from_slice::<serde_json::Value>(&bytes).ok()
        });
        let name = manifest
            .as_ref()
            .and_then(|m| m.get("scenario")?.as_str().map(str::to_string))
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(folder);
        let replications = manifest.as_ref().and_then(|m| m.get("replications")?.as_u64());
        Ok(Sweep { dir: dir.to_path_buf(), name, replications, variants, params, metrics, own_plans })
    }

    /// The estimates of `metric` per variant (all missing when sweep.csv lacks it).
    fn metric(&self, metric: &str) -> Vec<Est> {
        match self.metrics.iter().find(|(m, _)| m == metric) {
            Some((_, v)) => v.clone(),
            None => vec![MISSING; self.variants.len()],
        }
    }

    /// Parameters grouped by the variants they separate: keys that move together (a
    /// zip sweep) are one group. The first member of a group is its axis (the first
    /// numeric one, if any).
    fn groups(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            match groups.iter_mut().find(|g| same_partition(&self.params[g[0]], p)) {
                Some(g) => g.push(i),
                None => groups.push(vec![i]),
            }
        }
        for g in &mut groups {
            if let Some(k) = g.iter().position(|&i| self.params[i].numeric) {
                let first = g.remove(k);
                g.insert(0, first);
            }
        }
        groups
    }
}

/// Whether two parameters split the variants the same way (equal values of one exactly
/// where the other's are equal).
fn same_partition(a: &Param, b: &Param) -> bool {
    if a.levels.len() != b.levels.len() {
        return false;
    }
    let mut map: Vec<Option<usize>> = vec![None; a.levels.len()];
    for (&la, &lb) in a.level_of.iter().zip(&b.level_of) {
        match map[la] {
            None => map[la] = Some(lb),
            Some(m) if m != lb => return false,
            Some(_) => {}
        }
    }
    true
}

/// One line (or set of points) of a panel: the variants sharing the other parameters' values.
#[derive(Debug, Clone)]
struct Line {
    label: String,
    variants: Vec<usize>,
}

/// What one `sweep_<n>.png` shows.
#[derive(Debug, Clone)]
struct LinePlan {
    /// Index of the axis parameter.
    axis: usize,
    /// Parameters that move with the axis.
    linked: Vec<usize>,
    lines: Vec<Line>,
    /// More combinations of the other parameters than [`MAX_LINES`]: points only.
    scatter: bool,
}

fn line_plans(s: &Sweep) -> Vec<LinePlan> {
    let groups = s.groups();
    let varying: Vec<usize> = groups.iter().map(|g| g[0]).filter(|&p| s.params[p].levels.len() > 1).collect();
    groups
        .iter()
        .map(|g| {
            let others: Vec<usize> = varying.iter().copied().filter(|&p| p != g[0]).collect();
            // Variants with the same levels of every other varying parameter form a line.
            let mut combos: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
            for v in 0..s.variants.len() {
                let key: Vec<usize> = others.iter().map(|&p| s.params[p].level_of[v]).collect();
                match combos.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, vs)) => vs.push(v),
                    None => combos.push((key, vec![v])),
                }
            }
            combos.sort_by(|a, b| a.0.cmp(&b.0));
            let scatter = combos.len() > MAX_LINES;
            let lines = if scatter {
                vec![Line { label: String::new(), variants: (0..s.variants.len()).collect() }]
            } else {
                combos
                    .into_iter()
                    .map(|(key, variants)| {
                        let label = others
                            .iter()
                            .zip(&key)
                            .map(|(&p, &l)| format!("{} = {}", short_key(&s.params[p].key), s.params[p].label(l)))
                            .collect::<Vec<_>>()
                            .join(", ");
                        Line { label, variants }
                    })
                    .collect()
            };
            LinePlan { axis: g[0], linked: g[1..].to_vec(), lines, scatter }
        })
        .collect()
}

/// The two parameters of a full grid when exactly two parameter groups vary.
fn heatmap_axes(s: &Sweep) -> Option<(usize, usize)> {
    let varying: Vec<usize> = s.groups().iter().map(|g| g[0]).filter(|&p| s.params[p].levels.len() > 1).collect();
    let [a, b] = varying[..] else { return None };
    let (pa, pb) = (&s.params[a], &s.params[b]);
    let mut seen = vec![false; pa.levels.len() * pb.levels.len()];
    for v in 0..s.variants.len() {
        seen[pa.level_of[v] * pb.levels.len() + pb.level_of[v]] = true;
    }
    seen.iter().all(|&x| x).then_some((a, b))
}

/// Reads `dir/sweep.csv` (and the scenario name from the first variant's
/// `manifest.json`, else the folder name) and writes into `dir/charts/`: one
/// `sweep_<n>.png` per swept parameter (keys that move together count once; `n` from 1
/// in sweep.csv column order), `sweep_heatmap.png` when exactly two parameters vary over
/// a full grid, and `sweep.html` with the table and every chart inline. Returns the
/// written paths, the page last. Sweep charts of an earlier run that this one does not
/// write are removed.
pub fn draw_sweep(dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    ensure_font()?;
    let sweep = Sweep::load(dir)?;
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|source| ChartError::Io { path: charts_dir.clone(), source })?;

    let plans = line_plans(&sweep);
    let heat = heatmap_axes(&sweep);
    // The own plans' charts first: a strategist sweeping their plan reads their own results first.
    let subjects: Vec<Subject> =
        (0..sweep.own_plans.len()).map(Subject::Own).chain(std::iter::once(Subject::Market)).collect();
    let mut jobs: Vec<ChartJob> = Vec::new();
    for &subject in &subjects {
        for i in 0..plans.len() {
            let path = charts_dir.join(format!("sweep_{}{}.png", i + 1, subject.suffix()));
            jobs.push(ChartJob { path, subject, plan: Some(i) });
        }
        if heat.is_some() {
            let path = charts_dir.join(format!("sweep_heatmap{}.png", subject.suffix()));
            jobs.push(ChartJob { path, subject, plan: None });
        }
    }
    let drawn: Vec<Result<PathBuf, ChartError>> = jobs
        .par_iter()
        .map(|job| {
            match (job.plan, heat) {
                (Some(i), _) => draw_lines(&sweep, &plans[i], job.subject, &job.path)?,
                (None, Some((a, b))) => draw_heatmap(&sweep, a, b, job.subject, &job.path)?,
                (None, None) => {}
            }
            Ok(job.path.clone())
        })
        .collect();
    let mut paths = drawn.into_iter().collect::<Result<Vec<_>, _>>()?;
    remove_stale(&charts_dir, &paths)?;

    let page = charts_dir.join("sweep.html");
    write_page(&sweep, &plans, heat, &jobs, &page)?;
    paths.push(page);
    Ok(paths)
}

/// Removes `sweep_<n>.png` and `sweep_heatmap.png` files that are not in `keep`.
fn remove_stale(charts_dir: &Path, keep: &[PathBuf]) -> Result<(), ChartError> {
    let entries = std::fs::read_dir(charts_dir).map_err(|source| ChartError::Io { path: charts_dir.into(), source })?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // sweep_<n>.png, sweep_heatmap.png, and their own-plan forms with `_own_<k>`.
        let ours = name.strip_prefix("sweep_").and_then(|r| r.strip_suffix(".png")).is_some_and(|r| {
            let (head, own) = r.split_once("_own_").unwrap_or((r, "1"));
            let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
            (head == "heatmap" || digits(head)) && digits(own)
        });
        if ours && !keep.contains(&e.path()) {
            std::fs::remove_file(e.path()).map_err(|source| ChartError::Io { path: e.path(), source })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(key: &str, vals: &[&str]) -> Param {
        Param::new(key.to_string(), vals.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn numeric_levels_are_sorted_and_text_keeps_order() {
        let p = param("a", &["0.9", "0.3", "0.6", "0.3"]);
        assert!(p.numeric);
        assert_eq!(p.levels, ["0.3", "0.6", "0.9"]);
        assert_eq!(p.level_of, [2, 0, 1, 0]);
        let q = param("b", &["wechat", "douyin", "wechat"]);
        assert!(!q.numeric);
        assert_eq!(q.levels, ["wechat", "douyin"]);
        assert_eq!(q.x_of_level(1), 1.0);
    }

    #[test]
    fn zipped_keys_share_a_partition() {
        let a = param("a", &["1", "2", "3"]);
        let b = param("b", &["10", "20", "30"]);
        let c = param("c", &["1", "1", "2"]);
        assert!(same_partition(&a, &b));
        assert!(!same_partition(&a, &c));
    }

    #[test]
    fn long_numbers_are_shortened() {
        assert_eq!(short_num(0.30000000000000004, "0.30000000000000004"), "0.3");
        assert_eq!(short_num(0.05, "0.05"), "0.05");
        assert_eq!(short_num(123456789.0, "123456789"), "123456789");
    }
}
