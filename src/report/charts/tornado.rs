//! Tornado chart of a sensitivity analysis: one panel per outcome, one horizontal bar per
//! parameter (its elasticity), largest |elasticity| on top, the 95% interval as a whisker.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::*;
use super::{ensure_font, ChartError};

/// At most this many bars a panel (the rest are in the CSV).
pub const MAX_BARS: usize = 15;

/// One parameter's elasticity: mean and 95% interval.
#[derive(Clone, Debug)]
pub struct Bar {
    pub name: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One outcome: its bars in rank order (largest |elasticity| first).
#[derive(Clone, Debug)]
pub struct Panel {
    pub title: String,
    pub bars: Vec<Bar>,
}

const WIDTH: u32 = 1200;
const HEAD: u32 = 96;
const ROW: u32 = 30;
/// Room a panel needs besides its rows: caption, axis and its description.
const PANEL_EXTRA: u32 = 118;
/// Pixels left of the plotting area for the parameter names.
const NAMES: u32 = 330;

fn panel_height(p: &Panel) -> u32 {
    PANEL_EXTRA + ROW * p.bars.len().clamp(1, MAX_BARS) as u32
}

/// Writes the chart to `path` (PNG): the title and subtitle, then the panels one under another.
pub fn draw_tornado(path: &Path, title: &str, subtitle: &str, panels: &[Panel]) -> Result<(), ChartError> {
    ensure_font()?;
    let height = HEAD + panels.iter().map(panel_height).sum::<u32>();
    render_sized(path, (WIDTH, height), |root| {
        let (head, mut rest) = root.split_vertically(HEAD);
        let mid = WIDTH as i32 / 2;
        let t = fit(&head, title, &title_font().color(&BLACK), WIDTH as i32 - 40);
        head.draw(&Text::new(t, (mid, 14), title_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top))))?;
        let sub = fit(&head, subtitle, &text(17.0, &BLACK), WIDTH as i32 - 40);
        head.draw(&Text::new(sub, (mid, 58), text(17.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Top))))?;
        for p in panels {
            let (area, below) = rest.split_vertically(panel_height(p));
            draw_panel(root, &area, p)?;
            rest = below;
        }
        Ok(())
    })
}

fn draw_panel(root: &Root, area: &Root, p: &Panel) -> Drawn {
    let bars: Vec<&Bar> = p.bars.iter().filter(|b| b.mean.is_finite()).take(MAX_BARS).collect();
    let more = p.bars.len().saturating_sub(bars.len());
    let caption = if more > 0 {
        format!("{} — the {} largest of {} parameters", p.title, bars.len(), p.bars.len())
    } else {
        p.title.clone()
    };
    if bars.is_empty() {
        let (w, _) = area.dim_in_pixel();
        area.draw(&Text::new(
            caption,
            (w as i32 / 2, 8),
            font(21.0).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        area.draw(&Text::new(
            "No parameter has a defined elasticity on this outcome",
            (w as i32 / 2, 60),
            text(17.0, &GREY).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        return Ok(());
    }
    let n = bars.len();
    let ext = bars.iter().flat_map(|b| [b.mean, b.lo, b.hi]).filter(|v| v.is_finite());
    let lo = ext.clone().fold(0.0, f64::min);
    let hi = ext.fold(0.0, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    // Room beside the bars for their value labels.
    let (x0, x1) = (lo - if lo < 0.0 { 0.16 } else { 0.04 } * span, hi + 0.16 * span);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, font(21.0))
        .margin(8)
        .margin_left(NAMES)
        .margin_right(24)
        .x_label_area_size(52)
        .build_cartesian_2d(x0..x1, -0.6f64..n as f64 - 0.4)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(9)
        .x_desc("elasticity")
        .axis_desc_style(desc_font())
        .label_style(label_font())
        .x_label_formatter(&|x| format!("{x:.2}"))
        .light_line_style(WHITE)
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, -0.6), (0.0, n as f64 - 0.4)],
        BLACK.stroke_width(1),
    )))?;
    let name_style = text(16.0, &BLACK).pos(Pos::new(HPos::Right, VPos::Center));
    for (i, b) in bars.iter().enumerate() {
        // Rank 1 at the top.
        let y = (n - 1 - i) as f64;
        let c = if b.mean >= 0.0 { color(0) } else { color(2) };
        chart.draw_series(std::iter::once(Rectangle::new([(0.0, y - 0.32), (b.mean, y + 0.32)], c.filled())))?;
        let mut end = b.mean;
        if b.lo.is_finite() && b.hi.is_finite() {
            let style = BLACK.stroke_width(2);
            for seg in [
                vec![(b.lo, y), (b.hi, y)],
                vec![(b.lo, y - 0.15), (b.lo, y + 0.15)],
                vec![(b.hi, y - 0.15), (b.hi, y + 0.15)],
            ] {
                chart.draw_series(std::iter::once(PathElement::new(seg, style)))?;
            }
            end = if b.mean >= 0.0 { b.hi.max(b.mean) } else { b.lo.min(b.mean) };
        }
        let (anchor, dx) = if b.mean >= 0.0 { (HPos::Left, 0.012 * span) } else { (HPos::Right, -0.012 * span) };
        chart.draw_series(std::iter::once(Text::new(
            format!("{:+.2}", b.mean),
            (end + dx, y),
            text(14.0, &BLACK).pos(Pos::new(anchor, VPos::Center)),
        )))?;
        let (px, py) = chart.backend_coord(&(x0, y));
        let name = fit(root, &b.name, &name_style, NAMES as i32 - 24);
        root.draw(&Text::new(name, (px - 10, py), name_style.clone()))?;
    }
    Ok(())
}
