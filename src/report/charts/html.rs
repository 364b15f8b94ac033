//! Self-contained HTML pages (report.html, compare.html): escaping, base64, tables.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::compare::short_label;
use super::data::{Scenario, ScenarioSummary, SummaryRow};
use super::draw::write_atomic;
use super::paired::Change;
use super::ChartError;
use crate::report::labels;

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
            "How many impressions reach new viewers, and turn into mini-program opens and paying users, \
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

/// A value of `metric` for a reader, formatted by [`crate::report::labels`]: a mean over
/// replications when `mean` (counts get one decimal), else a value of one run.
pub fn fmt_value(metric: &str, v: f64, unit: &str, mean: bool) -> String {
    match labels::unit_from_name(unit) {
        Some(u) => labels::format_metric(metric, u, v, mean),
        None if v.is_finite() => format!("{v:.4}"),
        None => "–".to_string(),
    }
}

/// The interval of a summary row over `n` replications, or the word that one has none.
fn fmt_interval(r: &SummaryRow, n: usize) -> String {
    match labels::unit_from_name(&r.unit) {
        Some(u) => labels::format_interval(&r.metric, u, r.lo, r.hi, n),
        None => "–".to_string(),
    }
}

/// The unit column of a summary table.
fn unit_cell(metric: &str, unit: &str) -> &'static str {
    match labels::unit_from_name(unit).map(|u| labels::metric_format(metric, u)) {
        Some(labels::Format::Money) => "RMB",
        Some(labels::Format::Count) => "count",
        Some(labels::Format::Percent) => "%",
        Some(labels::Format::Index) => "index 0–1",
        None => "",
    }
}

