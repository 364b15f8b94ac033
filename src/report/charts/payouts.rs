//! Payout charts: daily and cumulative commission settled, stacked by category.

use std::path::Path;

use plotters::prelude::*;

use super::data::Scenario;
use super::draw::*;
use super::ChartError;

/// Fill of the 95% band of the total.
const BAND: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);

/// One stacked layer.
struct Layer {
    name: String,
    color: RGBColor,
    values: Vec<f64>,
}

/// The total line drawn over the layers, with an optional 95% band.
struct Total {
    label: String,
    values: Vec<f64>,
    band: Option<(Vec<f64>, Vec<f64>)>,
}

/// Daily commission settled per category (layers) and the total (from the `all` scope,
/// else the sum of the layers) with its 95% band when daily.csv has one.
fn daily_series(s: &Scenario) -> (Vec<Layer>, Total) {
    let days = s.days();
    let keys = s.keys("category");
    let mut layers: Vec<Layer> = keys
        .iter()
        .enumerate()
        .map(|(i, (_, name))| Layer { name: name.clone(), color: color(i), values: vec![0.0; days] })
        .collect();
    for r in s.scope("category") {
        if let Some(k) = keys.iter().position(|(id, _)| *id == r.key) {
            layers[k].values[r.day] += finite(r.commission_settled).max(0.0);
        }
    }
    let mut total = vec![0.0; days];
    let (mut lo, mut hi) = (vec![f64::NAN; days], vec![f64::NAN; days]);
    let mut has_all = false;
    for r in s.scope("all") {
        has_all = true;
        total[r.day] += finite(r.commission_settled);
        lo[r.day] = r.settled_lo;
        hi[r.day] = r.settled_hi;
    }
    if !has_all {
        for l in &layers {
            for (t, v) in total.iter_mut().zip(&l.values) {
                *t += v;
            }
        }
    }
    let band = if lo.iter().chain(&hi).any(|v| v.is_finite()) {
        let fill = |b: Vec<f64>| -> Vec<f64> {
            b.iter().zip(&total).map(|(v, t)| if v.is_finite() { *v } else { *t }).collect()
        };
        Some((fill(lo), fill(hi)))
    } else {
        None
    };
    let reps = s.head.manifest.replications;
    let total = Total {
        label: if reps > 0 { format!("Total (mean of {reps} replications)") } else { "Total".to_string() },
        values: total,
        band,
    };
    (layers, total)
}

fn is_empty(layers: &[Layer], total: &Total) -> bool {
    let nothing = |v: &[f64]| v.iter().all(|x| *x == 0.0);
    layers.iter().all(|l| nothing(&l.values)) && nothing(&total.values)
}

/// `payouts_daily.png`: daily commission settled stacked by category, with the total's
/// 95% interval across replications.
pub fn draw_daily(s: &Scenario, path: &Path) -> Result<(), ChartError> {
    let (layers, total) = daily_series(s);
    let title = title("Daily commission settled by category", &s.name());
    let dates = s.dates();
    render(path, |root| {
        if is_empty(&layers, &total) {
            return no_data(root, &title, "No commission was settled in this run.");
        }
        stacked(root, &title, "Commission settled per day (RMB)", &dates, &layers, &total)
    })
}

/// `payouts_cumulative.png`: cumulative commission settled stacked by category.
pub fn draw_cumulative(s: &Scenario, path: &Path) -> Result<(), ChartError> {
    let (mut layers, mut total) = daily_series(s);
    let cumulate = |v: &mut Vec<f64>| {
        let mut acc = 0.0;
        for x in v.iter_mut() {
            acc += *x;
            *x = acc;
        }
    };
    for l in &mut layers {
        cumulate(&mut l.values);
    }
    cumulate(&mut total.values);
    total.band = None;
    let grand: f64 = layers.iter().map(|l| l.values.last().unwrap_or(&0.0)).sum();
    for l in &mut layers {
        let last = *l.values.last().unwrap_or(&0.0);
        let share = if grand > 0.0 { last / grand } else { 0.0 };
        l.name = format!("{}: {} ({})", l.name, rmb(last), pct(share));
    }
    if let Some(last) = total.values.last() {
        total.label = format!("{}: {}", total.label, rmb(*last));
    }
    let title = title("Cumulative commission settled by category", &s.name());
    let dates = s.dates();
    render(path, |root| {
        if is_empty(&layers, &total) {
            return no_data(root, &title, "No commission was settled in this run.");
        }
        stacked(root, &title, "Cumulative commission settled (RMB)", &dates, &layers, &total)
    })
}

