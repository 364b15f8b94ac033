//! The line charts of a sweep: `sweep_<n>.png`, headline metrics against one swept parameter
//! (`sweep_<n>_own_<k>.png`: own plan k's metrics).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::draw::*;
use super::*;

/// Title of a parameter's chart: its key, and the keys that move with it.
pub(super) fn param_title(s: &Sweep, plan: &LinePlan) -> String {
    let mut t = format!("Sweep of {}", s.params[plan.axis].key);
    if !plan.linked.is_empty() {
        let keys: Vec<&str> = plan.linked.iter().map(|&p| short_key(&s.params[p].key)).collect();
        let _ = write!(t, " (with {})", keys.join(", "));
    }
    t
}

/// `sweep_<n>.png`: a header (title, note, legend) and a 2x2 grid of metric panels.
pub(super) fn draw_lines(s: &Sweep, plan: &LinePlan, subject: Subject, path: &Path) -> Result<(), ChartError> {
    let p = &s.params[plan.axis];
    let title = title(&format!("{}{}", subject.prefix(s), param_title(s, plan)), &s.name);
    let interval = match s.replications {
        Some(r) if r < 2 => "one replication, so no interval".to_string(),
        Some(r) => crate::report::labels::interval_wording(r as usize),
        None => "95% interval of the mean".to_string(),
    };
    let note = if !p.numeric {
        format!("Points: means; bars: {interval}. Text values are categories.")
    } else if plan.scatter {
        format!(
            "Points: means; bars: {interval}. The other parameters take more than {MAX_LINES} combinations, so variants are not joined."
        )
    } else {
        format!("Lines: means; shaded: {interval}.")
    };
    let legend: Vec<(String, RGBColor)> = if plan.scatter || plan.lines.len() < 2 {
        Vec::new()
    } else {
        plan.lines.iter().enumerate().map(|(i, l)| (l.label.clone(), color(i))).collect()
    };
    let per_row = 3usize;
    let legend_rows = legend.len().div_ceil(per_row);
    let header = 84 + 28 * legend_rows as u32;
    let (w, h) = SWEEP_SIZE;
    let size = (w, h + 28 * legend_rows as u32);
    render_sized(path, size, |root| {
        let (head, body) = root.split_vertically(header);
        let title_style = title_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        let shown = fit(&head, &title, &title_style, w as i32 - 30);
        head.draw(&Text::new(shown, (w as i32 / 2, 12), title_style))?;
        let note_style = text(16.0, &GREY).pos(Pos::new(HPos::Center, VPos::Top));
        head.draw(&Text::new(note, (w as i32 / 2, 52), note_style))?;
        let col_w = (w as i32 - 40) / per_row as i32;
        for (i, (label, c)) in legend.iter().enumerate() {
            let x = 20 + col_w * (i % per_row) as i32;
            let y = 84 + 28 * (i / per_row) as i32;
            head.draw(&Rectangle::new([(x, y + 2), (x + 24, y + 16)], c.mix(0.25).filled()))?;
            head.draw(&PathElement::new(vec![(x, y + 9), (x + 24, y + 9)], c.stroke_width(3)))?;
            let style = text(17.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            let label = fit(&head, label, &style, col_w - 40);
            head.draw(&Text::new(label, (x + 32, y + 9), style))?;
        }
        if s.variants.is_empty() {
            return no_data(&body, "", "sweep.csv has no variants.");
        }
        let panels = body.split_evenly((2, 2));
        for (panel, p) in panels.iter().zip(subject.line_panels(s)) {
            line_panel(root, panel, s, plan, &p.metric, &format!("{} ({})", p.title, p.unit), p.unit)?;
        }
        Ok(())
    })
}

/// Axis range of values (with padding); a span around the value when there is one.
fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= 1e-12 * hi.abs().max(lo.abs()).max(1e-300) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    (lo - pad * span, hi + pad * span)
}

