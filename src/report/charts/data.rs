//! Reading a scenario result folder (manifest.json and the CSV files) into memory.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ChartError;

/// Largest day number accepted in the CSV files (about 270 years).
pub const MAX_DAY: usize = 100_000;

/// One category as listed in `manifest.json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Category {
    pub id: String,
    pub name: String,
}

/// The fields of `manifest.json` the charts use; unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Manifest {
    pub cpsim_version: String,
    pub scenario: String,
    pub scenario_file: String,
    pub scenario_hash: String,
    pub seed: serde_json::Value,
    pub replications: u64,
    pub start_date: String,
    pub days: u64,
    pub categories: Vec<Category>,
}

/// One row of `summary.csv`; missing interval bounds are NaN (other columns, such as
/// `sd`, are ignored).
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub metric: String,
    pub unit: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One row of `daily.csv` (means over replications); the interval bounds are NaN when
/// the columns are absent or empty.
#[derive(Debug, Clone)]
pub struct DailyRow {
    pub day: usize,
    pub date: String,
    pub scope: String,
    pub key: String,
    pub gmv: f64,
    pub refunds: f64,
    pub platform_fees: f64,
    pub commission_accrued: f64,
    pub commission_settled: f64,
    pub settled_lo: f64,
    pub settled_hi: f64,
    pub operator_net: f64,
    pub impressions: f64,
    pub fresh_reach: f64,
    pub opens: f64,
    pub payers: f64,
}

/// One row of `plans.csv`; `budget` is `None` for `unlimited`.
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub title: String,
    /// Category id (empty when the column is absent).
    pub category: String,
    pub budget: Option<f64>,
    pub commission: f64,
    pub budget_out_day: Option<usize>,
    /// The day the plan closed at its end date (plans.csv `closed` = `end_day`), else `None`.
    pub ended_day: Option<usize>,
}

/// One row of `plans_daily.csv`: cumulative budget used by a plan at the end of a day.
#[derive(Debug, Clone)]
pub struct PlanDay {
    pub day: usize,
    pub plan: String,
    pub budget_used: f64,
}

/// Manifest and summary of one scenario folder (all that [`super::draw_compare`] needs).
#[derive(Debug, Clone)]
pub struct ScenarioSummary {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub summary: Vec<SummaryRow>,
}

/// Everything [`super::draw_scenario`] reads from a scenario folder.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub head: ScenarioSummary,
    pub daily: Vec<DailyRow>,
    /// Earnings per creator of replication 0, sorted ascending.
    pub earnings: Vec<f64>,
    pub plans: Vec<Plan>,
    pub plans_daily: Vec<PlanDay>,
    /// Detail files (creators.csv, plans.csv, plans_daily.csv) that the run did not
    /// write; their data is then empty.
    pub missing: Vec<&'static str>,
}

impl ScenarioSummary {
    /// Reads `manifest.json` and `summary.csv` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ChartError> {
        Ok(ScenarioSummary {
            dir: dir.to_path_buf(),
            manifest: read_manifest(&dir.join("manifest.json"))?,
            summary: read_summary(&dir.join("summary.csv"))?,
        })
    }

    /// Display name of the scenario (the manifest's, else the folder name).
    pub fn name(&self) -> String {
        if !self.manifest.scenario.trim().is_empty() {
            return self.manifest.scenario.clone();
        }
        self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// The summary row of `metric`, if present.
    pub fn metric(&self, metric: &str) -> Option<&SummaryRow> {
        self.summary.iter().find(|r| r.metric == metric)
    }
}

