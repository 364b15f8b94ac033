//! Own-plan charts: one PNG per own plan (`own_plan_<k>.png`, k its index in `[[plans]]`) with
//! four panels over the run: daily clips, daily GMV, daily commission and the budget used so
//! far, each the mean over replications with its 95% band, the day the plan closed (its budget
//! ran out or it ended; mean over replications) marked. Drawn from `own_plans_daily.csv` and
//! `own_plans.csv` alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::draw::*;
use super::ChartError;
use crate::report::own_plans::{OWN_PLANS, OWN_PLANS_DAILY};

/// The panels: (metric of own_plans_daily.csv, panel title, y axis).
const PANELS: [(&str, &str, &str); 4] = [
    ("clips", "Clips a day", "clips"),
    ("gmv", "GMV a day", "RMB"),
    ("commission_accrued", "Commission a day", "RMB"),
    ("budget_used", "Budget used so far", "RMB"),
];

/// One plan's series: metric -> (mean, lo, hi) by day.
type Series = BTreeMap<String, Vec<(f64, f64, f64)>>;

struct OwnPlan {
    name: String,
    series: Series,
    closed_day: Option<f64>,
    ran_out: Option<f64>,
}

fn bad(path: &Path, line: usize, message: &str) -> ChartError {
    ChartError::BadRow { path: path.to_path_buf(), line: line as u64, message: message.to_owned() }
}

/// Splits a line whose first field after `skip` fields may be a quoted name holding commas:
/// (`skip` leading fields, the name, the rest).
fn fields(line: &str, skip: usize, rest: usize) -> Option<(Vec<&str>, String, Vec<&str>)> {
    let mut head = Vec::new();
    let mut tail = line;
    for _ in 0..skip {
        let (a, b) = tail.split_once(',')?;
        head.push(a);
        tail = b;
    }
    let parts: Vec<&str> = tail.rsplitn(rest + 1, ',').collect();
    if parts.len() != rest + 1 {
        return None;
    }
    let raw = parts[rest];
    let name = match raw.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(q) => q.replace("\"\"", "\""),
        None => raw.to_owned(),
    };
    let mut back: Vec<&str> = parts[..rest].to_vec();
    back.reverse();
    Some((head, name, back))
}

fn load(dir: &Path) -> Result<(Vec<OwnPlan>, Vec<String>), ChartError> {
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|source| ChartError::Io { path: p, source })
    };
    let mut plans: Vec<OwnPlan> = Vec::new();
    let mut dates: Vec<String> = Vec::new();
    let daily_path = dir.join(OWN_PLANS_DAILY);
    for (i, line) in read(OWN_PLANS_DAILY)?.lines().enumerate().skip(1) {
        let (head, name, rest) = fields(line, 2, 4).ok_or_else(|| bad(&daily_path, i + 1, "expected 7 fields"))?;
        let day: usize = head[0].parse().map_err(|_| bad(&daily_path, i + 1, "bad day"))?;
        if dates.len() <= day {
            dates.resize(day + 1, String::new());
        }
        dates[day] = head[1].to_owned();
        let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
        let k = match plans.iter().position(|p| p.name == name) {
            Some(k) => k,
            None => {
                plans.push(OwnPlan { name: name.clone(), series: Series::new(), closed_day: None, ran_out: None });
                plans.len() - 1
            }
        };
        let v = plans[k].series.entry(rest[0].to_owned()).or_default();
        if v.len() <= day {
            v.resize(day + 1, (0.0, 0.0, 0.0));
        }
        v[day] = (num(rest[1]), num(rest[2]), num(rest[3]));
    }
    for line in read(OWN_PLANS)?.lines().skip(1) {
        let Some((_, name, rest)) = fields(line, 0, 7) else { continue };
        let Some(p) = plans.iter_mut().find(|p| p.name == name) else { continue };
        let mean = rest[2].parse::<f64>().ok();
        match rest[0] {
            "closed_day" => p.closed_day = mean,
            "budget_ran_out" => p.ran_out = mean,
            _ => {}
        }
    }
    Ok((plans, dates))
}

/// Draws `charts/own_plan_<k>.png` for each own plan of the folder (none without
/// own_plans_daily.csv); returns the paths.
pub fn draw_own_plans(dir: &Path, scenario: &str) -> Result<Vec<PathBuf>, ChartError> {
    if !dir.join(OWN_PLANS_DAILY).is_file() {
        return Ok(Vec::new());
    }
    let (plans, dates) = load(dir)?;
    let mut out = Vec::new();
    for (k, p) in plans.iter().enumerate() {
        let path = dir.join("charts").join(format!("own_plan_{k}.png"));
        draw_one(&path, p, &dates, scenario)?;
        out.push(path);
    }
    Ok(out)
}