/// One metric's panel of a parameter chart.
fn line_panel(root: &Root, panel: &Root, s: &Sweep, plan: &LinePlan, metric: &str, caption: &str, unit: &str) -> Drawn {
    let p = &s.params[plan.axis];
    let est = s.metric(metric);
    let numeric = p.numeric;
    let n_lines = plan.lines.len();
    // A small offset per line keeps categorical points of different lines apart.
    let dodge = |i: usize| -> f64 {
        if numeric || n_lines < 2 {
            0.0
        } else {
            (i as f64 - (n_lines - 1) as f64 / 2.0) * 0.5 / n_lines as f64
        }
    };
    let x_of = |v: usize| p.x_of_level(p.level_of[v]);
    let (x0, x1) = if numeric {
        padded(p.levels.iter().map(|l| num(l)), 0.05)
    } else {
        (-0.5, p.levels.len().max(1) as f64 - 0.5)
    };
    let ys = est.iter().flat_map(|e| [e.mean, e.lo, e.hi]);
    let (y0, y1) = padded(ys, 0.08);
    let has_data = est.iter().any(|e| e.mean.is_finite());
    let ticks_at_levels = !numeric || p.levels.len() <= 12;

    let mut chart = ChartBuilder::on(panel)
        .caption(caption, font(20.0))
        .margin(14)
        .margin_right(24)
        .x_label_area_size(if ticks_at_levels { 58 } else { 50 })
        .y_label_area_size(74)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let share = unit == "share";
    let y_fmt = |y: &f64| if share { format!("{y:.2}") } else { compact(*y) };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(axis_name(&p.key))
        .y_desc(unit)
        .axis_desc_style(font(16.0))
        .label_style(label_font())
        .y_labels(if has_data { 6 } else { 0 })
        .y_label_formatter(&y_fmt)
        .x_label_formatter(&|x| compact(*x))
        .light_line_style(WHITE);
    if ticks_at_levels {
        mesh.x_labels(0).disable_x_mesh();
    } else {
        mesh.x_labels(8);
    }
    mesh.draw()?;
    if ticks_at_levels {
        let names: Vec<(f64, String)> = (0..p.levels.len()).map(|l| (p.x_of_level(l), p.label(l))).collect();
        for (x, _) in &names {
            chart.draw_series(std::iter::once(PathElement::new(vec![(*x, y0), (*x, y1)], RGBColor(235, 235, 235))))?;
        }
        let names: Vec<(f64, String)> =
            names.into_iter().map(|(x, n)| (x, fit(root, &n, &text(15.0, &BLACK), 110))).collect();
        x_names(root, &chart, &y0, &names, 15.0, 6)?;
    }
    if !has_data {
        let (px, py) = chart.backend_coord(&((x0 + x1) / 2.0, (y0 + y1) / 2.0));
        root.draw(&Text::new(
            format!("n/a: no `{metric}_mean` in sweep.csv"),
            (px, py),
            text(17.0, &GREY).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        return Ok(());
    }

    for (i, line) in plan.lines.iter().enumerate() {
        let c = color(i);
        let mut pts: Vec<(f64, Est)> = line
            .variants
            .iter()
            .map(|&v| (x_of(v) + dodge(i), est[v]))
            .filter(|(x, e)| x.is_finite() && e.mean.is_finite())
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let joined = numeric && !plan.scatter;
        if joined {
            let band: Vec<(f64, f64, f64)> = pts
                .iter()
                .map(|(x, e)| {
                    (*x, if e.lo.is_finite() { e.lo } else { e.mean }, if e.hi.is_finite() { e.hi } else { e.mean })
                })
                .collect();
            if band.len() > 1 {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|(x, _, hi)| (*x, *hi)).collect();
                poly.extend(band.iter().rev().map(|(x, lo, _)| (*x, *lo)));
                // One band is shaded; several overlapping ones are lighter, with their bounds drawn.
                let fill = if n_lines > 1 { 0.07 } else { 0.18 };
                chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(fill).filled())))?;
                if n_lines > 1 {
                    for bound in
                        [band.iter().map(|b| (b.0, b.1)).collect::<Vec<_>>(), band.iter().map(|b| (b.0, b.2)).collect()]
                    {
                        chart.draw_series(DashedLineSeries::new(bound, 5, 4, c.mix(0.7).stroke_width(1)))?;
                    }
                }
            }
            chart.draw_series(LineSeries::new(pts.iter().map(|(x, e)| (*x, e.mean)), c.stroke_width(2)))?;
        }
        // Error bars where the band cannot show the interval (single points, categories, scatter).
        if !joined || pts.len() == 1 {
            let cap = (x1 - x0) * 0.008;
            for (x, e) in &pts {
                if e.lo.is_finite() && e.hi.is_finite() {
                    let st = c.stroke_width(2);
                    chart.draw_series(std::iter::once(PathElement::new(vec![(*x, e.lo), (*x, e.hi)], st)))?;
                    for y in [e.lo, e.hi] {
                        chart.draw_series(std::iter::once(PathElement::new(vec![(x - cap, y), (x + cap, y)], st)))?;
                    }
                }
            }
        }
        chart.draw_series(pts.iter().map(|(x, e)| Circle::new((*x, e.mean), 4, c.filled())))?;
    }
    Ok(())
}
