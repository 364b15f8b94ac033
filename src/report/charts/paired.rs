//! The one comparison chart of B against A (`cpsim compare`, and `cpsim run A.toml B.toml`):
//! metrics grouped (headline, money, creators, audience, then per category), their reader's
//! names, and the change of B from A with its 95% interval, paired over replications that share
//! their seeds. A change of a positive quantity is relative and computed on the log of the ratio
//! of means, so its interval can never run below -100%; a share, or a quantity that is zero or
//! can be negative, is shown as the absolute difference B - A in its own unit.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::*;
use super::ChartError;
use crate::model::metrics::{stat, t975, Unit};
use crate::report::labels;

/// One metric's values on each side, per replication; `paired` when replication r of A and of B
/// share their seeds (then `a[r]` goes with `b[r]`).
#[derive(Clone, Debug)]
pub struct Series {
    pub metric: String,
    pub unit: Unit,
    /// Display group: a [`labels::Group`] title or `Category: name`.
    pub group: String,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub paired: bool,
}

/// How the change from A to B is measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// B / A - 1, a fraction (0.05 = +5%).
    Relative,
    /// B - A in the metric's unit.
    Absolute,
}

/// The change of one metric: the means, the change and its 95% interval (NaN without one).
#[derive(Clone, Debug)]
pub struct Change {
    pub metric: String,
    pub unit: Unit,
    pub group: String,
    pub a_mean: f64,
    pub b_mean: f64,
    pub scale: Scale,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    /// Replications behind each side (the smaller).
    pub n: usize,
    pub paired: bool,
}

impl Change {
    /// "higher", "lower", "no clear difference" or "no interval".
    pub fn verdict(&self) -> &'static str {
        if !(self.lo.is_finite() && self.hi.is_finite()) {
            "no interval"
        } else if self.lo > 0.0 {
            "B higher"
        } else if self.hi < 0.0 {
            "B lower"
        } else {
            "no clear difference"
        }
    }

    /// The change as text: "+3.2% (+1.0% to +5.5%)" or "+1,234.00 RMB (… to …)".
    pub fn text(&self) -> String {
        let f = |x: f64| match self.scale {
            Scale::Relative if x.is_finite() => format!("{:+.1}%", 100.0 * x),
            Scale::Relative => "–".to_string(),
            Scale::Absolute => signed(x, &self.metric, self.unit),
        };
        if self.a_mean == 0.0 && self.b_mean == 0.0 && self.lo == 0.0 && self.hi == 0.0 {
            return "no change (zero in both)".to_string();
        }
        if self.lo.is_finite() && self.hi.is_finite() {
            format!("{} ({} to {})", f(self.mean), f(self.lo), f(self.hi))
        } else {
            format!("{} (no interval)", f(self.mean))
        }
    }
}

/// An absolute difference with its sign and unit; a share in percentage points.
fn signed(x: f64, metric: &str, unit: Unit) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let sign = if x > 0.0 { "+" } else { "" };
    match labels::metric_format(metric, unit) {
        labels::Format::Percent => format!("{sign}{:.2} pp", 100.0 * x),
        labels::Format::Index => format!("{sign}{x:.3}"),
        f => format!("{sign}{}", labels::with_unit(x, f, true)),
    }
}