fn draw_one(path: &Path, p: &OwnPlan, dates: &[String], scenario: &str) -> Result<(), ChartError> {
    let title = title(&format!("Own plan {}: clips, GMV, commission and budget", p.name), scenario);
    let closed = p.closed_day.filter(|d| d.is_finite());
    let closed_label = match (closed, p.ran_out) {
        (Some(d), Some(share)) => format!(
            "closed {} (mean day {d:.1}; budget ran out in {} of replications)",
            day_label(dates, d.round()),
            pct(share)
        ),
        _ => String::new(),
    };
    render(path, |root| {
        let (top, body) = root.split_vertically(70);
        top.draw(&Text::new(title.clone(), (20, 12), title_font().into_text_style(&top)))?;
        top.draw(&Text::new(closed_label.clone(), (20, 44), text(16.0, &GREY)))?;
        let cells = body.split_evenly((2, 2));
        for ((metric, panel, unit), area) in PANELS.iter().zip(cells.iter()) {
            let empty = Vec::new();
            let v = p.series.get(*metric).unwrap_or(&empty);
            let days = dates.len().max(1);
            let ymax = v.iter().map(|x| finite(x.2).max(finite(x.0))).fold(0.0, f64::max);
            let mut chart = ChartBuilder::on(area)
                .caption(*panel, label_font())
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..(days.saturating_sub(1)).max(1) as f64, 0f64..headroom(ymax, 1.12))?;
            chart
                .configure_mesh()
                .y_desc(*unit)
                .axis_desc_style(desc_font())
                .label_style(label_font())
                .x_labels(6)
                .y_labels(6)
                .x_label_formatter(&|x| day_label(dates, *x))
                .y_label_formatter(&|y| compact(*y))
                .light_line_style(WHITE)
                .draw()?;
            let xs = || (0..v.len()).map(|d| d as f64);
            let mut band: Vec<(f64, f64)> = xs().zip(v.iter().map(|x| finite(x.2).max(0.0))).collect();
            band.extend(xs().zip(v.iter().map(|x| finite(x.1).max(0.0))).rev());
            let fill = tint(color(0), 0.25);
            chart.draw_series(std::iter::once(Polygon::new(band, fill.filled())))?;
            chart.draw_series(LineSeries::new(xs().zip(v.iter().map(|x| finite(x.0))), color(0).stroke_width(2)))?;
            if let Some(d) = closed {
                let top = headroom(ymax, 1.12);
                chart.draw_series(DashedLineSeries::new([(d, 0.0), (d, top)], 6, 4, BLACK.stroke_width(1)))?;
            }
        }
        Ok(())
    })
}

/// The metrics the report's own-plan table shows, in its order.
const TABLE: [&str; 11] = [
    "clips",
    "creators",
    "opens",
    "payers",
    "gmv",
    "commission_accrued",
    "commission_settled",
    "operator_net",
    "operator_net_per_commission_rmb",
    "budget_used",
    "closed_date",
];

/// The section of `report.html` that leads it when the run has own plans: a table of each
/// plan's results (mean and 95% interval over replications) and its chart. Empty otherwise.
pub fn report_section(dir: &Path, charts: &[PathBuf]) -> Result<String, ChartError> {
    use std::fmt::Write as _;
    let p = dir.join(OWN_PLANS);
    if !p.is_file() {
        return Ok(String::new());
    }
    let text = std::fs::read_to_string(&p).map_err(|source| ChartError::Io { path: p.clone(), source })?;
    let rows: Vec<(String, Vec<String>)> = text
        .lines()
        .skip(1)
        .filter_map(|l| fields(l, 0, 7))
        .map(|(_, n, r)| (n, r.iter().map(|s| s.to_string()).collect()))
        .collect();
    let mut names: Vec<String> = Vec::new();
    for (n, _) in &rows {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let esc = super::escape_html;
    let mut h = String::from(
        "<h2>Your plans</h2>\n<p>Each own plan of <code>[[plans]]</code>: mean over replications and the 95% \
         interval of the mean (Student t); money in RMB. <code>own_plans.csv</code> has every metric, \
         <code>own_plans_daily.csv</code> the daily series.</p>\n",
    );
    h.push_str("<table>\n<tr><th>metric</th>");
    for n in &names {
        let _ = write!(h, "<th>{}</th>", esc(n));
    }
    h.push_str("</tr>\n");
    for m in TABLE {
        let _ = write!(h, "<tr><td><code>{m}</code></td>");
        for n in &names {
            let cell = rows
                .iter()
                .find(|(name, r)| name == n && r[0] == m)
                .map(|(_, r)| format!("{} [{}, {}]", r[2], r[4], r[5]))
                .unwrap_or_default();
            let _ = write!(h, "<td class=\"num\">{}</td>", esc(&cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    for (k, path) in charts.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|source| ChartError::Io { path: path.clone(), source })?;
        let name = names.get(k).cloned().unwrap_or_default();
        let _ = writeln!(
            h,
            "<figure id=\"own_plan_{k}\">\n<h3>{}</h3>\n<figcaption>How many clips, how much GMV and commission \
             does the plan bring each day, and how fast does it spend its budget (95% bands; the dashed line is \
             the mean day it closed)?</figcaption>\n<img alt=\"Own plan {}\" width=\"1200\" src=\"data:image/png;base64,{}\">\n</figure>",
            esc(&name),
            esc(&name),
            super::base64_encode(&bytes)
        );
    }
    Ok(h)
}
