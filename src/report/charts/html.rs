//! Self-contained HTML pages (report.html, compare.html): escaping, base64, tables.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::compare::{present_metrics, short_label};
use super::data::{Scenario, ScenarioSummary, SummaryRow};
use super::draw::{thousands, write_atomic};
use super::ChartError;

/// Escapes `&`, `<`, `>`, `"` and `'` so that `s` can be put in HTML text or in a
/// quoted attribute.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (RFC 4648, with `=` padding).
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC',\
'Microsoft YaHei',sans-serif;margin:2em auto;max-width:1240px;padding:0 1em;color:#222;\
line-height:1.45}h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;\
border-bottom:1px solid #ddd}.meta{color:#555;font-size:.92em}table{border-collapse:collapse;\
font-size:.92em}th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
th{background:#f4f4f4}figure{margin:1.5em 0}figcaption{margin:.3em 0 .6em}\
img{max-width:100%;height:auto;border:1px solid #ddd}code{font-size:.95em}";

/// One sentence per chart: the question it answers.
fn question(chart: &str) -> &'static str {
    match chart {
        "payouts_daily.png" => {
            "How much commission is settled to creators each day, from which categories, \
             and how much does the daily total vary across replications (grey band: 95% \
             interval)?"
        }
        "payouts_cumulative.png" => {
            "How much has been paid out to creators so far, and what share of it does each \
             category account for?"
        }
        "lorenz.png" => {
            "How evenly are earnings spread across creators: what share of all earnings goes \
             to the poorest x% (the further the curve sags below the diagonal, the more \
             unequal)?"
        }
        "ccdf.png" => {
            "How heavy is the tail of creator earnings: what share of paid creators earns at \
             least a given amount (a straight line on these log-log axes suggests a power \
             law)?"
        }
        "funnel.png" => {
            "How many impressions turn into fresh reach, mini-program opens and paying users, \
             and what is the conversion rate of each step?"
        }
        "money_split.png" => {
            "Where does GMV go: how much is refunded, taken as platform fees, paid as \
             commission and kept by the operator, overall, per category and per landing \
             platform?"
        }
        "plan_budgets.png" => {
            "How fast do the top plans spend their budgets, and on which day does each run \
             out?"
        }
        _ => "",
    }
}

/// Heading of each chart in the report.
fn heading(chart: &str) -> &'static str {
    match chart {
        "payouts_daily.png" => "Daily payouts by category",
        "payouts_cumulative.png" => "Cumulative payouts by category",
        "lorenz.png" => "Inequality of creator earnings (Lorenz curve)",
        "ccdf.png" => "Tail of creator earnings (CCDF)",
        "funnel.png" => "Audience funnel",
        "money_split.png" => "Where the money goes",
        "plan_budgets.png" => "Plan budgets",
        _ => "Chart",
    }
}

/// A summary value formatted for its unit.
pub fn fmt_value(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    match unit {
        "RMB" => thousands(v, 2),
        "count" if (v - v.round()).abs() < 1e-9 => thousands(v, 0),
        "count" => thousands(v, 1),
        "share" => format!("{v:.4}"),
        _ if v.abs() >= 1000.0 => thousands(v, 2),
        _ => format!("{v:.4}"),
    }
}

