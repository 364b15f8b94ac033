//! Comparison chart: headline metrics of several scenarios, one panel per metric.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::ScenarioSummary;
use super::draw::*;
use super::ChartError;

/// Headline metrics compared, in panel order, with their panel titles.
pub const HEADLINE: [(&str, &str); 8] = [
    ("gmv", "GMV (RMB)"),
    ("commission_settled", "Commission settled (RMB)"),
    ("operator_net", "Operator net (RMB)"),
    ("subsidies", "Subsidies (RMB)"),
    ("creators_paid", "Creators paid (count)"),
    ("active_creators", "Active creators (count)"),
    ("payout_gini", "Payout Gini (share)"),
    ("payout_top10_share", "Top 10% payout share (share)"),
];

/// Headline metrics present in at least one scenario.
pub fn present_metrics(scenarios: &[ScenarioSummary]) -> Vec<(&'static str, &'static str)> {
    HEADLINE.iter().filter(|(m, _)| scenarios.iter().any(|s| s.metric(m).is_some())).cloned().collect()
}

/// Short label of scenario `i` under its bars.
pub fn short_label(i: usize) -> String {
    format!("S{}", i + 1)
}

/// Writes `compare.png`: a header with the scenario legend, then one panel per metric.
pub fn draw_compare_chart(scenarios: &[ScenarioSummary], path: &Path) -> Result<(), ChartError> {
    let metrics = present_metrics(scenarios);
    let names: Vec<String> = scenarios.iter().map(|s| s.name()).collect();
    let title =
        format!("Scenario comparison: headline metrics (mean and 95% interval) — {} scenarios", scenarios.len());
    let per_row = 3usize;
    let legend_rows = names.len().div_ceil(per_row);
    let header = 60 + 28 * legend_rows as u32;
    let (w, h) = super::CHART_SIZE;
    render_sized(path, (w, h + 28 * legend_rows.saturating_sub(2) as u32), |root| {
        if metrics.is_empty() {
            return no_data(root, &title, "No scenario has any headline metric in summary.csv.");
        }
        let (head, body) = root.split_vertically(header);
        head.draw(&Text::new(
            title.clone(),
            (w as i32 / 2, 12),
            text(26.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let col_w = (w as i32 - 40) / per_row as i32;
        for (i, name) in names.iter().enumerate() {
            let x = 20 + col_w * (i % per_row) as i32;
            let y = 56 + 28 * (i / per_row) as i32;
            head.draw(&Rectangle::new([(x, y), (x + 18, y + 18)], color(i).filled()))?;
            let style = text(18.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            let label = fit(&head, &format!("{}: {name}", short_label(i)), &style, col_w - 40);
            head.draw(&Text::new(label, (x + 26, y + 9), style))?;
        }
        let cols = metrics.len().min(4);
        let rows = metrics.len().div_ceil(cols);
        let panels = body.split_evenly((rows, cols));
        for (panel, (metric, label)) in panels.iter().zip(&metrics) {
            draw_panel(root, panel, scenarios, metric, label)?;
        }
        Ok(())
    })
}

/// One metric's panel: a bar per scenario with its 95% interval.
fn draw_panel(root: &Root, panel: &Root, scenarios: &[ScenarioSummary], metric: &str, label: &str) -> Drawn {
    let vals: Vec<Option<(f64, f64, f64)>> = scenarios
        .iter()
        .map(|s| s.metric(metric).map(|r| (r.mean, r.lo, r.hi)))
        .map(|v| v.filter(|(m, _, _)| m.is_finite()))
        .collect();
    let ext = vals.iter().flatten().flat_map(|(m, lo, hi)| [*m, *lo, *hi]).filter(|v| v.is_finite());
    let lo = ext.clone().fold(0.0, f64::min);
    let hi = ext.fold(0.0, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let (y0, y1) = (if lo < 0.0 { lo - 0.12 * span } else { 0.0 }, hi + 0.15 * span);
    let n = scenarios.len().max(1) as f64;
    let share = metric.contains("gini") || metric.ends_with("_share");
    let mut chart = ChartBuilder::on(panel)
        .caption(label, font(19.0))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(62)
        .build_cartesian_2d(-0.5f64..n - 0.5, y0..y1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .label_style(font(14.0))
        .y_label_formatter(&|y| {
            if share {
                format!("{y:.2}")
            } else {
                compact(*y)
            }
        })
        .light_line_style(WHITE)
        .draw()?;
    for (i, v) in vals.iter().enumerate() {
        let x = i as f64;
        let Some((m, lo, hi)) = *v else {
            chart.draw_series(std::iter::once(Text::new(
                "n/a",
                (x, 0.0f64.max(y0)),
                text(14.0, &GREY).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
            continue;
        };
        chart.draw_series(std::iter::once(Rectangle::new([(x - 0.32, 0.0), (x + 0.32, m)], color(i).filled())))?;
        let mut top = m.max(0.0);
        if lo.is_finite() && hi.is_finite() {
            let style = BLACK.stroke_width(2);
            for seg in [vec![(x, lo), (x, hi)], vec![(x - 0.1, lo), (x + 0.1, lo)], vec![(x - 0.1, hi), (x + 0.1, hi)]]
            {
                chart.draw_series(std::iter::once(PathElement::new(seg, style)))?;
            }
            top = top.max(hi);
        }
        let value = if share { format!("{m:.3}") } else { compact(m) };
        chart.draw_series(std::iter::once(Text::new(
            value,
            (x, top + 0.02 * span),
            text(13.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Bottom)),
        )))?;
    }
    let names: Vec<(f64, String)> = (0..scenarios.len()).map(|i| (i as f64, short_label(i))).collect();
    x_names(root, &chart, &y0, &names, 14.0, 6)
}
