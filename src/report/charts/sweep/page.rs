//! `sweep.html`: the parameters, the table of variants and every chart inline.

use std::path::Path;

use super::super::draw::write_atomic;
use super::*;

/// The heat map's metrics in words.
fn heat_words(subject: Subject) -> &'static str {
    match subject {
        Subject::Market => "GMV and operator net",
        Subject::Own(_) => "Operator net and clips",
    }
}

/// What each chart shows, for the page.
fn caption(s: &Sweep, subject: Subject, plan: Option<&LinePlan>, heat: Option<(usize, usize)>) -> String {
    let whose = match subject {
        Subject::Market => String::new(),
        Subject::Own(k) => format!(" of own plan {}", s.own_plans[k]),
    };
    match (plan, heat) {
        (Some(plan), _) => {
            let p = &s.params[plan.axis];
            let metrics = match subject {
                Subject::Market => "GMV, operator net, creators paid and commission settled",
                Subject::Own(_) => "operator net, clips, GMV and commission settled",
            };
            let mut c = format!("How do {metrics}{whose} change with {}? {}", p.key, interval_words(s));
            if plan.lines.len() > 1 {
                c.push_str("; one line per value of the other parameters");
            }
            if plan.scatter {
                let _ = write!(c, "; the other parameters take more than {MAX_LINES} combinations, so each variant is a point");
            }
            if !p.numeric {
                c.push_str("; its values are text, drawn as categories");
            }
            c.push('.');
            c
        }
        (None, Some((a, b))) => format!(
            "Mean {}{whose} over every combination of {} (x) and {} (y); the colour scale of each panel runs from its lowest to its highest mean.",
            heat_words(subject).to_lowercase(),
            s.params[a].key,
            s.params[b].key
        ),
        (None, None) => String::new(),
    }
}

