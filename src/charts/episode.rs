//! Episode chart of a paired comparison: for the episode metrics (docs/VALIDATION.md), the
//! change B - A relative to A, in percent, with its paired 95% interval (a forest plot).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::*;
use super::ChartError;
use crate::episodes::EpisodeRow;

/// Market-wide metrics shown, in order; then, per category, [`PER_CATEGORY`].
const MARKET: [&str; 9] = [
    "gmv",
    "clips",
    "post_share",
    "square_plans",
    "commission_accrued",
    "operator_net",
    "active_creators",
    "payout_gini",
    "payout_top1_share",
];
const PER_CATEGORY: [&str; 6] =
    ["clips", "clip_share", "gmv", "commission", "douyin_title_share", "operator_net_per_title"];

/// The rows drawn: (label, mean, low, high) of 100 * (B - A) / |A|; rows whose A is 0, whose
/// difference is not finite, or that are the same in every pair (B - A = 0) are left out.
fn relative(rows: &[EpisodeRow]) -> Vec<(String, f64, f64, f64)> {
    let wanted = |m: &str| {
        MARKET.contains(&m)
            || m.split_once('[').is_some_and(|(base, rest)| rest.ends_with(']') && PER_CATEGORY.contains(&base))
    };
    rows.iter()
        .filter(|r| wanted(&r.metric) && r.a.mean.abs() > 0.0 && r.diff.mean.is_finite())
        .filter(|r| !(r.diff.mean == 0.0 && r.diff.sd == 0.0))
        .map(|r| {
            let k = 100.0 / r.a.mean.abs();
            (r.metric.clone(), r.diff.mean * k, r.diff.lo * k, r.diff.hi * k)
        })
        .collect()
}

/// Writes the forest plot of `rows` to `path`; `title` names the two scenarios.
pub fn draw_episode(rows: &[EpisodeRow], title: &str, path: &Path) -> Result<(), ChartError> {
    super::ensure_font()?;
    let items = relative(rows);
    let n = items.len();
    let (w, _) = super::CHART_SIZE;
    let h = (130 + 26 * n as u32).max(300);
    let heading = format!("B vs A: change in % of A, mean and paired 95% interval — {title}");
    render_sized(path, (w, h), |root| {
        if items.is_empty() {
            return no_data(root, &heading, "No episode metric with a non-zero A.");
        }
        let ext = items.iter().flat_map(|(_, m, lo, hi)| [*m, *lo, *hi]).filter(|v| v.is_finite());
        let x0 = ext.clone().fold(0.0, f64::min);
        let x1 = ext.fold(0.0, f64::max);
        let pad = 0.08 * (x1 - x0).max(1.0);
        let mut chart = ChartBuilder::on(root)
            .caption(&heading, font(20.0))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(300)
            .build_cartesian_2d(x0 - pad..x1 + pad, -0.5f64..n as f64 - 0.5)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(10)
            .label_style(font(14.0))
            .x_desc("(B - A) / A, %")
            .axis_desc_style(font(16.0))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
            BLACK.stroke_width(1),
        )))?;
        for (i, (label, m, lo, hi)) in items.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let c = if *lo > 0.0 {
                RGBColor(26, 128, 60)
            } else if *hi < 0.0 {
                RGBColor(190, 40, 40)
            } else {
                RGBColor(120, 120, 120)
            };
            if lo.is_finite() && hi.is_finite() {
                chart.draw_series(std::iter::once(PathElement::new(vec![(*lo, y), (*hi, y)], c.stroke_width(3))))?;
            }
            chart.draw_series(std::iter::once(Circle::new((*m, y), 5, c.filled())))?;
            let (px, py) = chart.backend_coord(&(x0 - pad, y));
            let value = format!("{m:+.1}%  {label}");
            root.draw(&Text::new(value, (px - 10, py), text(14.0, &BLACK).pos(Pos::new(HPos::Right, VPos::Center))))?;
        }
        Ok(())
    })
}