/// What the intervals of a page over `n` replications are.
pub fn interval_note(n: usize) -> String {
    if n < 2 {
        format!("Values of a single run: {}.", labels::one_replication_wording())
    } else {
        format!("Means with the {}.", labels::interval_wording(n))
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
    let n = s.head.manifest.replications as usize;
    let _ = writeln!(h, "<h2>Summary</h2>\n<p>{}</p>", escape_html(&interval_note(n)));
    let interval_head = if n < 2 { "interval".to_string() } else { labels::interval_wording(n) };
    let _ = writeln!(
        h,
        "<table id=\"summary\">\n<tr><th>metric</th><th>unit</th><th>{}</th><th>{}</th></tr>",
        if n < 2 { "value" } else { "mean" },
        escape_html(&interval_head)
    );
    for r in &s.head.summary {
        let _ = writeln!(
            h,
            "<tr><td title=\"{}\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape_html(&r.metric),
            escape_html(&labels::label(&r.metric)),
            unit_cell(&r.metric, &r.unit),
            fmt_value(&r.metric, r.mean, &r.unit, n > 1),
            escape_html(&fmt_interval(r, n))
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

/// One comparison of B against A on a page: its heading, its changes and its chart.
pub struct Section {
    pub heading: String,
    pub changes: Vec<Change>,
    pub png: PathBuf,
}

/// The table of a comparison: metric, A, B, the change with its interval and what it says.
fn changes_table(h: &mut String, changes: &[Change]) {
    h.push_str("<table class=\"changes\">\n<tr><th>metric</th><th>A</th><th>B</th><th>change of B from A (95% interval)</th><th>reading</th></tr>\n");
    let mut group = "";
    for c in changes {
        if c.group != group {
            group = &c.group;
            let _ = writeln!(h, "<tr><th colspan=\"5\">{}</th></tr>", escape_html(group));
        }
        let mean = c.n > 1;
        let _ = writeln!(
            h,
            "<tr><td title=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape_html(&c.metric),
            escape_html(&labels::label(&c.metric)),
            labels::format_metric(&c.metric, c.unit, c.a_mean, mean),
            labels::format_metric(&c.metric, c.unit, c.b_mean, mean),
            escape_html(&c.text()),
            c.verdict()
        );
    }
    h.push_str("</table>\n");
}

/// What the intervals of a comparison are.
fn changes_note(changes: &[Change]) -> String {
    let n = changes.iter().map(|c| c.n).min().unwrap_or(0);
    if n < 2 {
        return format!("Values of a single run each: {}.", labels::one_replication_wording());
    }
    let how = if changes.iter().all(|c| c.paired) {
        "paired: replication r of B uses the seeds of replication r of A (common random numbers), so the interval is that of the difference itself"
    } else {
        "unpaired: the runs do not share their seeds"
    };
    format!(
        "Each change is given with its {} ({how}). A change of a positive quantity is relative, computed on the log of the ratio of the means, so that its interval stays above −100%; a share, or a quantity that is zero or can be negative, is shown as the absolute difference B − A (shares in percentage points).",
        labels::interval_wording(n)
    )
}

/// Writes `compare.html` of a paired comparison (`cpsim compare`): the two scenarios, the table
/// of changes and the chart.
pub fn write_paired_page(a: &str, b: &str, changes: &[Change], png: &Path, out: &Path) -> Result<(), ChartError> {
    let mut h = String::with_capacity(1 << 19);
    let title = format!("cpsim comparison: {b} vs {a}");
    page_start(&mut h, &title);
    let _ = writeln!(h, "<h1>{}</h1>", escape_html(&title));
    let _ = writeln!(h, "<p class=\"meta\">A: {} · B: {}</p>", escape_html(a), escape_html(b));
    let _ = writeln!(h, "<h2>Changes</h2>\n<p>{}</p>", escape_html(&changes_note(changes)));
    changes_table(&mut h, changes);
    let _ = writeln!(h, "<h2>Chart</h2>\n<figure>\n<figcaption>How does B differ from A, metric by metric, and is the difference larger than its interval?</figcaption>\n{}\n</figure>", img(png, "Comparison of B against A")?);
    h.push_str("</body>\n</html>\n");
    write_atomic(out, &h)
}

/// Writes `compare.html` of several scenario folders: the scenarios, their headline levels and,
/// for each scenario after the first, its changes from the first with the chart.
pub fn write_compare(scenarios: &[ScenarioSummary], sections: &[Section], out: &Path) -> Result<(), ChartError> {
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
    h.push_str("</table>\n<h2>Headline metrics</h2>\n<p>Mean over replications and, below it, the 95% interval of the mean over the replications of that scenario.</p>\n<table>\n<tr><th>metric</th>");
    for i in 0..scenarios.len() {
        let _ = write!(h, "<th>{}</th>", short_label(i));
    }
    h.push_str("</tr>\n");
    let headline = [
        "gmv",
        "commission_settled",
        "operator_net",
        "subsidies",
        "creator_earnings",
        "creators_paid",
        "active_creators",
        "payout_gini",
        "payout_top10_share",
    ];
    for metric in headline.into_iter().filter(|m| scenarios.iter().any(|s| s.metric(m).is_some())) {
        let _ = write!(h, "<tr><td>{}</td>", escape_html(&labels::label(metric)));
        for s in scenarios {
            match s.metric(metric) {
                Some(r) => {
                    let _ = write!(
                        h,
                        "<td class=\"num\">{}<br><small>{}</small></td>",
                        fmt_value(metric, r.mean, &r.unit, s.manifest.replications > 1),
                        escape_html(&fmt_interval(r, s.manifest.replications as usize))
                    );
                }
                None => h.push_str("<td class=\"num\">n/a</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    for sec in sections {
        let _ =
            writeln!(h, "<h2>{}</h2>\n<p>{}</p>", escape_html(&sec.heading), escape_html(&changes_note(&sec.changes)));
        changes_table(&mut h, &sec.changes);
        let _ = writeln!(h, "<figure>\n{}\n</figure>", img(&sec.png, &sec.heading)?);
    }
    h.push_str("</body>\n</html>\n");
    write_atomic(out, &h)
}