/// The change of one metric from A to B. Relative (on the log of the ratio of means, delta
/// method, with the covariance of the pairs when paired) where every value is non-negative and
/// both means are positive; absolute otherwise, and for shares.
pub fn change(s: &Series) -> Change {
    let (sa, sb) = (stat(&s.a), stat(&s.b));
    let n = s.a.len().min(s.b.len());
    let share = s.unit == Unit::Share;
    let positive = sa.mean > 0.0 && sb.mean > 0.0 && s.a.iter().chain(&s.b).all(|x| *x >= 0.0);
    let t = if n >= 2 { t975(n - 1) } else { f64::NAN };
    let (scale, mean, lo, hi) = if positive && !share {
        if s.paired && s.a.len() == s.b.len() {
            let ln_r = (sb.mean / sa.mean).ln();
            let cov = covariance(&s.a, &s.b);
            let var = (sb.sd.powi(2) / sb.mean.powi(2) + sa.sd.powi(2) / sa.mean.powi(2)
                - 2.0 * cov / (sa.mean * sb.mean))
                / n as f64;
            let half = t * var.max(0.0).sqrt();
            (Scale::Relative, ln_r.exp() - 1.0, (ln_r - half).exp() - 1.0, (ln_r + half).exp() - 1.0)
        } else {
            unpaired((sa.mean, sa.sd, s.a.len()), (sb.mean, sb.sd, s.b.len()), true)
        }
    } else if s.paired && s.a.len() == s.b.len() {
        let d = stat(&s.a.iter().zip(&s.b).map(|(a, b)| b - a).collect::<Vec<_>>());
        let half = t * d.sd / (n as f64).sqrt();
        (Scale::Absolute, d.mean, d.mean - half, d.mean + half)
    } else {
        let (scale, mean, lo, hi) = unpaired((sa.mean, sa.sd, s.a.len()), (sb.mean, sb.sd, s.b.len()), false);
        (scale, mean, lo, hi)
    };
    let (lo, hi) = if n >= 2 { (lo, hi) } else { (f64::NAN, f64::NAN) };
    Change {
        metric: s.metric.clone(),
        unit: s.unit,
        group: s.group.clone(),
        a_mean: sa.mean,
        b_mean: sb.mean,
        scale,
        mean,
        lo,
        hi,
        n,
        paired: s.paired,
    }
}

/// The absolute change of independent sides given as (mean, sd, n) (Welch's standard error, the
/// smaller side's degrees of freedom); relative, on the log of the ratio, when `relative`.
fn unpaired(a: (f64, f64, usize), b: (f64, f64, usize), relative: bool) -> (Scale, f64, f64, f64) {
    let n = a.2.min(b.2);
    let t = if n >= 2 { t975(n - 1) } else { f64::NAN };
    if relative {
        let ln_r = (b.0 / a.0).ln();
        let var = b.1.powi(2) / (b.2 as f64 * b.0.powi(2)) + a.1.powi(2) / (a.2 as f64 * a.0.powi(2));
        let half = t * var.sqrt();
        return (Scale::Relative, ln_r.exp() - 1.0, (ln_r - half).exp() - 1.0, (ln_r + half).exp() - 1.0);
    }
    let se = (a.1.powi(2) / a.2 as f64 + b.1.powi(2) / b.2 as f64).sqrt();
    let d = b.0 - a.0;
    (Scale::Absolute, d, d - t * se, d + t * se)
}

/// The unpaired change of a metric known only by each side's mean, sd and replications (two
/// folders without `replications.csv`).
pub fn change_from_stats(metric: &str, unit: Unit, group: &str, a: (f64, f64, usize), b: (f64, f64, usize)) -> Change {
    let relative = unit != Unit::Share && a.0 > 0.0 && b.0 > 0.0;
    let (scale, mean, lo, hi) = unpaired(a, b, relative);
    let n = a.2.min(b.2);
    let (lo, hi) = if n >= 2 && lo.is_finite() && hi.is_finite() { (lo, hi) } else { (f64::NAN, f64::NAN) };
    Change {
        metric: metric.to_string(),
        unit,
        group: group.to_string(),
        a_mean: a.0,
        b_mean: b.0,
        scale,
        mean,
        lo,
        hi,
        n,
        paired: false,
    }
}

fn covariance(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len();
    if n < 2 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n as f64, b.iter().sum::<f64>() / n as f64);
    a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / (n - 1) as f64
}

/// The group of a headline metric, by the labels table (`None` for metrics not shown).
pub fn group_of(metric: &str) -> Option<&'static str> {
    labels::info(metric).map(|l| l.group.title())
}

const GREEN: RGBColor = RGBColor(26, 128, 60);
const RED: RGBColor = RGBColor(190, 40, 40);
const NEUTRAL: RGBColor = RGBColor(120, 120, 120);

fn colour(c: &Change) -> RGBColor {
    match c.verdict() {
        "B higher" => GREEN,
        "B lower" => RED,
        _ => NEUTRAL,
    }
}

/// Tick values (as fractions) of the relative axis within `[-limit, limit]` on the log scale.
fn ticks(limit: f64) -> Vec<f64> {
    const T: [f64; 21] = [
        -0.9, -0.75, -0.5, -0.25, -0.1, -0.05, -0.02, -0.01, -0.005, 0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
        3.0, 9.0, 99.0,
    ];
    T.iter().copied().filter(|t| (1.0 + t).ln().abs() <= limit).collect()
}

