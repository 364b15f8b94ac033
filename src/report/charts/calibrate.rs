//! Charts of calibration and forecast: the posterior's pairs plot, the tolerance per
//! generation, and fan charts (observed points over the median and 50%/90% bands, one colour
//! per decision). Same embedded font and palette as every chart, so redraws are byte-identical.

use std::path::Path;

use plotters::prelude::*;

use super::draw::*;
use super::{ensure_font, ChartError};
use crate::report::calibrate::{Band, GenRow, ParamRow, PosteriorRow};

/// One band series of a fan chart: quantile bands from `first_day` on.
pub struct Fan {
    pub name: String,
    pub first_day: usize,
    pub bands: Vec<Band>,
}

fn span(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

/// A fan chart over `dates`: each fan's 90% and 50% bands and median, the observed points on
/// top, and a dashed line where the forecast starts (`split`).
pub fn draw_fan(
    path: &Path,
    title: &str,
    dates: &[String],
    observed: &[Option<f64>],
    money: bool,
    fans: &[Fan],
    split: Option<usize>,
) -> Result<(), ChartError> {
    ensure_font()?;
    let n = dates.len().max(1);
    let mut hi: f64 = observed.iter().flatten().copied().fold(0.0, f64::max);
    for f in fans {
        hi = f.bands.iter().map(|b| b[4]).filter(|v| v.is_finite()).fold(hi, f64::max);
    }
    let (y0, y1) = span(0.0, headroom(hi, 1.08));
    // The legend goes in a strip under the plot: inside it covered the top of a band.
    let mut legend: Vec<(String, Mark)> = fans
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("{}: median, 50% and 90% bands", f.name), Mark::Line(color(i), 3)))
        .collect();
    legend.push(("observed".to_string(), Mark::Dot(BLACK)));
    if split.is_some() {
        legend.push(("dashed: the forecast starts".to_string(), Mark::Line(GREY, 2)));
    }
    render(path, |root| {
        let (root, strip) = split_for_legend(root, legend.len(), 2);
        legend_strip(&strip, &legend, 2)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, title_font())
            .margin(18)
            .x_label_area_size(60)
            .y_label_area_size(100)
            .build_cartesian_2d(0f64..(n - 1).max(1) as f64, y0..y1)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|x| day_label(dates, *x))
            .y_label_formatter(&|y| compact(*y))
            .x_desc(day_axis_desc(dates))
            .y_desc(if money { "RMB per day" } else { "per day" })
            .axis_desc_style(desc_font())
            .label_style(label_font())
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        // Every band first, then every median on top, so no decision's band hides another's median.
        for (i, f) in fans.iter().enumerate() {
            let c = color(i);
            let xs = |k: usize| (f.first_day + k) as f64;
            for (lo, hi, white) in [(0usize, 4usize, 0.78), (1, 3, 0.55)] {
                let mut poly: Vec<(f64, f64)> = f.bands.iter().enumerate().map(|(k, b)| (xs(k), b[hi])).collect();
                poly.extend(f.bands.iter().enumerate().rev().map(|(k, b)| (xs(k), b[lo])));
                chart.draw_series(std::iter::once(Polygon::new(poly, tint(c, white).mix(0.6).filled())))?;
            }
        }
        for (i, f) in fans.iter().enumerate() {
            let c = color(i);
            let xs = |k: usize| (f.first_day + k) as f64;
            chart.draw_series(LineSeries::new(
                f.bands.iter().enumerate().map(|(k, b)| (xs(k), b[2])),
                c.stroke_width(3),
            ))?;
        }
        if let Some(s) = split {
            let x = s as f64 - 0.5;
            chart.draw_series(DashedLineSeries::new(vec![(x, y0), (x, y1)], 8, 6, GREY.stroke_width(2)))?;
        }
        chart.draw_series(
            observed.iter().enumerate().filter_map(|(d, v)| Some(Circle::new((d as f64, (*v)?), 5, BLACK.filled()))),
        )?;
        Ok(())
    })
}

