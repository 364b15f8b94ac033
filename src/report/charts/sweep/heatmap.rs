//! The heat map of a two-parameter grid: `sweep_heatmap.png`, and the value scale of its labels.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::draw::*;
use super::*;

/// A viridis-like colour at `t` in 0..=1.
fn heat_color(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 6] = [
        (0x44, 0x01, 0x54),
        (0x41, 0x44, 0x87),
        (0x2A, 0x78, 0x8E),
        (0x22, 0xA8, 0x84),
        (0x7A, 0xD1, 0x51),
        (0xFD, 0xE7, 0x25),
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let pos = t * (STOPS.len() - 1) as f64;
    let k = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - k as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round().clamp(0.0, 255.0) as u8;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads better on `c`.
fn ink_on(c: RGBColor) -> RGBColor {
    let l = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if l > 140.0 {
        BLACK
    } else {
        WHITE
    }
}

/// Labels of a panel's values on a common scale (¥12.18M, 3.4k, 0.123) with the fewest
/// decimals (up to 4) that keep distinct values apart.
struct Scale {
    div: f64,
    suffix: &'static str,
    decimals: usize,
    unit: String,
}

impl Scale {
    fn new(values: &[f64], unit: &str) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let big = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let (div, suffix) = if unit == "share" {
            (1.0, "")
        } else if big >= 1e9 {
            (1e9, "B")
        } else if big >= 1e6 {
            (1e6, "M")
        } else if big >= 1e3 {
            (1e3, "k")
        } else {
            (1.0, "")
        };
        let mut distinct = finite.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let first = if unit == "share" {
            2
        } else if suffix.is_empty() && unit == "count" {
            0
        } else {
            1
        };
        let mut scale = Scale { div, suffix, decimals: first, unit: unit.to_string() };
        while scale.decimals < first + 3 {
            let mut labels: Vec<String> = distinct.iter().map(|v| scale.label(*v)).collect();
            labels.dedup();
            if labels.len() == distinct.len() {
                break;
            }
            scale.decimals += 1;
        }
        scale
    }

    fn label(&self, v: f64) -> String {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        let body = format!("{:.*}{}", self.decimals, v.abs() / self.div, self.suffix);
        let sign = if v < 0.0 && body.bytes().any(|b| (b'1'..=b'9').contains(&b)) { "−" } else { "" };
        if self.unit == "RMB" {
            format!("{sign}¥{body}")
        } else {
            format!("{sign}{body}")
        }
    }
}

