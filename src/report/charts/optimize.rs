//! The chart of an optimisation, `optimize.png`, drawn from `candidates.csv` alone: the
//! objective against the decision with 95% bands and the best marked (one variable), or a map of
//! the candidates coloured by their mean with the best marked (two variables).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::*;
use super::ChartError;

/// A candidate as `candidates.csv` has it.
struct Cand {
    values: Vec<String>,
    mean: f64,
    lo: f64,
    hi: f64,
    best: bool,
}

fn read(path: &Path) -> Result<(Vec<String>, Vec<Cand>), ChartError> {
    let bad = |line: u64, message: String| ChartError::BadRow { path: path.to_path_buf(), line, message };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(0, e.to_string()))?;
    let head: Vec<String> = r.headers().map_err(|e| bad(1, e.to_string()))?.iter().map(str::to_owned).collect();
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .ok_or_else(|| ChartError::MissingColumn { path: path.to_path_buf(), column: name.into() })
    };
    let (reps, mean, lo, hi, status) = (
        col("replications")?,
        col("objective_mean")?,
        col("objective_ci95_low")?,
        col("objective_ci95_high")?,
        col("status")?,
    );
    let vars: Vec<String> = head[2..reps].to_vec();
    let mut out = Vec::new();
    for (i, row) in r.records().enumerate() {
        let row = row.map_err(|e| bad(i as u64 + 2, e.to_string()))?;
        let f = |k: usize| row.get(k).and_then(|s| s.parse::<f64>().ok()).unwrap_or(f64::NAN);
        out.push(Cand {
            values: (2..reps).map(|k| row.get(k).unwrap_or("").to_owned()).collect(),
            mean: f(mean),
            lo: f(lo),
            hi: f(hi),
            best: row.get(status) == Some("best"),
        });
    }
    Ok((vars, out))
}

/// Positions of one variable's values: the numbers themselves, or ranks of text values.
fn positions(cands: &[Cand], v: usize) -> (Vec<f64>, Vec<String>) {
    let nums: Option<Vec<f64>> = cands.iter().map(|c| c.values[v].parse::<f64>().ok()).collect();
    match nums {
        Some(x) => (x, vec![]),
        None => {
            let mut names: Vec<String> = cands.iter().map(|c| c.values[v].clone()).collect();
            names.sort();
            names.dedup();
            (cands.iter().map(|c| names.iter().position(|n| *n == c.values[v]).unwrap_or(0) as f64).collect(), names)
        }
    }
}

fn span(xs: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) =
        xs.filter(|x| x.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let d = if hi > lo { (hi - lo) * pad } else { lo.abs().max(1.0) * 0.1 };
    (lo - d, hi + d)
}

/// Draws `png` from `dir/candidates.csv`.
pub fn draw_optimize(dir: &Path, png: &Path) -> Result<(), ChartError> {
    super::ensure_font()?;
    let (vars, cands) = read(&dir.join("candidates.csv"))?;
    let objective = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| m["objective"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "objective".into());
    render(png, |root| {
        if cands.is_empty() {
            return no_data(root, "Optimisation", "candidates.csv has no candidates.");
        }
        if vars.len() == 1 {
            line(root, &vars[0], &objective, &cands)
        } else {
            map(root, &vars, &objective, &cands)
        }
    })
}

