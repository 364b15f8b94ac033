//! The result folder of a calibration (`OUT/calibrate-<stem>/`): `posterior.csv`,
//! `summary.csv`, `tolerance.csv`, `fit.csv`, `observed.csv`, `calibrated.toml`,
//! `manifest.json`, the charts (pairs plot, a fit chart per series, tolerance) and `index.html`,
//! written whole through a temporary folder. Plain data in; no model, no study.

use crate::report::charts::calibrate as charts;
use crate::report::output::{csv_field, put, write_atomically, OutputError};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// Quantiles 5%, 25%, 50%, 75%, 95% of one day of a series.
pub type Band = [f64; 5];

pub struct ParamRow {
    pub key: String,
    pub prior: &'static str,
    pub from: f64,
    pub to: f64,
    pub median: f64,
    /// 90% interval: weighted 5% and 95% quantiles.
    pub lo: f64,
    pub hi: f64,
    /// Width of the 90% interval over the prior's width (in log for log-uniform priors).
    pub width_ratio: f64,
}

pub struct PosteriorRow {
    pub index: u32,
    pub seed: u64,
    pub weight: f64,
    pub distance: f64,
    pub values: Vec<f64>,
}

pub struct GenRow {
    pub generation: u32,
    pub tolerance: Option<f64>,
    pub accepted: u32,
    pub simulations: u64,
    pub ess: f64,
    pub median_distance: f64,
}

pub struct FitSeries {
    pub name: String,
    pub money: bool,
    /// By simulated day; `None` where not observed.
    pub observed: Vec<Option<f64>>,
    /// Posterior predictive quantiles by simulated day.
    pub bands: Vec<Band>,
    /// Its weight in the distance, or `None` when shown but not fitted.
    pub weight: Option<f64>,
}

pub struct CalibrationReport {
    pub scenario: String,
    pub scenario_file: String,
    pub observed_file: String,
    pub input_hash: String,
    pub seed: u64,
    pub particles: u32,
    pub quantile: f64,
    pub simulations: u64,
    pub ended: Option<String>,
    pub params: Vec<ParamRow>,
    pub posterior: Vec<PosteriorRow>,
    pub generations: Vec<GenRow>,
    pub dates: Vec<String>,
    pub fits: Vec<FitSeries>,
    pub calibrated_toml: String,
    pub observed_csv: String,
}

/// A float as the files write it: shortest exact form (ryu), empty when not finite.
pub fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// A file name from a series name (`market.gmv` -> `fit-market.gmv.png`), safe on any system.
pub fn chart_name(prefix: &str, series: &str) -> String {
    let safe: String =
        series.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' { c } else { '_' }).collect();
    format!("{prefix}-{safe}.png")
}

fn posterior_csv(r: &CalibrationReport) -> String {
    let mut out = String::from("particle,seed,weight,distance");
    for p in &r.params {
        let _ = write!(out, ",{}", csv_field(&p.key));
    }
    out.push('\n');
    for row in &r.posterior {
        let _ = write!(out, "{},{},{},{}", row.index, row.seed, num(row.weight), num(row.distance));
        for v in &row.values {
            let _ = write!(out, ",{}", num(*v));
        }
        out.push('\n');
    }
    out
}

fn summary_csv(r: &CalibrationReport) -> String {
    let mut out = String::from("parameter,prior,prior_from,prior_to,median,p90_low,p90_high,width_vs_prior\n");
    for p in &r.params {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{:.4}",
            csv_field(&p.key),
            p.prior,
            num(p.from),
            num(p.to),
            num(p.median),
            num(p.lo),
            num(p.hi),
            p.width_ratio
        );
    }
    out
}

fn tolerance_csv(r: &CalibrationReport) -> String {
    let mut out = String::from("generation,tolerance,accepted,simulations,acceptance_rate,ess,median_distance\n");
    for g in &r.generations {
        let _ = writeln!(
            out,
            "{},{},{},{},{:.4},{:.1},{}",
            g.generation,
            g.tolerance.map(num).unwrap_or_default(),
            g.accepted,
            g.simulations,
            g.accepted as f64 / g.simulations.max(1) as f64,
            g.ess,
            num(g.median_distance)
        );
    }
    out
}

fn fit_csv(r: &CalibrationReport) -> String {
    let mut out = String::from("series,day,date,observed,q05,q25,median,q75,q95\n");
    for f in &r.fits {
        for (d, b) in f.bands.iter().enumerate() {
            band_row(&mut out, &csv_field(&f.name), d, &r.dates[d], f.observed[d], b);
        }
    }
    out
}

/// One row of a band file (the fit's and the forecast's): `lead` (the series, and the
/// decision in a forecast), then the day, its date, the observed value if any and the band's
/// five quantiles.
pub fn band_row(out: &mut String, lead: &str, day: usize, date: &str, observed: Option<f64>, b: &Band) {
    let obs = observed.map(num).unwrap_or_default();
    let _ = writeln!(
        out,
        "{lead},{day},{date},{obs},{},{},{},{},{}",
        num(b[0]),
        num(b[1]),
        num(b[2]),
        num(b[3]),
        num(b[4])
    );
}