/// Writes the comparison chart of `changes` (in display order) to `path`. `title` names the two
/// scenarios; the subtitle says whether the intervals are paired.
pub fn draw(changes: &[Change], title: &str, path: &Path) -> Result<(), ChartError> {
    super::ensure_font()?;
    let groups: Vec<&str> = {
        let mut g: Vec<&str> = Vec::new();
        for c in changes {
            if !g.contains(&c.group.as_str()) {
                g.push(&c.group);
            }
        }
        g
    };
    let rows = changes.len() + groups.len();
    let (w, _) = super::CHART_SIZE;
    let top = 150i32;
    let row_h = 26i32;
    let h = (top + row_h * rows as i32 + 60).max(320) as u32;
    let paired = changes.iter().all(|c| c.paired);
    let n = changes.iter().map(|c| c.n).min().unwrap_or(0);
    render_sized(path, (w, h), |root| {
        if changes.is_empty() {
            return no_data(root, title, "Nothing to compare: no metric is held by both runs.");
        }
        root.draw(&Text::new(
            title.to_string(),
            (w as i32 / 2, 14),
            text(24.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let sub = if n < 2 {
            "One replication: changes without intervals.".to_string()
        } else if paired {
            format!("Change of B from A, {} (paired: both runs share their seeds)", labels::interval_wording(n))
        } else {
            format!("Change of B from A, {} (unpaired: the runs do not share seeds)", labels::interval_wording(n))
        };
        root.draw(&Text::new(sub, (w as i32 / 2, 48), text(17.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Top))))?;
        // Legend of the colours, above the rows where it covers nothing.
        let mut x = 60;
        for (c, what) in [
            (GREEN, "B higher than A (whole interval above 0)"),
            (RED, "B lower than A (whole interval below 0)"),
            (NEUTRAL, "no clear difference (interval holds 0)"),
        ] {
            root.draw(&Circle::new((x, 90), 6, c.filled()))?;
            root.draw(&Text::new(what, (x + 12, 90), text(15.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center))))?;
            x += 370;
        }
        let (x0, x1) = (470i32, 880i32);
        let xc = (x0 + x1) / 2;
        let rel: Vec<&Change> = changes.iter().filter(|c| c.scale == Scale::Relative).collect();
        let limit = rel
            .iter()
            .flat_map(|c| [c.mean, c.lo, c.hi])
            .filter(|v| v.is_finite() && *v > -1.0)
            .map(|v| (1.0 + v).ln().abs())
            .fold(0.05f64.ln_1p(), f64::max)
            * 1.1;
        let px = |v: f64| xc + (((1.0 + v).ln() / limit) * f64::from(x1 - xc)).round() as i32;
        let y_end = top + row_h * rows as i32;
        root.draw(&Text::new(
            "Relative change (log scale)",
            (xc, top - 28),
            text(15.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        root.draw(&Text::new(
            "Change (95% interval)",
            (x1 + 16, top - 28),
            text(15.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        // Ticks at least 56 px apart, kept outward from 0 (the log scale crowds the large ones).
        let mut kept: Vec<f64> = vec![0.0];
        for side in [1.0, -1.0] {
            let mut last = px(0.0);
            let mut ts: Vec<f64> = ticks(limit).into_iter().filter(|t| *t * side > 0.0).collect();
            ts.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
            for t in ts {
                if (px(t) - last).abs() >= 56 {
                    last = px(t);
                    kept.push(t);
                }
            }
        }
        for t in kept {
            let xp = px(t);
            let style = if t == 0.0 { BLACK.stroke_width(1) } else { RGBColor(225, 225, 225).stroke_width(1) };
            root.draw(&PathElement::new(vec![(xp, top - 8), (xp, y_end)], style))?;
            let label = if t == 0.0 { "0".to_string() } else { format!("{:+}%", (t * 1000.0).round() / 10.0) };
            root.draw(&Text::new(label, (xp, y_end + 6), text(13.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Top))))?;
        }
        let mut y = top;
        for g in &groups {
            root.draw(&Rectangle::new(
                [(10, y + 2), (w as i32 - 10, y + row_h - 2)],
                RGBColor(240, 240, 240).filled(),
            ))?;
            root.draw(&Text::new(
                g.to_string(),
                (16, y + row_h / 2),
                text(16.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            y += row_h;
            for c in changes.iter().filter(|c| c.group == *g) {
                let cy = y + row_h / 2;
                let name_style = text(15.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center));
                let name = fit(root, &labels::label(&c.metric), &name_style, x0 - 50);
                root.draw(&Text::new(name, (28, cy), name_style))?;
                let col = colour(c);
                if c.scale == Scale::Relative && c.mean.is_finite() {
                    if c.lo.is_finite() && c.hi.is_finite() {
                        let (l, r) = (px(c.lo).clamp(x0, x1), px(c.hi).clamp(x0, x1));
                        root.draw(&PathElement::new(vec![(l, cy), (r, cy)], col.stroke_width(3)))?;
                    }
                    root.draw(&Circle::new((px(c.mean).clamp(x0, x1), cy), 5, col.filled()))?;
                } else {
                    root.draw(&Text::new(
                        "absolute change →",
                        (xc, cy),
                        text(13.0, &GREY).pos(Pos::new(HPos::Center, VPos::Center)),
                    ))?;
                }
                let value_style = text(14.0, &col).pos(Pos::new(HPos::Left, VPos::Center));
                let value = fit(root, &c.text(), &value_style, w as i32 - x1 - 26);
                root.draw(&Text::new(value, (x1 + 16, cy), value_style))?;
                y += row_h;
            }
        }
        Ok(())
    })
}

/// The changes of `series`, in display order: by group (headline, money, creators, audience,
/// then categories in their order of appearance), then by the labels table.
pub fn ordered(series: &[Series]) -> Vec<Change> {
    let rank = |s: &Series| {
        // Own plans lead (group 0), then the label groups, then the categories in their order.
        if s.group.starts_with("Own plan") {
            return (0, 0);
        }
        let g = labels::info(&s.metric).map(|l| l.group as usize + 1).filter(|_| !s.group.starts_with("Category"));
        let t = labels::TABLE.iter().position(|l| Some(l.name) == labels::info(&s.metric).map(|i| i.name));
        (g.unwrap_or(usize::MAX), t.unwrap_or(usize::MAX))
    };
    let mut order: Vec<usize> = (0..series.len()).collect();
    // Stable: categories keep the order they came in.
    order.sort_by_key(|&i| {
        let (g, t) = rank(&series[i]);
        if g == usize::MAX {
            (g, 0)
        } else {
            (g, t)
        }
    });
    order.into_iter().map(|i| change(&series[i])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(a: &[f64], b: &[f64], unit: Unit, paired: bool) -> Series {
        Series { metric: "gmv".into(), unit, group: "Headline".into(), a: a.to_vec(), b: b.to_vec(), paired }
    }

    #[test]
    fn a_relative_interval_never_runs_below_minus_100_percent() {
        // A wide, noisy drop: an interval on B - A in % of A would reach far below -100%.
        let c = change(&series(&[100.0, 5.0, 300.0], &[1.0, 0.5, 2.0], Unit::Rmb, true));
        assert_eq!(c.scale, Scale::Relative);
        assert!(c.lo > -1.0 && c.lo < c.mean && c.mean < c.hi, "{c:?}");
    }

    #[test]
    fn a_known_ratio_is_found_and_pairing_narrows_it() {
        let a = [100.0, 120.0, 80.0, 110.0];
        let b: Vec<f64> = a.iter().map(|x| x * 1.1 + 1.0).collect();
        let p = change(&series(&a, &b, Unit::Rmb, true));
        let u = change(&series(&a, &b, Unit::Rmb, false));
        let want = b.iter().sum::<f64>() / a.iter().sum::<f64>() - 1.0;
        assert!((p.mean - want).abs() < 1e-12);
        assert!(p.hi - p.lo < u.hi - u.lo, "paired {p:?} unpaired {u:?}");
        assert_eq!(p.verdict(), "B higher");
    }

    #[test]
    fn zero_negative_and_shares_are_absolute_and_one_replication_has_no_interval() {
        assert_eq!(change(&series(&[0.0, 0.0], &[5.0, 7.0], Unit::Rmb, true)).scale, Scale::Absolute);
        assert_eq!(change(&series(&[-5.0, 3.0], &[5.0, 7.0], Unit::Rmb, true)).scale, Scale::Absolute);
        let s = change(&series(&[0.4, 0.5], &[0.45, 0.52], Unit::Share, true));
        assert_eq!(s.scale, Scale::Absolute);
        let one = change(&series(&[10.0], &[12.0], Unit::Rmb, true));
        assert!(one.lo.is_nan() && one.text().contains("no interval"), "{}", one.text());
        assert!(!one.text().contains("NaN"));
    }
}
