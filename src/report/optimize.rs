//! The files of an optimisation, `OUT/optimize-<stem>/`: `candidates.csv` (each candidate with
//! its objective, 95% interval, paired difference to the best and share of replications it
//! beat the best in), `optimize.csv` (every evaluation), `manifest.json`, the best decision as a
//! scenario file `<stem>-best.toml`, the chart `optimize.png` and the page `optimize.html`.
//! Written whole through a temporary folder; the chart is drawn from `candidates.csv` alone.

use crate::report::charts::{self, escape_html};
use crate::report::output::{self, csv_field, OutputError};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// One candidate's results.
#[derive(Clone, Debug)]
pub struct CandidateRow {
    /// Its values, one per variable, as the file would write them.
    pub values: Vec<String>,
    pub level: usize,
    pub replications: u32,
    /// Mean of the objective, and its 95% interval across replications.
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    /// Candidate minus best on their common replications: mean and 95% interval (empty for the best).
    pub diff: Option<(f64, f64, f64)>,
    /// Share of the common replications in which it did better than the best.
    pub share_better: Option<f64>,
    /// Mean of each constraint's metric.
    pub constraints: Vec<f64>,
    pub status: String,
}

/// One replication of one candidate.
#[derive(Clone, Debug)]
pub struct EvalRow {
    /// Index into the candidates.
    pub candidate: usize,
    pub replication: u32,
    /// The objective, then each constraint's metric.
    pub values: Vec<Option<f64>>,
}

/// Everything an optimisation writes.
#[derive(Clone, Debug)]
pub struct Optimized {
    pub name: String,
    pub stem: String,
    pub file: String,
    pub hash: String,
    pub seed: u64,
    pub objective: String,
    pub goal: String,
    pub method: String,
    pub confidence: f64,
    pub runs_budget: u64,
    pub runs_used: u64,
    pub levels: usize,
    pub stop: String,
    pub variables: Vec<String>,
    pub constraints: Vec<(String, Option<f64>, Option<f64>)>,
    pub candidates: Vec<CandidateRow>,
    pub best: usize,
    pub evals: Vec<EvalRow>,
    /// The best decision as a complete scenario file.
    pub best_scenario: String,
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        String::new()
    }
}

/// `candidates.csv`.
pub fn candidates_csv(o: &Optimized) -> String {
    let mut out = String::from("candidate,level");
    for v in &o.variables {
        let _ = write!(out, ",{}", csv_field(v));
    }
    out.push_str(",replications,objective_mean,objective_ci95_low,objective_ci95_high,diff_to_best_mean,diff_to_best_ci95_low,diff_to_best_ci95_high,share_better");
    for (m, _, _) in &o.constraints {
        let _ = write!(out, ",{}", csv_field(&format!("{m}_mean")));
    }
    out.push_str(",status\n");
    for (i, c) in o.candidates.iter().enumerate() {
        let _ = write!(out, "{i},{}", c.level);
        for v in &c.values {
            let _ = write!(out, ",{}", csv_field(v));
        }
        let (dm, dl, dh) =
            c.diff.map_or((String::new(), String::new(), String::new()), |(a, b, c)| (num(a), num(b), num(c)));
        let share = c.share_better.map(num).unwrap_or_default();
        let _ = write!(out, ",{},{},{},{},{dm},{dl},{dh},{share}", c.replications, num(c.mean), num(c.lo), num(c.hi));
        for m in &c.constraints {
            let _ = write!(out, ",{}", num(*m));
        }
        let _ = writeln!(out, ",{}", csv_field(&c.status));
    }
    out
}

/// `optimize.csv`: every evaluation, by candidate then replication.
pub fn evals_csv(o: &Optimized) -> String {
    let mut out = String::from("candidate");
    for v in &o.variables {
        let _ = write!(out, ",{}", csv_field(v));
    }
    let _ = write!(out, ",replication,{}", csv_field(&o.objective));
    for (m, _, _) in &o.constraints {
        let _ = write!(out, ",{}", csv_field(m));
    }
    out.push('\n');
    for e in &o.evals {
        let _ = write!(out, "{}", e.candidate);
        for v in &o.candidates[e.candidate].values {
            let _ = write!(out, ",{}", csv_field(v));
        }
        let _ = write!(out, ",{}", e.replication);
        for v in &e.values {
            let _ = write!(out, ",{}", v.map(num).unwrap_or_default());
        }
        out.push('\n');
    }
    out
}