/// The tolerance and the median distance per generation (log scale).
pub fn draw_tolerance(path: &Path, scenario: &str, gens: &[GenRow]) -> Result<(), ChartError> {
    ensure_font()?;
    let vals: Vec<f64> =
        gens.iter().flat_map(|g| [g.tolerance.unwrap_or(f64::NAN), g.median_distance]).filter(|v| *v > 0.0).collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > lo { (lo / 1.3, hi * 1.3) } else { (0.001, 10.0) };
    // Drawn on log10 of the distance with labels in distance: plotters' log axis labels only
    // powers of ten, so a run whose distances stay within one decade had an unlabelled axis.
    let (lo, hi) = (lo.log10(), hi.log10());
    let t = title("ABC-SMC tolerance per generation", scenario);
    let legend = [
        ("tolerance".to_string(), Mark::Line(color(0), 3)),
        ("median distance of accepted particles".to_string(), Mark::Line(color(1), 3)),
    ];
    render(path, |root| {
        let (root, strip) = split_for_legend(root, legend.len(), 2);
        legend_strip(&strip, &legend, 2)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&t, title_font())
            .margin(18)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5f64..gens.len() as f64 - 0.5, lo..hi)?;
        chart
            .configure_mesh()
            .x_labels(gens.len().clamp(2, 20))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("generation (0 = prior)")
            .y_labels(8)
            .y_label_formatter(&|y| significant(10f64.powf(*y)))
            .y_desc("distance (normalised series, log scale)")
            .axis_desc_style(desc_font())
            .label_style(label_font())
            .draw()?;
        let tol: Vec<(f64, f64)> = gens
            .iter()
            .filter_map(|g| Some((g.generation as f64, g.tolerance.filter(|t| *t > 0.0)?.log10())))
            .collect();
        chart.draw_series(LineSeries::new(tol.clone(), color(0).stroke_width(3)))?;
        chart.draw_series(tol.iter().map(|p| Circle::new(*p, 5, color(0).filled())))?;
        let med: Vec<(f64, f64)> = gens
            .iter()
            .filter(|g| g.median_distance > 0.0)
            .map(|g| (g.generation as f64, g.median_distance.log10()))
            .collect();
        chart.draw_series(LineSeries::new(med, color(1).stroke_width(3)))?;
        Ok(())
    })
}

/// A positive number to three significant digits, for a log axis's labels.
fn significant(v: f64) -> String {
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    format!("{v:.digits$}")
}

/// The pairs plot: weighted histograms on the diagonal, particles (shade by weight) below it,
/// each axis spanning the parameter's prior.
pub fn draw_pairs(path: &Path, scenario: &str, params: &[ParamRow], post: &[PosteriorRow]) -> Result<(), ChartError> {
    ensure_font()?;
    let d = params.len().max(1);
    let cell = (1100 / d as u32).clamp(160, 420);
    let size = (cell * d as u32 + 100, cell * d as u32 + 120);
    let t = title("Posterior", scenario);
    let wmax = post.iter().map(|p| p.weight).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    render_sized(path, size, |root| {
        let body = root.titled(&t, title_font())?;
        let panels = body.margin(10, 10, 90, 10).split_evenly((d, d));
        for (idx, area) in panels.iter().enumerate() {
            let (row, col) = (idx / d, idx % d);
            if col > row {
                continue;
            }
            let log = |k: usize| params[k].prior == "log-uniform";
            let tr = |k: usize, v: f64| if log(k) { v.ln() } else { v };
            let range = |k: usize| span(tr(k, params[k].from), tr(k, params[k].to));
            let (x0, x1) = range(col);
            let label = |k: usize| {
                let l = truncate(&params[k].key, 34);
                if log(k) {
                    format!("{l} (log)")
                } else {
                    l
                }
            };
            if row == col {
                const BINS: usize = 20;
                let mut h = [0.0f64; BINS];
                for p in post {
                    let z = (tr(col, p.values[col]) - x0) / (x1 - x0);
                    h[((z * BINS as f64) as usize).min(BINS - 1)] += p.weight;
                }
                let top = h.iter().copied().fold(0.0, f64::max).max(1e-12) * 1.1;
                let mut c = ChartBuilder::on(area)
                    .caption(label(col), font(15.0))
                    .margin(4)
                    .x_label_area_size(22)
                    .build_cartesian_2d(x0..x1, 0.0..top)?;
                c.configure_mesh()
                    .disable_mesh()
                    .y_labels(0)
                    .x_labels(4)
                    .label_style(font(12.0))
                    .x_label_formatter(&|x| compact(if log(col) { x.exp() } else { *x }))
                    .draw()?;
                let w = (x1 - x0) / BINS as f64;
                c.draw_series(h.iter().enumerate().map(|(b, v)| {
                    Rectangle::new([(x0 + b as f64 * w, 0.0), (x0 + (b + 1) as f64 * w, *v)], color(0).filled())
                }))?;
                let m = tr(col, params[col].median);
                c.draw_series(std::iter::once(PathElement::new(vec![(m, 0.0), (m, top)], BLACK.stroke_width(2))))?;
            } else {
                let (y0, y1) = range(row);
                let mut c = ChartBuilder::on(area)
                    .margin(4)
                    .x_label_area_size(22)
                    .y_label_area_size(40)
                    .build_cartesian_2d(x0..x1, y0..y1)?;
                c.configure_mesh()
                    .disable_mesh()
                    .x_labels(4)
                    .y_labels(4)
                    .label_style(font(12.0))
                    .x_label_formatter(&|x| compact(if log(col) { x.exp() } else { *x }))
                    .y_label_formatter(&|y| compact(if log(row) { y.exp() } else { *y }))
                    .draw()?;
                c.draw_series(post.iter().map(|p| {
                    let shade = 1.0 - 0.85 * (p.weight / wmax).sqrt();
                    Circle::new((tr(col, p.values[col]), tr(row, p.values[row])), 3, tint(color(0), shade).filled())
                }))?;
            }
        }
        Ok(())
    })
}