impl Scenario {
    /// Reads the result files from `dir` (creators.csv in parallel with the rest).
    /// manifest.json, summary.csv and daily.csv are required; the detail files
    /// creators.csv, plans.csv and plans_daily.csv may be absent (listed in `missing`).
    pub fn load(dir: &Path) -> Result<Self, ChartError> {
        let (earnings, rest) = rayon::join(
            || optional(super::creators::read_earnings(&dir.join(CREATORS))),
            || -> Result<_, ChartError> {
                Ok((
                    ScenarioSummary::load(dir)?,
                    read_daily(&dir.join("daily.csv"))?,
                    optional(read_plans(&dir.join(PLANS)))?,
                    optional(read_plans_daily(&dir.join(PLANS_DAILY)))?,
                ))
            },
        );
        let (head, daily, plans, plans_daily) = rest?;
        let earnings = earnings?;
        let missing = [(CREATORS, earnings.1), (PLANS, plans.1), (PLANS_DAILY, plans_daily.1)]
            .into_iter()
            .filter(|(_, gone)| *gone)
            .map(|(name, _)| name)
            .collect();
        Ok(Scenario { head, daily, earnings: earnings.0, plans: plans.0, plans_daily: plans_daily.0, missing })
    }

    /// Display name of category `id` from the manifest (the id itself when unlisted).
    pub fn category_name(&self, id: &str) -> String {
        match self.head.manifest.categories.iter().find(|c| c.id == id) {
            Some(c) if !c.name.trim().is_empty() => c.name.clone(),
            _ => id.to_string(),
        }
    }

    /// Whether the run did not write detail file `name`.
    pub fn is_missing(&self, name: &str) -> bool {
        self.missing.contains(&name)
    }

    pub fn name(&self) -> String {
        self.head.name()
    }

    /// Number of simulated days: the manifest's, or one past the largest day seen.
    pub fn days(&self) -> usize {
        let seen = self.daily.iter().map(|r| r.day + 1).max().unwrap_or(0);
        seen.max(self.head.manifest.days as usize)
    }

    /// Date string of each day from daily.csv (empty where unknown).
    pub fn dates(&self) -> Vec<String> {
        let mut dates = vec![String::new(); self.days()];
        for r in &self.daily {
            if dates[r.day].is_empty() {
                dates[r.day] = r.date.clone();
            }
        }
        dates
    }

    /// Rows of one scope (`all`, `category` or `landing`).
    pub fn scope<'a>(&'a self, scope: &'a str) -> impl Iterator<Item = &'a DailyRow> + 'a {
        self.daily.iter().filter(move |r| r.scope == scope)
    }

    /// Keys of a scope with display names: manifest categories first (in manifest
    /// order) for `category`, then any other key seen in daily.csv, sorted.
    pub fn keys(&self, scope: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        if scope == "category" {
            for c in &self.head.manifest.categories {
                let name = if c.name.trim().is_empty() { &c.id } else { &c.name };
                out.push((c.id.clone(), name.clone()));
            }
        }
        let seen: BTreeSet<&str> = self.scope(scope).map(|r| r.key.as_str()).collect();
        for key in seen {
            if !out.iter().any(|(id, _)| id == key) {
                out.push((key.to_string(), display_key(scope, key)));
            }
        }
        out
    }
}

/// Detail file of per-creator results (replication 0).
pub const CREATORS: &str = "creators.csv";
/// Detail file of per-plan results (replication 0).
pub const PLANS: &str = "plans.csv";
/// Detail file of the top plans' cumulative budget used.
pub const PLANS_DAILY: &str = "plans_daily.csv";

/// `(value, false)`, or `(empty, true)` when the file does not exist.
fn optional<T: Default>(r: Result<T, ChartError>) -> Result<(T, bool), ChartError> {
    match r {
        Ok(v) => Ok((v, false)),
        Err(ChartError::MissingFile { .. }) => Ok((T::default(), true)),
        Err(e) => Err(e),
    }
}

fn display_key(scope: &str, key: &str) -> String {
    match (scope, key) {
        ("landing", "douyin") => "抖音 Douyin".to_string(),
        ("landing", "wechat") => "微信 WeChat".to_string(),
        _ => key.to_string(),
    }
}

/// A read error: [`ChartError::MissingFile`] when the file does not exist.
pub(super) fn io_err(path: &Path, source: std::io::Error) -> ChartError {
    if source.kind() == std::io::ErrorKind::NotFound {
        ChartError::MissingFile { path: path.to_path_buf() }
    } else {
        ChartError::Io { path: path.to_path_buf(), source }
    }
}

fn read_manifest(path: &Path) -> Result<Manifest, ChartError> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| ChartError::BadJson { path: path.to_path_buf(), source })
}

