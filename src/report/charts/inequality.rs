//! Inequality of creator earnings: Lorenz curve with the Gini, and the log-log CCDF.

use std::path::Path;

use plotters::prelude::*;

use super::data::{Scenario, CREATORS};
use super::draw::*;
use super::ChartError;

/// Most points drawn for the Lorenz curve.
pub const LORENZ_POINTS: usize = 2000;
/// Ranks below this are all kept in the CCDF; above it ranks grow by 1% per point.
pub const CCDF_DENSE_RANKS: usize = 1000;

/// Gini coefficient of `sorted` (ascending, non-negative); 0 when the total is 0.
pub fn gini(sorted: &[f64]) -> f64 {
    let n = sorted.len() as f64;
    let total: f64 = sorted.iter().sum();
    if sorted.is_empty() || total <= 0.0 {
        return 0.0;
    }
    let weighted: f64 = sorted.iter().enumerate().map(|(i, x)| (i as f64 + 1.0) * x).sum();
    2.0 * weighted / (n * total) - (n + 1.0) / n
}

/// Points (population share, earnings share) of the Lorenz curve of `sorted`
/// (ascending), at most `max_points + 1` of them evenly spaced in population share,
/// always including (0, 0) and (1, 1). Exact at every point drawn.
pub fn lorenz_points(sorted: &[f64], max_points: usize) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let total: f64 = sorted.iter().sum();
    if n == 0 || total <= 0.0 {
        return Vec::new();
    }
    let m = n.min(max_points.max(1));
    let mut out = Vec::with_capacity(m + 1);
    out.push((0.0, 0.0));
    let mut acc = 0.0;
    let mut i = 0;
    for j in 1..=m {
        let idx = ((j as u128 * n as u128) / m as u128) as usize;
        while i < idx {
            acc += sorted[i];
            i += 1;
        }
        out.push((idx as f64 / n as f64, acc / total));
    }
    out
}

/// Share of the total earned by the top `frac` of `sorted` (ascending).
fn top_share(sorted: &[f64], frac: f64) -> f64 {
    let total: f64 = sorted.iter().sum();
    if sorted.is_empty() || total <= 0.0 {
        return 0.0;
    }
    let k = ((sorted.len() as f64 * frac).ceil() as usize).clamp(1, sorted.len());
    sorted[sorted.len() - k..].iter().sum::<f64>() / total
}

/// The "no data" note of the earnings charts.
fn no_earnings_note(s: &Scenario) -> &'static str {
    if s.is_missing(CREATORS) {
        "creators.csv was not written for this run (no per-creator detail)."
    } else {
        "No creator earned anything in replication 0."
    }
}

