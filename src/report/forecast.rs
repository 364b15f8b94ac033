//! The result folder of a forecast (`OUT/forecast-<stem>/`): `forecast.csv` (bands by series,
//! decision and day), `totals.csv`, `paired.csv` (each decision against the first, paired on
//! the same draws), a fan chart per series, `manifest.json` and `index.html`, written whole.

use crate::report::calibrate::{band_row, chart_name, num, Band};
use crate::report::charts::calibrate::{draw_fan, Fan};
use crate::report::output::{csv_field, put, write_atomically, OutputError};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

pub struct ForecastSeries {
    pub name: String,
    pub money: bool,
    pub observed: Vec<Option<f64>>,
    /// `fans[decision][day]`.
    pub fans: Vec<Vec<Band>>,
}

/// A series' total over the forecast window under one decision: median and 90% interval over draws.
pub struct TotalRow {
    pub series: String,
    pub decision: String,
    pub median: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A decision minus the reference, over the forecast window, paired draw by draw.
pub struct PairedRow {
    pub series: String,
    pub decision: String,
    pub reference: String,
    /// Mean difference and its 95% confidence interval (Student t over draws).
    pub mean: f64,
    pub mean_lo: f64,
    pub mean_hi: f64,
    /// 90% predictive interval of the difference (5% and 95% quantiles over draws).
    pub lo: f64,
    pub hi: f64,
}

pub struct ForecastReport {
    pub scenario: String,
    pub calibration: String,
    pub seed: u64,
    pub draws: u32,
    pub days_observed: u32,
    pub days_ahead: u32,
    pub dates: Vec<String>,
    pub decisions: Vec<String>,
    pub series: Vec<ForecastSeries>,
    pub totals: Vec<TotalRow>,
    pub paired: Vec<PairedRow>,
}

fn forecast_csv(r: &ForecastReport) -> String {
    let mut out = String::from("series,decision,day,date,observed,q05,q25,median,q75,q95\n");
    for s in &r.series {
        for (j, dec) in r.decisions.iter().enumerate() {
            let lead = format!("{},{}", csv_field(&s.name), csv_field(dec));
            for (d, b) in s.fans[j].iter().enumerate() {
                band_row(&mut out, &lead, d, &r.dates[d], s.observed[d], b);
            }
        }
    }
    out
}

fn totals_csv(r: &ForecastReport) -> String {
    let mut out = String::from("series,decision,window_total_median,p90_low,p90_high\n");
    for t in &r.totals {
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            csv_field(&t.series),
            csv_field(&t.decision),
            num(t.median),
            num(t.lo),
            num(t.hi)
        );
    }
    out
}

fn paired_csv(r: &ForecastReport) -> String {
    let mut out = String::from(
        "series,decision,reference,diff_mean,diff_mean_ci95_low,diff_mean_ci95_high,diff_p90_low,diff_p90_high\n",
    );
    for p in &r.paired {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            csv_field(&p.series),
            csv_field(&p.decision),
            csv_field(&p.reference),
            num(p.mean),
            num(p.mean_lo),
            num(p.mean_hi),
            num(p.lo),
            num(p.hi)
        );
    }
    out
}

/// Writes the folder `dir` whole.
pub fn write(dir: &Path, r: &ForecastReport) -> Result<(), OutputError> {
    write_atomically(dir, |tmp| {
        put(tmp, "forecast.csv", &forecast_csv(r))?;
        put(tmp, "totals.csv", &totals_csv(r))?;
        put(tmp, "paired.csv", &paired_csv(r))?;
        let manifest = json!({
            "cpsim_version": env!("CARGO_PKG_VERSION"),
            "scenario": r.scenario,
            "calibration": r.calibration,
            "seed": r.seed,
            "draws": r.draws,
            "days_observed": r.days_observed,
            "days_ahead": r.days_ahead,
            "decisions": r.decisions,
        });
        put(tmp, "manifest.json", &(serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n"))?;
        let cdir = tmp.join("charts");
        std::fs::create_dir_all(&cdir).map_err(|source| OutputError::Io { path: cdir.clone(), source })?;
        let mut pngs = Vec::new();
        for s in &r.series {
            let name = chart_name("fan", &s.name);
            let fans: Vec<Fan> = r
                .decisions
                .iter()
                .zip(&s.fans)
                .map(|(d, b)| Fan { name: d.clone(), first_day: 0, bands: b.clone() })
                .collect();
            let title = format!("{}: forecast of {} days past the data", s.name, r.days_ahead);
            draw_fan(&cdir.join(&name), &title, &r.dates, &s.observed, s.money, &fans, Some(r.days_observed as usize))?;
            pngs.push((name, title));
        }
        put(tmp, "index.html", &page(r, &pngs))
    })
}

fn page(r: &ForecastReport, pngs: &[(String, String)]) -> String {
    use crate::report::charts::escape_html as e;
    let mut h = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Forecast: {0}</title><style>body{{font-family:sans-serif;\
         max-width:1250px;margin:auto}}td,th{{padding:2px 8px;text-align:right}}td:first-child{{text-align:left}}img{{max-width:100%}}</style>\
         </head><body><h1>Forecast of {0}</h1><p>{1} posterior draws of {2}, run {3} days past the {4} observed days under each \
         decision, every decision on the same draws and seeds. Bands are 50% and 90% predictive intervals over draws.</p>",
        e(&r.scenario),
        r.draws,
        e(&r.calibration),
        r.days_ahead,
        r.days_observed
    );
    h.push_str("<h2>Paired differences over the forecast window</h2><table><tr><th>series</th><th>decision</th><th>reference</th>\
                <th>mean difference</th><th>95% CI of the mean</th><th>90% of draws</th></tr>");
    for p in &r.paired {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2} to {:.2}</td><td>{:.2} to {:.2}</td></tr>",
            e(&p.series),
            e(&p.decision),
            e(&p.reference),
            p.mean,
            p.mean_lo,
            p.mean_hi,
            p.lo,
            p.hi
        );
    }
    h.push_str("</table>");
    for (png, title) in pngs {
        let _ = write!(h, "<h2>{}</h2><img src=\"charts/{}\" alt=\"{}\">", e(title), e(png), e(title));
    }
    h.push_str("<p>Files: forecast.csv, totals.csv, paired.csv, manifest.json.</p></body></html>\n");
    h
}