/// Stacked areas over days (bottom layer first in `layers`), the total as a black line
/// and its band as a grey area between dashed lines.
fn stacked(root: &Root, title: &str, y_desc: &str, dates: &[String], layers: &[Layer], total: &Total) -> Drawn {
    // The legend goes in a strip under the plot: over the plot it hid the first days' peak.
    let mut legend: Vec<(String, Mark)> =
        layers.iter().rev().map(|l| (l.name.clone(), Mark::Area(tint(l.color, 0.12)))).collect();
    if total.band.is_some() {
        legend.push(("Total: 95% interval of the mean over the replications".to_string(), Mark::Band(BAND)));
    }
    legend.push((total.label.clone(), Mark::Line(BLACK, 2)));
    let (root, strip) = split_for_legend(root, legend.len(), 3);
    legend_strip(&strip, &legend, 3)?;
    let root = &root;
    let days = total.values.len();
    let mut tops: Vec<Vec<f64>> = Vec::with_capacity(layers.len());
    let mut acc = vec![0.0; days];
    for l in layers {
        for (a, v) in acc.iter_mut().zip(&l.values) {
            *a += v;
        }
        tops.push(acc.clone());
    }
    let mut ymax = acc.iter().chain(&total.values).cloned().fold(0.0, f64::max);
    if let Some((_, hi)) = &total.band {
        ymax = hi.iter().cloned().fold(ymax, f64::max);
    }
    let xmax = (days.saturating_sub(1)).max(1) as f64;

    let mut chart = ChartBuilder::on(root)
        .caption(title, title_font())
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..xmax, 0f64..headroom(ymax, 1.12))?;
    chart
        .configure_mesh()
        .x_desc(day_axis_desc(dates))
        .y_desc(y_desc)
        .axis_desc_style(desc_font())
        .label_style(label_font())
        .x_labels(14)
        .y_labels(10)
        .x_label_formatter(&|x| day_label(dates, *x))
        .y_label_formatter(&|y| compact(*y))
        .light_line_style(WHITE)
        .draw()?;

    let xs = || (0..days).map(|d| d as f64);
    // The band goes under the opaque layers: only its part above the stack shows as grey,
    // while its dashed bounds, drawn last, show all of it.
    if let Some((lo, hi)) = &total.band {
        let mut pts: Vec<(f64, f64)> = xs().zip(hi.iter().cloned()).collect();
        pts.extend(xs().zip(lo.iter().cloned()).rev());
        chart.draw_series(std::iter::once(Polygon::new(pts, BAND.filled())))?;
    }
    for (k, l) in layers.iter().enumerate().rev() {
        let zero = vec![0.0; days];
        let lower = if k == 0 { &zero } else { &tops[k - 1] };
        let mut pts: Vec<(f64, f64)> = xs().zip(tops[k].iter().cloned()).collect();
        pts.extend(xs().zip(lower.iter().cloned()).rev());
        chart.draw_series(std::iter::once(Polygon::new(pts, tint(l.color, 0.12).filled())))?;
    }
    if let Some((lo, hi)) = &total.band {
        for b in [lo, hi] {
            chart.draw_series(DashedLineSeries::new(xs().zip(b.iter().cloned()), 6, 4, BLACK.stroke_width(1)))?;
        }
    }
    chart.draw_series(LineSeries::new(xs().zip(total.values.iter().cloned()), BLACK.stroke_width(2)))?;
    Ok(())
}