/// `lorenz.png`: Lorenz curve of earnings of replication 0 with the equality diagonal.
pub fn draw_lorenz(s: &Scenario, path: &Path) -> Result<(), ChartError> {
    let e = &s.earnings;
    let g = gini(e);
    let pts = lorenz_points(e, LORENZ_POINTS);
    let title = title(&format!("Lorenz curve of creator earnings (Gini {g:.3})"), &s.name());
    let summary_gini = s.head.metric("payout_gini").map(|r| (r.mean, r.lo, r.hi));
    render(path, |root| {
        if pts.is_empty() {
            return no_data(root, &title, no_earnings_note(s));
        }
        let mut chart = ChartBuilder::on(root)
            .caption(&title, title_font())
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
        chart
            .configure_mesh()
            .x_desc("Cumulative share of creators, poorest first (%)")
            .y_desc("Cumulative share of earnings (%)")
            .axis_desc_style(desc_font())
            .label_style(label_font())
            .x_labels(11)
            .y_labels(11)
            .x_label_formatter(&|x| format!("{:.0}", x * 100.0))
            .y_label_formatter(&|y| format!("{:.0}", y * 100.0))
            .light_line_style(WHITE)
            .draw()?;

        // The area between the diagonal and the curve (its share of the triangle is the Gini).
        let mut area = vec![(0.0, 0.0), (1.0, 1.0)];
        area.extend(pts.iter().rev().cloned());
        chart.draw_series(std::iter::once(Polygon::new(area, color(0).mix(0.15).filled())))?;
        chart
            .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], 8, 5, GREY.stroke_width(2)))?
            .label("Perfect equality")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], GREY.stroke_width(2)));
        let c = color(0);
        chart
            .draw_series(LineSeries::new(pts.iter().cloned(), c.stroke_width(3)))?
            .label(format!("Lorenz curve, replication 0: Gini {g:.3}, {} creators", thousands(e.len() as f64, 0)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        if let Some((mean, lo, hi)) = summary_gini {
            let label = if lo.is_finite() && hi.is_finite() {
                format!("Gini over replications: mean {mean:.3} (95%: {lo:.3}–{hi:.3})")
            } else {
                format!("Gini over replications: mean {mean:.3}")
            };
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                .label(label)
                .legend(|(x, y)| Rectangle::new([(x, y), (x + 1, y + 1)], WHITE.filled()));
        }
        let note = format!(
            "Top 1% of creators earn {} of earnings, top 10% earn {}",
            pct(top_share(e, 0.01)),
            pct(top_share(e, 0.10))
        );
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
            .label(note)
            .legend(|(x, y)| Rectangle::new([(x, y), (x + 1, y + 1)], WHITE.filled()));
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// Points (earnings x, share of creators earning at least x) of the CCDF of the
/// positive values of `sorted` (ascending): every rank up to [`CCDF_DENSE_RANKS`], then
/// ranks 1% apart, and always the smallest value.
pub fn ccdf_points(sorted: &[f64]) -> Vec<(f64, f64)> {
    let start = sorted.partition_point(|v| *v <= 0.0);
    let pos = &sorted[start..];
    let n = pos.len();
    let mut out = Vec::new();
    let mut r = 1usize;
    while r <= n {
        out.push((pos[n - r], r as f64 / n as f64));
        r = if r < CCDF_DENSE_RANKS { r + 1 } else { ((r as f64 * 1.01).ceil() as usize).max(r + 1) };
    }
    if n > 0 && out.last().map(|p| p.1) != Some(1.0) {
        out.push((pos[0], 1.0));
    }
    out
}

/// `ccdf.png`: log-log complementary CDF of earnings per creator (earnings > 0).
pub fn draw_ccdf(s: &Scenario, path: &Path) -> Result<(), ChartError> {
    let pts = ccdf_points(&s.earnings);
    let n = s.earnings.iter().filter(|v| **v > 0.0).count();
    let title = title("Distribution of earnings per creator (CCDF)", &s.name());
    render(path, |root| {
        if pts.is_empty() {
            return no_data(root, &title, no_earnings_note(s));
        }
        let xmin = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let xmax = pts.iter().map(|p| p.0).fold(0.0, f64::max);
        let (x0, mut x1) = (xmin / 1.5, xmax * 1.5);
        if x1 <= x0 * 10.0 {
            x1 = x0 * 10.0;
        }
        let y0 = (1.0 / n as f64 / 1.5).min(0.1);
        let mut chart = ChartBuilder::on(root)
            .caption(&title, title_font())
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..1.5f64).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("Earnings per creator (RMB, log scale)")
            .y_desc("Share of paid creators earning ≥ x (log scale)")
            .axis_desc_style(desc_font())
            .label_style(label_font())
            .x_label_formatter(&|x| compact(*x))
            .y_label_formatter(&|y| pct(*y))
            .light_line_style(WHITE)
            .draw()?;
        let c = color(2);
        chart
            .draw_series(LineSeries::new(pts.iter().cloned(), c.stroke_width(2)))?
            .label(format!("Replication 0: {} creators with earnings > 0 (max {})", thousands(n as f64, 0), rmb(xmax)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart.draw_series(pts.iter().step_by((pts.len() / 200).max(1)).map(|p| Circle::new(*p, 3, c.filled())))?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}