/// "Means with their 95% intervals of the mean over N replications", or that one has none.
fn interval_words(s: &Sweep) -> String {
    match s.replications {
        Some(r) if r < 2 => "Means of one replication (no interval)".to_string(),
        Some(r) => format!("Means with the {}", crate::report::labels::interval_wording(r as usize)),
        None => "Means with their 95% intervals of the mean".to_string(),
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC',\
'Microsoft YaHei',sans-serif;margin:2em auto;max-width:1240px;padding:0 1em;color:#222;\
line-height:1.45}h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;\
border-bottom:1px solid #ddd}.meta{color:#555;font-size:.92em}table{border-collapse:collapse;\
font-size:.9em}th,td{padding:.25em .6em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}\
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.num small{white-space:normal}\
th{background:#f4f4f4}figure{margin:1.5em 0}figcaption{margin:.3em 0 .6em}\
img{max-width:100%;height:auto;border:1px solid #ddd}code{font-size:.95em}small{color:#666}\
.wide{overflow-x:auto;max-width:100%}th{font-weight:600;min-width:6em}";

/// Writes `sweep.html`: the parameters, the table of variants and every chart inline.
pub(super) fn write_page(
    s: &Sweep,
    plans: &[LinePlan],
    heat: Option<(usize, usize)>,
    charts: &[ChartJob],
    out: &Path,
) -> Result<(), ChartError> {
    let name = escape_html(&s.name);
    let mut h = String::with_capacity(1 << 20);
    h.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>cpsim sweep: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(h, "<h1>cpsim sweep: {name}</h1>");
    let folder = s.dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let mut meta = format!("folder: <code>{}</code> · variants: {}", escape_html(&folder), s.variants.len());
    if let Some(r) = s.replications {
        let _ = write!(meta, " · replications per variant: {r}");
    }
    let _ = writeln!(h, "<p class=\"meta\">{meta}</p>");
    if !s.params.is_empty() {
        h.push_str("<p class=\"meta\">Swept parameters: ");
        let items: Vec<String> = s
            .params
            .iter()
            .map(|p| {
                let kind = if p.numeric { "" } else { ", text" };
                format!("<code>{}</code> ({} values{kind})", escape_html(&p.key), p.levels.len())
            })
            .collect();
        h.push_str(&items.join(", "));
        h.push_str("</p>\n");
    }
    for plan in plans.iter().filter(|p| !p.linked.is_empty()) {
        let keys: Vec<String> =
            plan.linked.iter().map(|&p| format!("<code>{}</code>", escape_html(&s.params[p].key))).collect();
        let _ = writeln!(
            h,
            "<p class=\"meta\">{} move together with <code>{}</code>; their chart is drawn against the latter.</p>",
            keys.join(", "),
            escape_html(&s.params[plan.axis].key)
        );
    }

    let note = match s.replications {
        Some(r) => super::super::html::interval_note(r as usize),
        None => "Means over replications and, below them, the 95% interval of the mean.".to_string(),
    };
    let _ = writeln!(h, "<h2>Variants</h2>\n<p>{}</p>", escape_html(&note));
    h.push_str("<div class=\"wide\"><table>\n<tr><th>variant</th>");
    for p in &s.params {
        let _ = write!(h, "<th><code>{}</code></th>", escape_html(&p.key));
    }
    // Each own plan's operator net and clips lead, then the market's headline.
    let own = (0..s.own_plans.len()).flat_map(|k| {
        Subject::Own(k).heat_panels(s).into_iter().map(move |p| {
            let header = crate::report::labels::label(&p.metric);
            let stem = p.metric.rsplit('.').next().unwrap_or_default().to_string();
            (p.metric, header, stem, p.unit)
        })
    });
    let market =
        TABLE.iter().map(|&(m, _, unit)| (m.to_string(), crate::report::labels::label(m), m.to_string(), unit));
    let present: Vec<(String, String, String, &str, Vec<Est>)> = own
        .chain(market)
        .filter(|(m, ..)| s.metrics.iter().any(|(n, _)| n == m))
        .map(|(m, header, stem, unit)| {
            let est = s.metric(&m);
            (m, header, stem, unit, est)
        })
        .collect();
    for (_, header, ..) in &present {
        let _ = write!(h, "<th>{}</th>", escape_html(header));
    }
    h.push_str("</tr>\n");
    for (v, variant) in s.variants.iter().enumerate() {
        let _ = write!(h, "<tr><td><code>{}</code></td>", escape_html(variant));
        for p in &s.params {
            let value = p.label(p.level_of[v]);
            let class = if p.numeric { " class=\"num\"" } else { "" };
            let _ = write!(h, "<td{class}>{}</td>", escape_html(&value));
        }
        for (_, _, m, unit, est) in &present {
            let e = est[v];
            let interval = match s.replications {
                Some(r) if r < 2 => "no interval".to_string(),
                _ if e.lo.is_finite() && e.hi.is_finite() => {
                    format!("{} to {}", fmt_value(m, e.lo, unit, true), fmt_value(m, e.hi, unit, true))
                }
                _ => "–".to_string(),
            };
            let mean = !matches!(s.replications, Some(r) if r < 2);
            let _ =
                write!(h, "<td class=\"num\">{}<br><small>{interval}</small></td>", fmt_value(m, e.mean, unit, mean));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
    if !present.iter().any(|(m, ..)| m == "gmv") {
        h.push_str("<p class=\"meta\">sweep.csv has no headline metric columns.</p>\n");
    }

    h.push_str("<h2>Charts</h2>\n");
    if charts.is_empty() {
        h.push_str("<p>No parameter columns in sweep.csv: nothing to chart.</p>\n");
    }
    for job in charts {
        let path = &job.path;
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = file.trim_end_matches(".png");
        let prefix = job.subject.prefix(s);
        let (heading, cap) = match job.plan {
            None => (format!("{prefix}{} over the grid", heat_words(job.subject)), caption(s, job.subject, None, heat)),
            Some(i) => {
                (format!("{prefix}{}", param_title(s, &plans[i])), caption(s, job.subject, Some(&plans[i]), None))
            }
        };
        let bytes = std::fs::read(path).map_err(|source| ChartError::Io { path: path.clone(), source })?;
        let _ = writeln!(
            h,
            "<figure id=\"{}\">\n<h3>{}</h3>\n<figcaption>{}</figcaption>\n<img alt=\"{} — {name}\" width=\"1200\" src=\"data:image/png;base64,{}\">\n</figure>",
            escape_html(stem),
            escape_html(&heading),
            escape_html(&cap),
            escape_html(&heading),
            base64_encode(&bytes)
        );
    }
    h.push_str("</body>\n</html>\n");
    write_atomic(out, &h)
}