/// An open CSV file with its header row.
struct Csv {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
    headers: Vec<String>,
}

impl Csv {
    fn open(path: &Path) -> Result<Self, ChartError> {
        let file = File::open(path).map_err(|e| io_err(path, e))?;
        let mut reader =
            csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(BufReader::with_capacity(1 << 16, file));
        let headers = reader
            .headers()
            .map_err(|e| csv_err(path, &e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        Ok(Csv { path: path.to_path_buf(), reader, headers })
    }

    fn col(&self, name: &str) -> Result<usize, ChartError> {
        self.opt_col(name)
            .ok_or_else(|| ChartError::MissingColumn { path: self.path.clone(), column: name.to_string() })
    }

    fn opt_col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Calls `f` with each row and its line number.
    fn for_each(
        mut self,
        mut f: impl FnMut(&csv::StringRecord, &Row) -> Result<(), ChartError>,
    ) -> Result<(), ChartError> {
        let mut rec = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut rec) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let line = rec.position().map_or(0, |p| p.line());
                    f(&rec, &Row { path: &self.path, line })?;
                }
                Err(e) => return Err(csv_err(&self.path, &e)),
            }
        }
    }
}

/// Where a row came from, for error messages.
struct Row<'a> {
    path: &'a Path,
    line: u64,
}

impl Row<'_> {
    fn bad(&self, message: String) -> ChartError {
        ChartError::BadRow { path: self.path.to_path_buf(), line: self.line, message }
    }

    /// A number; an empty field (how the simulator writes a non-finite value) is NaN.
    fn num(&self, rec: &csv::StringRecord, i: usize, name: &str) -> Result<f64, ChartError> {
        let s = rec.get(i).unwrap_or("");
        if s.is_empty() {
            return Ok(f64::NAN);
        }
        s.parse::<f64>().map_err(|_| self.bad(format!("column `{name}`: `{s}` is not a number")))
    }

    /// A number, or NaN when the column is absent or the field empty.
    fn opt_num(&self, rec: &csv::StringRecord, i: Option<usize>, name: &str) -> Result<f64, ChartError> {
        i.map_or(Ok(f64::NAN), |i| self.num(rec, i, name))
    }

    /// A day number (at most [`MAX_DAY`]).
    fn int(&self, rec: &csv::StringRecord, i: usize, name: &str) -> Result<usize, ChartError> {
        let s = rec.get(i).unwrap_or("");
        match s.parse::<usize>() {
            Ok(d) if d <= MAX_DAY => Ok(d),
            _ => Err(self.bad(format!("column `{name}`: `{s}` is not a day number (0..={MAX_DAY})"))),
        }
    }
}

/// A CSV error as [`ChartError::BadRow`] with the line it happened on.
/// Undoes the output's guard against spreadsheet formulas: a text cell written as `'=x` is `=x`.
fn unneutralise(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => cell.to_string(),
    }
}

pub(super) fn csv_err(path: &Path, e: &csv::Error) -> ChartError {
    ChartError::BadRow { path: path.to_path_buf(), line: e.position().map_or(0, |p| p.line()), message: e.to_string() }
}

fn read_summary(path: &Path) -> Result<Vec<SummaryRow>, ChartError> {
    let csv = Csv::open(path)?;
    let (metric, unit, mean) = (csv.col("metric")?, csv.col("unit")?, csv.col("mean")?);
    let (lo, hi) = (csv.opt_col("ci95_low"), csv.opt_col("ci95_high"));
    let mut rows = Vec::new();
    csv.for_each(|rec, row| {
        rows.push(SummaryRow {
            metric: rec.get(metric).unwrap_or("").to_string(),
            unit: rec.get(unit).unwrap_or("").to_string(),
            mean: row.num(rec, mean, "mean")?,
            lo: row.opt_num(rec, lo, "ci95_low")?,
            hi: row.opt_num(rec, hi, "ci95_high")?,
        });
        Ok(())
    })?;
    Ok(rows)
}