/// `[lo, hi]` formatted for the unit, or a dash when unknown.
fn fmt_interval(r: &SummaryRow) -> String {
    if r.lo.is_finite() && r.hi.is_finite() {
        format!("[{}, {}]", fmt_value(r.lo, &r.unit), fmt_value(r.hi, &r.unit))
    } else {
        "–".to_string()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ChartError> {
    std::fs::read(path).map_err(|source| ChartError::Io { path: path.to_path_buf(), source })
}

fn page_start(out: &mut String, title: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape_html(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
}

/// `<img>` with the PNG at `path` inlined as a data: URI.
fn img(path: &Path, alt: &str) -> Result<String, ChartError> {
    Ok(format!(
        "<img alt=\"{}\" width=\"1200\" src=\"data:image/png;base64,{}\">",
        escape_html(alt),
        base64_encode(&read(path)?)
    ))
}

fn manifest_meta(out: &mut String, s: &ScenarioSummary) {
    let m = &s.manifest;
    let mut parts: Vec<String> = Vec::new();
    let mut add = |k: &str, v: String| {
        if !v.is_empty() && v != "null" {
            parts.push(format!("{k}: <code>{}</code>", escape_html(&v)));
        }
    };
    add("scenario file", m.scenario_file.clone());
    add("scenario hash", m.scenario_hash.clone());
    add("cpsim", m.cpsim_version.clone());
    add("seed", m.seed.to_string().trim_matches('"').to_string());
    add("replications", m.replications.to_string());
    add("start date", m.start_date.clone());
    add("days", m.days.to_string());
    let _ = writeln!(out, "<p class=\"meta\">{}</p>", parts.join(" · "));
}

/// Writes `report.html` for one scenario: metadata, summary table, every chart inline.
/// `lead` is HTML put before the summary (the own plans' section, or empty).
pub fn write_report(s: &Scenario, charts: &[PathBuf], lead: &str, out: &Path) -> Result<(), ChartError> {
    let name = s.name();
    let mut h = String::with_capacity(1 << 20);
    page_start(&mut h, &format!("cpsim report: {name}"));
    let _ = writeln!(h, "<h1>cpsim report: {}</h1>", escape_html(&name));
    manifest_meta(&mut h, &s.head);
    let cats: Vec<String> = s
        .head
        .manifest
        .categories
        .iter()
        .map(|c| format!("{} (<code>{}</code>)", escape_html(&c.name), escape_html(&c.id)))
        .collect();
    if !cats.is_empty() {
        let _ = writeln!(h, "<p class=\"meta\">Categories: {}</p>", cats.join(", "));
    }
    if !s.missing.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"meta\">Not written by this run: {}; the charts that need them say so.</p>",
            s.missing.iter().map(|m| format!("<code>{m}</code>")).collect::<Vec<_>>().join(", ")
        );
    }

    h.push_str(lead);
    h.push_str("<h2>Summary</h2>\n<p>Means over replications with the 95% interval across replications.</p>\n");
    h.push_str("<table>\n<tr><th>metric</th><th>unit</th><th>mean</th><th>95% interval</th></tr>\n");
    for r in &s.head.summary {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape_html(&r.metric),
            escape_html(&r.unit),
            fmt_value(r.mean, &r.unit),
            fmt_interval(r)
        );
    }
    h.push_str("</table>\n<h2>Charts</h2>\n");
    for path in charts {
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let _ = writeln!(
            h,
            "<figure id=\"{}\">\n<h3>{}</h3>\n<figcaption>{}</figcaption>\n{}\n</figure>",
            escape_html(file.trim_end_matches(".png")),
            heading(&file),
            escape_html(question(&file)),
            img(path, &format!("{} — {name}", heading(&file)))?
        );
    }
    h.push_str("</body>\n</html>\n");
    write_atomic(out, &h)
}

/// Writes `compare.html`: the scenarios, a table of headline metrics and the chart.
pub fn write_compare(scenarios: &[ScenarioSummary], png: &Path, out: &Path) -> Result<(), ChartError> {
    let mut h = String::with_capacity(1 << 19);
    page_start(&mut h, "cpsim scenario comparison");
    h.push_str("<h1>cpsim scenario comparison</h1>\n<h2>Scenarios</h2>\n<table>\n");
    h.push_str("<tr><th></th><th>scenario</th><th>folder</th><th>scenario file</th><th>hash</th><th>seed</th><th>replications</th><th>days</th></tr>\n");
    for (i, s) in scenarios.iter().enumerate() {
        let m = &s.manifest;
        let folder = s.dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            short_label(i),
            escape_html(&s.name()),
            escape_html(&folder),
            escape_html(&m.scenario_file),
            escape_html(&m.scenario_hash),
            escape_html(m.seed.to_string().trim_matches('"')),
            m.replications,
            m.days
        );
    }
    h.push_str("</table>\n<h2>Headline metrics</h2>\n<p>Mean over replications and, below it, the 95% interval across replications.</p>\n<table>\n<tr><th>metric</th>");
    for i in 0..scenarios.len() {
        let _ = write!(h, "<th>{}</th>", short_label(i));
    }
    h.push_str("</tr>\n");
    for (metric, label) in present_metrics(scenarios) {
        let _ = write!(h, "<tr><td>{}</td>", escape_html(label));
        for s in scenarios {
            match s.metric(metric) {
                Some(r) => {
                    let _ = write!(
                        h,
                        "<td class=\"num\">{}<br><small>{}</small></td>",
                        fmt_value(r.mean, &r.unit),
                        fmt_interval(r)
                    );
                }
                None => h.push_str("<td class=\"num\">n/a</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n<h2>Chart</h2>\n<figure>\n<figcaption>How do the scenarios differ on the headline metrics, and are the differences larger than the 95% intervals across replications?</figcaption>\n");
    h.push_str(&img(png, "Scenario comparison")?);
    h.push_str("\n</figure>\n</body>\n</html>\n");
    write_atomic(out, &h)
}
