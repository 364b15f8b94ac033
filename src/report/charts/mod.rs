//! Charts and HTML reports drawn from a simulator result folder: public API and errors.
//!
//! [`draw_scenario`] reads `manifest.json`, `summary.csv`, `daily.csv`, `creators.csv`,
//! `plans.csv` and `plans_daily.csv` from one scenario folder and writes PNG charts into
//! `charts/` plus a self-contained `report.html`. [`draw_compare`] puts the headline
//! metrics of several scenario folders side by side. Every chart uses the embedded font
//! (family [`FONT_FAMILY`]), so output is the same on any machine, and drawing the same
//! input twice gives byte-identical files.

pub mod calibrate;
mod compare;
mod creators;
mod data;
mod draw;
pub mod episode;
mod font;
mod funnel;
mod html;
mod inequality;
mod optimize;
pub mod own_plans;
pub mod paired;
mod payouts;
mod plans;
pub mod sweep;
pub mod tornado;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use episode::draw_levels;
pub use font::{ensure_font, FONT_BYTES, FONT_FAMILY};
pub use html::write_paired_page;
pub use html::{base64_encode, escape_html};
pub use optimize::draw_optimize;
pub use sweep::draw_sweep;

/// Width and height in pixels of every chart.
pub const CHART_SIZE: (u32, u32) = (1200, 800);

/// Everything that can go wrong while reading results or drawing charts; each variant
/// names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// A required input file does not exist.
    #[error("missing input file {}", path.display())]
    MissingFile { path: PathBuf },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A CSV file lacks a column that the charts need.
    #[error("{}: missing column `{column}`", path.display())]
    MissingColumn { path: PathBuf, column: String },
    /// A CSV row could not be read or a field could not be parsed.
    #[error("{}:{line}: {message}", path.display())]
    BadRow { path: PathBuf, line: u64, message: String },
    /// `manifest.json` is not valid JSON of the expected shape.
    #[error("{}: bad JSON: {source}", path.display())]
    BadJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// plotters failed while drawing or encoding a chart.
    #[error("drawing {}: {message}", path.display())]
    Draw { path: PathBuf, message: String },
    /// The embedded font could not be registered with plotters.
    #[error("embedded font: {0}")]
    Font(String),
}

/// The PNG charts [`draw_scenario`] writes into `dir/charts/`, in report order.
pub const SCENARIO_CHARTS: [&str; 7] = [
    "payouts_daily.png",
    "payouts_cumulative.png",
    "lorenz.png",
    "ccdf.png",
    "funnel.png",
    "money_split.png",
    "plan_budgets.png",
];

/// Draws one chart of a scenario into a PNG file.
type Drawer = fn(&data::Scenario, &Path) -> Result<(), ChartError>;

/// The function drawing each of [`SCENARIO_CHARTS`], in the same order.
const DRAWERS: [Drawer; SCENARIO_CHARTS.len()] = [
    payouts::draw_daily,
    payouts::draw_cumulative,
    inequality::draw_lorenz,
    inequality::draw_ccdf,
    funnel::draw_funnel,
    funnel::draw_money_split,
    plans::draw_budgets,
];

/// Reads the result files of one scenario folder, writes every chart into
/// `dir/charts/` and `dir/report.html`, and returns the written paths (charts in
/// [`SCENARIO_CHARTS`] order, then `own_plan_<k>.png` of each own plan, then the report).
pub fn draw_scenario(dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    ensure_font()?;
    let results = data::Scenario::load(dir)?;
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|source| ChartError::Io { path: charts_dir.clone(), source })?;

    let drawn: Vec<Result<PathBuf, ChartError>> = SCENARIO_CHARTS
        .par_iter()
        .zip(DRAWERS.par_iter())
        .map(|(name, draw)| {
            let path = charts_dir.join(name);
            draw(&results, &path)?;
            Ok(path)
        })
        .collect();
    let mut paths = drawn.into_iter().collect::<Result<Vec<_>, _>>()?;
    // Own plans lead the report: their charts and table come first, the market's after.
    let own = own_plans::draw_own_plans(dir, &results.name())?;
    let lead = own_plans::report_section(dir, &own)?;

    let report = dir.join("report.html");
    html::write_report(&results, &paths, &lead, &report)?;
    paths.extend(own);
    paths.push(report);
    Ok(paths)
}

/// Reads `summary.csv`, `manifest.json` and `replications.csv` of each scenario folder in `dirs`
/// and writes, for each scenario after the first, the change from the first (paired when they
/// share their seeds; see [`paired`]): `out/compare.png` for the second, `out/compare_S3.png` and
/// on for the others, and `out/compare.html`; returns the charts, then the page.
pub fn draw_compare(dirs: &[PathBuf], out: &Path) -> Result<Vec<PathBuf>, ChartError> {
    ensure_font()?;
    let loaded: Vec<Result<data::ScenarioSummary, ChartError>> =
        dirs.par_iter().map(|d| data::ScenarioSummary::load(d)).collect();
    let scenarios = loaded.into_iter().collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(out).map_err(|source| ChartError::Io { path: out.to_path_buf(), source })?;
    let mut sections = Vec::new();
    for (i, b) in scenarios.iter().enumerate().skip(1) {
        let changes = compare::changes(&scenarios[0], b)?;
        let png =
            if i == 1 { out.join("compare.png") } else { out.join(format!("compare_{}.png", compare::short_label(i))) };
        let title = format!(
            "B = {}: {}  vs  A = {}: {}",
            compare::short_label(i),
            b.name(),
            compare::short_label(0),
            scenarios[0].name()
        );
        paired::draw(&changes, &title, &png)?;
        sections.push(html::Section { heading: title, changes, png });
    }
    if sections.is_empty() {
        let png = out.join("compare.png");
        paired::draw(&[], "Scenario comparison", &png)?;
        sections.push(html::Section {
            heading: "Nothing to compare: fewer than two scenarios".into(),
            changes: Vec::new(),
            png,
        });
    }
    let page = out.join("compare.html");
    html::write_compare(&scenarios, &sections, &page)?;
    let mut paths: Vec<PathBuf> = sections.into_iter().map(|s| s.png).collect();
    paths.push(page);
    Ok(paths)
}