/// `sweep_heatmap.png`: GMV and operator net means over the grid of parameters `a` (x)
/// and `b` (y), one panel each with its colour scale.
pub(super) fn draw_heatmap(s: &Sweep, a: usize, b: usize, subject: Subject, path: &Path) -> Result<(), ChartError> {
    let (pa, pb) = (&s.params[a], &s.params[b]);
    let grid = format!("{}Mean over the grid of {} × {}", subject.prefix(s), short_key(&pa.key), short_key(&pb.key));
    let title = title(&grid, &s.name);
    let (w, _) = HEATMAP_SIZE;
    render_sized(path, HEATMAP_SIZE, |root| {
        let (head, body) = root.split_vertically(70);
        let title_style = title_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        let shown = fit(&head, &title, &title_style, w as i32 - 30);
        head.draw(&Text::new(shown, (w as i32 / 2, 16), title_style))?;
        let panels = body.split_evenly((1, 2));
        for (panel, p) in panels.iter().zip(subject.heat_panels(s)) {
            heat_panel(root, panel, s, pa, pb, &p.metric, &format!("{} mean ({})", p.title, p.unit), p.unit)?;
        }
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn heat_panel(
    root: &Root,
    panel: &Root,
    s: &Sweep,
    pa: &Param,
    pb: &Param,
    metric: &str,
    caption: &str,
    unit: &str,
) -> Drawn {
    let est = s.metric(metric);
    let (na, nb) = (pa.levels.len(), pb.levels.len());
    let mut cells = vec![f64::NAN; na * nb];
    for (v, e) in est.iter().enumerate() {
        let k = pa.level_of[v] * nb + pb.level_of[v];
        if cells[k].is_nan() {
            cells[k] = e.mean;
        }
    }
    let lo = cells.iter().copied().filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);
    let hi = cells.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    let t_of = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    let scale = Scale::new(&cells, unit);

    let (pw, _) = panel.dim_in_pixel();
    let (plot, bar) = panel.split_horizontally(pw.saturating_sub(112));
    let mut chart = ChartBuilder::on(&plot)
        .caption(caption, font(20.0))
        .margin(12)
        .x_label_area_size(62)
        .y_label_area_size(82)
        .build_cartesian_2d(-0.5f64..na as f64 - 0.5, -0.5f64..nb as f64 - 0.5)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(axis_name(&pa.key))
        .y_desc(axis_name(&pb.key))
        .axis_desc_style(font(15.0))
        .draw()?;
    let (cw, ch) = {
        let (x0, y0) = chart.backend_coord(&(0.0, 0.0));
        let (x1, y1) = chart.backend_coord(&(1.0, 1.0));
        ((x1 - x0).abs(), (y1 - y0).abs())
    };
    let size = (f64::from(ch.min(cw)) / 4.0).clamp(10.0, 18.0);
    for i in 0..na {
        for j in 0..nb {
            let v = cells[i * nb + j];
            let (x, y) = (i as f64, j as f64);
            let fill = if v.is_finite() { heat_color(t_of(v)) } else { RGBColor(0xEE, 0xEE, 0xEE) };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                fill.filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                WHITE.stroke_width(1),
            )))?;
            let label = fit(root, &scale.label(v), &text(size, &BLACK), cw - 4);
            let ink = if v.is_finite() { ink_on(fill) } else { GREY };
            chart.draw_series(std::iter::once(Text::new(
                label,
                (x, y),
                text(size, &ink).pos(Pos::new(HPos::Center, VPos::Center)),
            )))?;
        }
    }
    let xs: Vec<(f64, String)> =
        (0..na).map(|i| (i as f64, fit(root, &pa.label(i), &text(15.0, &BLACK), cw.max(30)))).collect();
    x_names(root, &chart, &-0.5, &xs, 15.0, 6)?;
    for j in 0..nb {
        let (px, py) = chart.backend_coord(&(-0.5, j as f64));
        let style = text(15.0, &BLACK).pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(fit(root, &pb.label(j), &style, 56), (px - 6, py), style))?;
    }

    // Colour legend: a vertical gradient from the lowest (bottom) to the highest mean.
    let (top, bottom) = (chart.backend_coord(&(0.0, nb as f64 - 0.5)).1, chart.backend_coord(&(0.0, -0.5)).1);
    let (bx, _) = bar.get_base_pixel();
    let (x_left, x_right) = (bx + 8, bx + 30);
    if lo.is_finite() {
        let steps = 64;
        let span = f64::from(bottom - top);
        for k in 0..steps {
            let ya = top + (span * k as f64 / steps as f64).round() as i32;
            let yb = top + (span * (k + 1) as f64 / steps as f64).round() as i32;
            let c = heat_color(1.0 - (k as f64 + 0.5) / steps as f64);
            root.draw(&Rectangle::new([(x_left, ya), (x_right, yb)], c.filled()))?;
        }
        root.draw(&Rectangle::new([(x_left, top), (x_right, bottom)], GREY.stroke_width(1)))?;
        let marks = if hi > lo {
            vec![(hi, top), ((lo + hi) / 2.0, (top + bottom) / 2), (lo, bottom)]
        } else {
            vec![(lo, (top + bottom) / 2)]
        };
        for (v, y) in marks {
            root.draw(&PathElement::new(vec![(x_right, y), (x_right + 4, y)], BLACK.stroke_width(1)))?;
            let style = text(15.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(scale.label(v), (x_right + 7, y), style))?;
        }
    } else {
        let (px, py) = chart.backend_coord(&((na as f64 - 1.0) / 2.0, (nb as f64 - 1.0) / 2.0));
        root.draw(&Text::new(
            format!("n/a: no `{metric}_mean` in sweep.csv"),
            (px, py - 30),
            text(17.0, &GREY).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_keeps_distinct_values_apart() {
        let s = Scale::new(&[12_181_481.97, 12_222_981.79, 12_264_548.08], "RMB");
        assert_eq!(s.label(12_181_481.97), "¥12.18M");
        assert_eq!(s.label(-1_000.0), "¥0.00M");
        assert_eq!(s.label(-20_000.0), "−¥0.02M");
        assert_eq!(Scale::new(&[3.0, 40.0], "count").label(3.0), "3");
        assert_eq!(Scale::new(&[0.5, 0.52], "share").label(0.5), "0.50");
        assert_eq!(Scale::new(&[f64::NAN], "RMB").label(f64::NAN), "n/a");
    }

    #[test]
    fn heat_colors_span_the_scale() {
        assert_eq!(heat_color(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(heat_color(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(heat_color(f64::NAN), heat_color(0.0));
    }
}