fn manifest(r: &CalibrationReport) -> String {
    let v = json!({
        "cpsim_version": env!("CARGO_PKG_VERSION"),
        "method": "ABC-SMC (Beaumont et al. 2009), adaptive tolerance, kernel 2x weighted covariance",
        "scenario": r.scenario,
        "scenario_file": r.scenario_file,
        "observed_file": r.observed_file,
        "input_hash": r.input_hash,
        "seed": r.seed,
        "particles": r.particles,
        "quantile": r.quantile,
        "generations": r.generations.len(),
        "simulations": r.simulations,
        "ended_early": r.ended,
        "parameters": r.params.iter().map(|p| json!({"key": p.key, "prior": p.prior, "from": p.from, "to": p.to})).collect::<Vec<_>>(),
        "series": r.fits.iter().map(|f| json!({"name": f.name, "weight": f.weight})).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// Writes the folder `dir` whole.
pub fn write(dir: &Path, r: &CalibrationReport) -> Result<(), OutputError> {
    write_atomically(dir, |tmp| {
        put(tmp, "posterior.csv", &posterior_csv(r))?;
        put(tmp, "summary.csv", &summary_csv(r))?;
        put(tmp, "tolerance.csv", &tolerance_csv(r))?;
        put(tmp, "fit.csv", &fit_csv(r))?;
        put(tmp, "observed.csv", &r.observed_csv)?;
        put(tmp, "calibrated.toml", &r.calibrated_toml)?;
        put(tmp, "manifest.json", &manifest(r))?;
        let cdir = tmp.join("charts");
        std::fs::create_dir_all(&cdir).map_err(|source| OutputError::Io { path: cdir.clone(), source })?;
        let mut pngs = vec![(
            "pairs.png".to_string(),
            "Posterior: each parameter's weighted histogram and every pair".to_string(),
        )];
        charts::draw_pairs(&cdir.join("pairs.png"), &r.scenario, &r.params, &r.posterior)?;
        pngs.push(("tolerance.png".into(), "Tolerance and median distance per generation".into()));
        charts::draw_tolerance(&cdir.join("tolerance.png"), &r.scenario, &r.generations)?;
        for f in &r.fits {
            let name = chart_name("fit", &f.name);
            let title = format!("{}: observed and posterior predictive", f.name);
            let fan = charts::Fan { name: "posterior predictive".into(), first_day: 0, bands: f.bands.clone() };
            charts::draw_fan(&cdir.join(&name), &title, &r.dates, &f.observed, f.money, &[fan], None)?;
            pngs.push((name, title));
        }
        let page = page(r, &pngs);
        put(tmp, "index.html", &page)
    })
}

fn page(r: &CalibrationReport, pngs: &[(String, String)]) -> String {
    use crate::report::charts::escape_html as e;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Calibration: {}</title>\
         <style>body{{font-family:sans-serif;max-width:1250px;margin:auto}}td,th{{padding:2px 8px;text-align:right}}\
         td:first-child{{text-align:left}}img{{max-width:100%}}</style></head><body>",
        e(&r.scenario)
    );
    let _ = write!(
        h,
        "<h1>Calibration of {}</h1><p>{} fitted to {} by ABC-SMC: {} particles a generation, {} generations, \
         {} simulations, master seed {}. Intervals are 90% posterior intervals (weighted 5% and 95% quantiles \
         of the last generation's particles).</p>",
        e(&r.scenario),
        e(&r.scenario_file),
        e(&r.observed_file),
        r.particles,
        r.generations.len(),
        r.simulations,
        r.seed
    );
    if let Some(why) = &r.ended {
        let _ = write!(h, "<p><b>Ended early</b>: {}</p>", e(why));
    }
    h.push_str(
        "<table><tr><th>parameter</th><th>prior</th><th>median</th><th>90% interval</th><th>width / prior</th></tr>",
    );
    for p in &r.params {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} {} to {}</td><td>{:.6}</td><td>{:.6} to {:.6}</td><td>{:.2}</td></tr>",
            e(&p.key),
            p.prior,
            p.from,
            p.to,
            p.median,
            p.lo,
            p.hi,
            p.width_ratio
        );
    }
    h.push_str("</table><h2>Tolerance</h2><table><tr><th>generation</th><th>tolerance</th><th>accepted</th><th>simulations</th><th>ESS</th></tr>");
    for g in &r.generations {
        let tol = g.tolerance.map(|t| format!("{t:.4}")).unwrap_or_else(|| "prior".into());
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{tol}</td><td>{}</td><td>{}</td><td>{:.1}</td></tr>",
            g.generation, g.accepted, g.simulations, g.ess
        );
    }
    h.push_str("</table>");
    for (png, title) in pngs {
        let _ = write!(h, "<h2>{}</h2><img src=\"charts/{}\" alt=\"{}\">", e(title), e(png), e(title));
    }
    h.push_str("<p>Files: posterior.csv, summary.csv, tolerance.csv, fit.csv, observed.csv, calibrated.toml, manifest.json.</p></body></html>\n");
    h
}