const DAILY_NUMS: [&str; 12] = [
    "gmv",
    "refunds",
    "platform_fees",
    "commission_accrued",
    "commission_settled",
    "operator_net",
    "impressions",
    "fresh_reach",
    "opens",
    "payers",
    "commission_settled_ci95_low",
    "commission_settled_ci95_high",
];

fn read_daily(path: &Path) -> Result<Vec<DailyRow>, ChartError> {
    let csv = Csv::open(path)?;
    let (day, date, scope, key) = (csv.col("day")?, csv.col("date")?, csv.col("scope")?, csv.col("key")?);
    let cols = DAILY_NUMS[..10].iter().map(|c| csv.col(c)).collect::<Result<Vec<_>, _>>()?;
    let (ci_lo, ci_hi) = (csv.opt_col(DAILY_NUMS[10]), csv.opt_col(DAILY_NUMS[11]));
    let mut rows = Vec::new();
    csv.for_each(|rec, row| {
        let mut v = [0.0; 10];
        for (k, &i) in cols.iter().enumerate() {
            v[k] = row.num(rec, i, DAILY_NUMS[k])?;
        }
        rows.push(DailyRow {
            day: row.int(rec, day, "day")?,
            date: rec.get(date).unwrap_or("").to_string(),
            scope: rec.get(scope).unwrap_or("").to_string(),
            key: unneutralise(rec.get(key).unwrap_or("")),
            gmv: v[0],
            refunds: v[1],
            platform_fees: v[2],
            commission_accrued: v[3],
            commission_settled: v[4],
            operator_net: v[5],
            impressions: v[6],
            fresh_reach: v[7],
            opens: v[8],
            payers: v[9],
            settled_lo: row.opt_num(rec, ci_lo, DAILY_NUMS[10])?,
            settled_hi: row.opt_num(rec, ci_hi, DAILY_NUMS[11])?,
        });
        Ok(())
    })?;
    Ok(rows)
}

fn read_plans(path: &Path) -> Result<Vec<Plan>, ChartError> {
    let csv = Csv::open(path)?;
    let (plan, budget, commission, out_day) =
        (csv.col("plan")?, csv.col("budget")?, csv.col("commission")?, csv.col("budget_out_day")?);
    let (title, category) = (csv.opt_col("title"), csv.opt_col("category"));
    let (end_day, closed) = (csv.opt_col("end_day"), csv.opt_col("closed"));
    let mut plans = Vec::new();
    csv.for_each(|rec, row| {
        let b = rec.get(budget).unwrap_or("");
        let budget = if b.is_empty() || b.eq_ignore_ascii_case("unlimited") {
            None
        } else {
            Some(row.num(rec, budget, "budget")?)
        };
        let out = if rec.get(out_day).unwrap_or("").is_empty() {
            None
        } else {
            Some(row.int(rec, out_day, "budget_out_day")?)
        };
        // A plan that ended in the burn-in has a negative end day: nothing to mark on the chart.
        let ended = match (end_day, closed.and_then(|i| rec.get(i))) {
            (Some(i), Some("end_day")) => rec.get(i).and_then(|d| d.parse::<usize>().ok()),
            _ => None,
        };
        plans.push(Plan {
            id: rec.get(plan).unwrap_or("").to_string(),
            title: title.and_then(|i| rec.get(i)).unwrap_or("").to_string(),
            category: unneutralise(category.and_then(|i| rec.get(i)).unwrap_or("")),
            budget,
            commission: row.num(rec, commission, "commission")?,
            budget_out_day: out,
            ended_day: ended,
        });
        Ok(())
    })?;
    Ok(plans)
}

fn read_plans_daily(path: &Path) -> Result<Vec<PlanDay>, ChartError> {
    let csv = Csv::open(path)?;
    let (day, plan, used) = (csv.col("day")?, csv.col("plan")?, csv.col("budget_used")?);
    let mut out = Vec::new();
    csv.for_each(|rec, row| {
        out.push(PlanDay {
            day: row.int(rec, day, "day")?,
            plan: rec.get(plan).unwrap_or("").to_string(),
            budget_used: row.num(rec, used, "budget_used")?,
        });
        Ok(())
    })?;
    Ok(out)
}
