//! Episode levels of a paired comparison (docs/VALIDATION.md): per category, each side's shares
//! with their intervals. The changes themselves are drawn by [`super::paired`].

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::*;
use super::ChartError;
use crate::model::metrics::{Stat, Unit};

/// One episode metric over replications: each side's mean and interval, and the paired
/// difference B - A (common random numbers) with its interval and variance reduction.
#[derive(Clone, Debug)]
pub struct EpisodeRow {
    pub metric: String,
    pub unit: Unit,
    pub a: Stat,
    pub b: Stat,
    pub diff: Stat,
    pub variance_reduction: f64,
}

/// The level panels of [`draw_levels`]: metric prefix, panel title, scale to a share.
const LEVELS: [(&str, &str, f64); 3] = [
    ("clip_share", "Share of clips", 1.0),
    ("gmv_share", "Share of GMV", 1.0),
    ("top10_opens", "Share of the 10 titles with most opens", 0.1),
];

/// Writes the category levels of A and B to `path`: per category, its share of clips, of GMV
/// and of the 10 titles with most opens, each side's mean with its 95% interval over
/// replications (for the baseline, where A is B, a chart of the levels themselves).
pub fn draw_levels(rows: &[EpisodeRow], title: &str, path: &Path) -> Result<(), ChartError> {
    super::ensure_font()?;
    let cats: Vec<String> = rows
        .iter()
        .filter_map(|r| r.metric.strip_prefix("clip_share[").and_then(|c| c.strip_suffix(']')))
        .map(str::to_owned)
        .collect();
    let same = rows.iter().all(|r| r.diff.mean == 0.0 && r.diff.sd == 0.0);
    let heading = if same {
        format!("Category levels, mean and 95% interval over replications — {title}")
    } else {
        format!("Category levels of A (light) and B (dark), mean and 95% interval — {title}")
    };
    let (w, h) = super::CHART_SIZE;
    render_sized(path, (w, h.min(140 + 70 * cats.len() as u32)), |root| {
        if cats.is_empty() {
            return no_data(root, &heading, "No category shares in the episode metrics.");
        }
        let (head, body) = root.split_vertically(50);
        head.draw(&Text::new(
            heading.clone(),
            (w as i32 / 2, 14),
            text(20.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let panels = body.split_evenly((1, LEVELS.len()));
        for (k, (panel, (prefix, label, scale))) in panels.iter().zip(LEVELS).enumerate() {
            let mut chart = ChartBuilder::on(panel)
                .caption(label, font(17.0))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(if k == 0 { 110 } else { 10 })
                .build_cartesian_2d(0.0f64..1.08, -0.5f64..cats.len() as f64 - 0.5)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(6)
                .label_style(font(13.0))
                .x_label_formatter(&|x| format!("{x:.1}"))
                .draw()?;
            for (i, c) in cats.iter().enumerate() {
                let Some(r) = rows.iter().find(|r| r.metric == format!("{prefix}[{c}]")) else { continue };
                let y = (cats.len() - 1 - i) as f64;
                let sides: Vec<(f64, _, RGBColor)> = if same {
                    vec![(0.0, r.a, color(i))]
                } else {
                    vec![(0.18, r.a, tint(color(i), 0.5)), (-0.18, r.b, color(i))]
                };
                for (dy, s, col) in sides {
                    let (m, lo, hi) = (s.mean * scale, s.lo * scale, s.hi * scale);
                    if !m.is_finite() {
                        continue;
                    }
                    let half = if same { 0.3 } else { 0.16 };
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(0.0, y + dy - half), (m.clamp(0.0, 1.0), y + dy + half)],
                        col.filled(),
                    )))?;
                    if lo.is_finite() && hi.is_finite() {
                        let seg = vec![(lo.clamp(0.0, 1.0), y + dy), (hi.clamp(0.0, 1.0), y + dy)];
                        chart.draw_series(std::iter::once(PathElement::new(seg, BLACK.stroke_width(2))))?;
                    }
                    // Past the interval; backend coordinates are of the whole image, so labels go
                    // on the root.
                    let right = if hi.is_finite() { hi.max(m) } else { m };
                    let (px, py) = chart.backend_coord(&(right.clamp(0.0, 1.0), y + dy));
                    root.draw(&Text::new(
                        format!("{m:.2}"),
                        (px + 6, py),
                        text(12.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
                    ))?;
                }
                if k == 0 {
                    let (px, py) = chart.backend_coord(&(0.0, y));
                    root.draw(&Text::new(
                        c.clone(),
                        (px - 8, py),
                        text(14.0, &BLACK).pos(Pos::new(HPos::Right, VPos::Center)),
                    ))?;
                }
            }
        }
        Ok(())
    })
}