fn line(root: &Root, var: &str, objective: &str, cands: &[Cand]) -> Drawn {
    let (xs, names) = positions(cands, 0);
    let mut pts: Vec<(f64, &Cand)> = xs.into_iter().zip(cands).filter(|(x, _)| x.is_finite()).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (x0, x1) = span(pts.iter().map(|p| p.0), 0.05);
    let (y0, y1) = span(pts.iter().flat_map(|(_, c)| [c.lo, c.hi, c.mean]), 0.08);
    let mut chart = ChartBuilder::on(root)
        .caption(format!("{objective} against {var}: mean and 95% interval per candidate"), font(24.0))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let x_fmt = |x: &f64| {
        if names.is_empty() {
            compact(*x)
        } else {
            names.get(x.round() as usize).cloned().unwrap_or_default()
        }
    };
    chart
        .configure_mesh()
        .x_desc(var)
        .y_desc(objective)
        .axis_desc_style(font(18.0))
        .label_style(label_font())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&|y| compact(*y))
        .light_line_style(WHITE)
        .draw()?;
    let c = color(0);
    let band: Vec<(f64, f64, f64)> =
        pts.iter().filter(|(_, c)| c.lo.is_finite() && c.hi.is_finite()).map(|(x, c)| (*x, c.lo, c.hi)).collect();
    if band.len() > 1 {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
        poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
        chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.15).filled())))?;
    }
    chart.draw_series(LineSeries::new(pts.iter().map(|(x, c)| (*x, c.mean)), c.stroke_width(2)))?;
    let cap = (x1 - x0) * 0.005;
    for (x, k) in &pts {
        if k.lo.is_finite() && k.hi.is_finite() {
            chart.draw_series(std::iter::once(PathElement::new(vec![(*x, k.lo), (*x, k.hi)], c.stroke_width(1))))?;
            for y in [k.lo, k.hi] {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x - cap, y), (x + cap, y)],
                    c.stroke_width(1),
                )))?;
            }
        }
    }
    chart.draw_series(pts.iter().map(|(x, k)| Circle::new((*x, k.mean), 4, c.filled())))?;
    if let Some((x, b)) = pts.iter().find(|(_, k)| k.best) {
        let red = RGBColor(0xD6, 0x27, 0x28);
        chart.draw_series(std::iter::once(PathElement::new(vec![(*x, y0), (*x, y1)], red.mix(0.6).stroke_width(2))))?;
        chart.draw_series(std::iter::once(Circle::new((*x, b.mean), 8, red.filled())))?;
        let (px, py) = chart.backend_coord(&(*x, y1));
        let label = format!("best: {} = {}, {} {}", var, b.values[0], objective, compact(b.mean));
        root.draw(&Text::new(label, (px + 8, py + 8), text(18.0, &red).pos(Pos::new(HPos::Left, VPos::Top))))?;
    }
    Ok(())
}

fn map(root: &Root, vars: &[String], objective: &str, cands: &[Cand]) -> Drawn {
    let (xs, xn) = positions(cands, 0);
    let (ys, yn) = positions(cands, 1);
    let (x0, x1) = span(xs.iter().copied(), 0.06);
    let (y0, y1) = span(ys.iter().copied(), 0.06);
    let (lo, hi) = cands
        .iter()
        .map(|c| c.mean)
        .filter(|m| m.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| (a.min(m), b.max(m)));
    let mut chart = ChartBuilder::on(root)
        .caption(format!("{objective}: mean per candidate (yellow high, purple low); best ringed"), font(24.0))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let fx =
        |x: &f64| if xn.is_empty() { compact(*x) } else { xn.get(x.round() as usize).cloned().unwrap_or_default() };
    let fy =
        |y: &f64| if yn.is_empty() { compact(*y) } else { yn.get(y.round() as usize).cloned().unwrap_or_default() };
    chart
        .configure_mesh()
        .x_desc(vars[0].as_str())
        .y_desc(vars[1].as_str())
        .axis_desc_style(font(18.0))
        .label_style(label_font())
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .light_line_style(WHITE)
        .draw()?;
    for ((x, y), c) in xs.iter().zip(&ys).zip(cands) {
        let t = if hi > lo && c.mean.is_finite() { (c.mean - lo) / (hi - lo) } else { 0.5 };
        let fill = RGBColor(
            (0x44 as f64 + t * (0xFD - 0x44) as f64) as u8,
            (0x01 as f64 + t * (0xE7 - 0x01) as f64) as u8,
            (0x54 as f64 + t * (0x25 as f64 - 0x54 as f64)) as u8,
        );
        chart.draw_series(std::iter::once(Circle::new((*x, *y), 11, fill.filled())))?;
        if c.best {
            chart.draw_series(std::iter::once(Circle::new(
                (*x, *y),
                16,
                RGBColor(0xD6, 0x27, 0x28).stroke_width(3),
            )))?;
        }
    }
    Ok(())
}