fn manifest(o: &Optimized) -> String {
    let b = &o.candidates[o.best];
    let m = json!({
        "cpsim_version": env!("CARGO_PKG_VERSION"),
        "scenario_file": o.file,
        "scenario_hash": o.hash,
        "seed": o.seed,
        "method": o.method,
        "objective": o.objective,
        "goal": o.goal,
        "confidence": o.confidence,
        "runs_budget": o.runs_budget,
        "runs_used": o.runs_used,
        "levels": o.levels,
        "stopped": o.stop,
        "variables": o.variables,
        "constraints": o.constraints.iter().map(|(m, lo, hi)| json!({"metric": m, "min": lo, "max": hi})).collect::<Vec<_>>(),
        "best": {
            "values": o.variables.iter().zip(&b.values).map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            "replications": b.replications,
            "objective_mean": b.mean,
            "objective_ci95": [b.lo, b.hi],
            "scenario": format!("{}-best.toml", o.stem),
        },
    });
    serde_json::to_string_pretty(&m).unwrap_or_default() + "\n"
}

/// What the command prints: the best decision and its nearest rivals.
pub fn headline(o: &Optimized) -> String {
    let b = &o.candidates[o.best];
    let mut s = String::new();
    let decision: Vec<String> = o.variables.iter().zip(&b.values).map(|(k, v)| format!("{k} = {v}")).collect();
    let _ = writeln!(s, "best: {}", decision.join(", "));
    let _ = writeln!(
        s,
        "  {} {}: {} (95% interval {} to {}, {} replications)",
        o.goal,
        o.objective,
        num(b.mean),
        num(b.lo),
        num(b.hi),
        b.replications
    );
    let _ = writeln!(
        s,
        "  {} candidates, {} of {} runs, {} levels, {}",
        o.candidates.len(),
        o.runs_used,
        o.runs_budget,
        o.levels,
        o.stop
    );
    s
}

fn page(o: &Optimized, png: &[u8]) -> String {
    let mut h = String::new();
    let title = format!("cpsim optimize: {}", o.name);
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font-family:sans-serif;max-width:1250px;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px}}td.num{{text-align:right}}tr.best{{background:#fde7a5}}</style></head><body>",
        escape_html(&title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", escape_html(&title));
    let _ = writeln!(h, "<pre>{}</pre>", escape_html(&headline(o)));
    let _ = writeln!(
        h,
        "<p>Method: {} (docs/OPTIMIZE.md); every candidate ran on the same replication seeds (master seed {}), so \
         differences to the best are paired by replication. Intervals are 95% Student t intervals across replications.</p>",
        escape_html(&o.method),
        o.seed
    );
    let _ = writeln!(
        h,
        "<img alt=\"objective against the decision\" src=\"data:image/png;base64,{}\" width=\"1200\">",
        charts::base64_encode(png)
    );
    h.push_str("<h2>Candidates</h2>\n<table><tr><th>#</th>");
    for v in &o.variables {
        let _ = write!(h, "<th><code>{}</code></th>", escape_html(v));
    }
    h.push_str("<th>replications</th><th>mean</th><th>95% interval</th><th>minus best (paired)</th><th>95% interval</th><th>share better</th><th>status</th></tr>\n");
    for (i, c) in o.candidates.iter().enumerate() {
        let _ = write!(h, "<tr{}><td>{i}</td>", if i == o.best { " class=\"best\"" } else { "" });
        for v in &c.values {
            let _ = write!(h, "<td>{}</td>", escape_html(v));
        }
        let (dm, di) =
            c.diff.map_or((String::new(), String::new()), |(a, b, c)| (num(a), format!("{} to {}", num(b), num(c))));
        let _ = writeln!(
            h,
            "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} to {}</td><td class=\"num\">{dm}</td><td class=\"num\">{di}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            c.replications,
            num(c.mean),
            num(c.lo),
            num(c.hi),
            c.share_better.map(num).unwrap_or_default(),
            escape_html(&c.status)
        );
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

/// Writes the folder whole: nothing of it appears unless everything was written.
pub fn write(dir: &Path, o: &Optimized) -> Result<(), OutputError> {
    output::write_atomically(dir, |tmp| {
        output::put(tmp, "candidates.csv", &candidates_csv(o))?;
        output::put(tmp, "optimize.csv", &evals_csv(o))?;
        output::put(tmp, "manifest.json", &manifest(o))?;
        output::put(tmp, &format!("{}-best.toml", o.stem), &o.best_scenario)?;
        let png = tmp.join("optimize.png");
        charts::draw_optimize(tmp, &png)?;
        let bytes = std::fs::read(&png).map_err(|source| OutputError::Io { path: png.clone(), source })?;
        output::put(tmp, "optimize.html", &page(o, &bytes))?;
        Ok(())
    })
}
