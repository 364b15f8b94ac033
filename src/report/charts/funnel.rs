//! Bar charts of flows: the audience funnel and where GMV goes (by category and landing).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::Scenario;
use super::draw::*;
use super::ChartError;

/// Funnel steps: summary metric, daily column, display name.
const STEPS: [(&str, &str); 4] = [
    ("impressions", "Impressions"),
    ("fresh_reach", "New viewers"),
    ("opens", "Mini-program opens"),
    ("payers", "Paying users"),
];

/// Mean and 95% interval of each funnel step: from summary.csv, else the sum of the
/// `all` rows of daily.csv (without interval).
fn funnel_values(s: &Scenario) -> Vec<(f64, f64, f64)> {
    STEPS
        .iter()
        .map(|(metric, _)| {
            if let Some(r) = s.head.metric(metric) {
                return (finite(r.mean), r.lo, r.hi);
            }
            let sum: f64 = s
                .scope("all")
                .map(|r| match *metric {
                    "impressions" => r.impressions,
                    "fresh_reach" => r.fresh_reach,
                    "opens" => r.opens,
                    _ => r.payers,
                })
                .map(finite)
                .sum();
            (sum, f64::NAN, f64::NAN)
        })
        .collect()
}

/// `funnel.png`: impressions → new viewers → mini-program opens → paying users on a log scale, with the
/// conversion rate of each step.
pub fn draw_funnel(s: &Scenario, path: &Path) -> Result<(), ChartError> {
    let vals = funnel_values(s);
    let title = title("Audience funnel: impressions to payers", &s.name());
    render(path, |root| {
        if vals.iter().all(|v| v.0 <= 0.0) {
            return no_data(root, &title, "No impressions were recorded in this run.");
        }
        let positive = vals.iter().flat_map(|v| [v.0, v.1]).filter(|x| x.is_finite() && *x > 0.0);
        let ymin = positive.clone().fold(f64::INFINITY, f64::min);
        let ymax = vals.iter().flat_map(|v| [v.0, v.2]).filter(|x| x.is_finite()).fold(0.0, f64::max);
        let y0 = (ymin / 5.0).max(1e-3);
        let y1 = (ymax * 5.0).max(y0 * 100.0);
        let n = vals.len() as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&title, title_font())
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5f64..n - 0.5, (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc("Funnel step")
            .y_desc("Count over the run (mean of replications; log scale: equal heights are equal ratios)")
            .axis_desc_style(desc_font())
            .label_style(label_font())
            .y_label_formatter(&|y| compact(*y))
            .light_line_style(WHITE)
            .draw()?;
        // Points joined by a line, not bars: on a log scale a bar's length depends on where the
        // axis happens to start, so bars made the later, smaller steps look far larger than
        // they are. Equal vertical distances are equal ratios, which the rates print.
        let joined: Vec<(f64, f64)> =
            vals.iter().enumerate().filter(|(_, v)| v.0 > 0.0).map(|(i, v)| (i as f64, v.0)).collect();
        chart.draw_series(std::iter::once(PathElement::new(joined, GREY.stroke_width(2))))?;
        for (i, (v, lo, hi)) in vals.iter().enumerate() {
            let x = i as f64;
            if *v > 0.0 {
                chart.draw_series([
                    Circle::new((x, *v), 11, color(i).filled()),
                    Circle::new((x, *v), 11, BLACK.stroke_width(1)),
                ])?;
            }
            let mut top = *v;
            if lo.is_finite() && hi.is_finite() && *hi > 0.0 {
                let lo = lo.max(y0);
                let style = BLACK.stroke_width(2);
                for seg in [
                    vec![(x, lo), (x, *hi)],
                    vec![(x - 0.06, lo), (x + 0.06, lo)],
                    vec![(x - 0.06, *hi), (x + 0.06, *hi)],
                ] {
                    chart.draw_series(std::iter::once(PathElement::new(seg, style)))?;
                }
                top = top.max(*hi);
            }
            chart.draw_series(std::iter::once(Text::new(
                format!("{} ({})", compact(*v), thousands(*v, 0)),
                (x, top.max(y0) * 1.25),
                text(18.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
        for i in 0..vals.len() - 1 {
            let (a, b) = (vals[i].0, vals[i + 1].0);
            let rate = if a > 0.0 { pct(b / a) } else { "–".to_string() };
            let y = if a > 0.0 && b > 0.0 { (a * b).sqrt() } else { a.max(b).max(y0) };
            let x = i as f64 + 0.5;
            chart.draw_series(std::iter::once(Text::new(
                format!("→ {rate}"),
                (x, y),
                text(22.0, &RGBColor(0x20, 0x20, 0x20)).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{} / {}", STEPS[i + 1].1.to_lowercase(), STEPS[i].1.to_lowercase()),
                (x, y),
                text(14.0, &GREY).pos(Pos::new(HPos::Center, VPos::Top)),
            )))?;
        }
        let overall = if vals[0].0 > 0.0 { pct(vals[3].0 / vals[0].0) } else { "–".to_string() };
        chart.draw_series(std::iter::once(Text::new(
            format!("Overall: payers / impressions = {overall}"),
            (n - 0.55, y1 / 1.3),
            text(19.0, &BLACK).pos(Pos::new(HPos::Right, VPos::Top)),
        )))?;
        let names: Vec<(f64, String)> =
            STEPS.iter().enumerate().map(|(i, (_, name))| (i as f64, name.to_string())).collect();
        x_names(root, &chart, &y0, &names, 18.0, 8)
    })
}

/// One bar of the money split: GMV and its parts, summed over days.
struct Split {
    name: String,
    gmv: f64,
    refunds: f64,
    fees: f64,
    commission: f64,
    net: f64,
}

/// Segment names and colours of the money split, bottom first.
const PARTS: [(&str, RGBColor); 5] = [
    ("Refunds", RGBColor(0xE1, 0x57, 0x59)),
    ("Platform fees", RGBColor(0xF2, 0x8E, 0x2B)),
    ("Commission (accrued)", RGBColor(0x4E, 0x79, 0xA7)),
    ("Operator net (if positive)", RGBColor(0x59, 0xA1, 0x4F)),
    ("Other (ads, subsidies, timing)", RGBColor(0xBA, 0xB0, 0xAC)),
];

impl Split {
    /// Parts as shares of GMV, in [`PARTS`] order.
    fn shares(&self) -> [f64; 5] {
        if self.gmv <= 0.0 {
            return [0.0; 5];
        }
        let net = self.net.max(0.0);
        let other = (self.gmv - self.refunds - self.fees - self.commission - net).max(0.0);
        [self.refunds, self.fees, self.commission, net, other].map(|v| v.max(0.0) / self.gmv)
    }
}

/// Groups of bars: everything, by category, by landing platform.
fn splits(s: &Scenario) -> Vec<(&'static str, Vec<Split>)> {
    let sum = |scope: &str, key: Option<&str>, name: String| {
        let mut sp = Split { name, gmv: 0.0, refunds: 0.0, fees: 0.0, commission: 0.0, net: 0.0 };
        for r in s.scope(scope).filter(|r| key.map_or(true, |k| r.key == k)) {
            sp.gmv += finite(r.gmv);
            sp.refunds += finite(r.refunds);
            sp.fees += finite(r.platform_fees);
            sp.commission += finite(r.commission_accrued);
            sp.net += finite(r.operator_net);
        }
        sp
    };
    let mut groups = vec![("", vec![sum("all", None, "All".to_string())])];
    for (scope, label) in [("category", "by category"), ("landing", "by landing platform")] {
        let bars: Vec<Split> = s.keys(scope).into_iter().map(|(id, name)| sum(scope, Some(&id), name)).collect();
        if !bars.is_empty() {
            groups.push((label, bars));
        }
    }
    groups
}

/// `money_split.png`: GMV split into refunds, platform fees, commission and operator
/// net as 100% stacked bars, overall, by category and by landing platform.
pub fn draw_money_split(s: &Scenario, path: &Path) -> Result<(), ChartError> {
    let groups = splits(s);
    let title = title("Where the money goes: split of GMV", &s.name());
    render(path, |root| {
        if groups.iter().flat_map(|g| &g.1).all(|b| b.gmv <= 0.0) {
            return no_data(root, &title, "No GMV was recorded in this run.");
        }
        // x position of every bar, with a gap between groups.
        let mut bars: Vec<(f64, &Split)> = Vec::new();
        let mut group_centres: Vec<(f64, String)> = Vec::new();
        let mut x = 0.0;
        for (label, g) in &groups {
            let first = x;
            for b in g {
                bars.push((x, b));
                x += 1.0;
            }
            group_centres.push(((first + x - 1.0) / 2.0, label.to_string()));
            x += 0.6;
        }
        let xmax = x - 0.6 - 0.5;
        let top = bars.iter().map(|(_, b)| b.shares().iter().sum::<f64>()).fold(1.0, f64::max);
        let legend: Vec<(String, RGBColor)> = PARTS.iter().map(|(n, c)| (n.to_string(), *c)).collect();
        let body = title_and_legend_row(root, &title, &legend)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(20)
            .margin_top(0)
            .x_label_area_size(75)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5f64..xmax, 0f64..top * 1.06)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("Share of GMV (%), summed over the run")
            .axis_desc_style(desc_font())
            .label_style(label_font())
            .y_label_formatter(&|y| format!("{:.0}", y * 100.0))
            .light_line_style(WHITE)
            .draw()?;
        for (k, (_, c)) in PARTS.iter().enumerate() {
            chart.draw_series(bars.iter().map(|(x, b)| {
                let sh = b.shares();
                let base: f64 = sh[..k].iter().sum();
                Rectangle::new([(x - 0.35, base), (x + 0.35, base + sh[k])], c.filled())
            }))?;
        }
        for (x, b) in &bars {
            let sh = b.shares();
            let mut base = 0.0;
            for v in sh {
                if v >= 0.045 {
                    chart.draw_series(std::iter::once(Text::new(
                        format!("{:.0}%", v * 100.0),
                        (*x, base + v / 2.0),
                        text(15.0, &WHITE).pos(Pos::new(HPos::Center, VPos::Center)),
                    )))?;
                }
                base += v;
            }
            let mut label = format!("GMV {}", rmb(b.gmv));
            if b.net < 0.0 {
                label.push_str(&format!(", net {}", rmb(b.net)));
            }
            chart.draw_series(std::iter::once(Text::new(
                label,
                (*x, base.max(if b.gmv > 0.0 { 1.0 } else { 0.0 }) + 0.01),
                text(14.0, &BLACK).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
        let names: Vec<(f64, String)> = bars.iter().map(|(x, b)| (*x, truncate(&b.name, 12))).collect();
        x_names(root, &chart, &0.0, &names, 17.0, 8)?;
        x_names(root, &chart, &0.0, &group_centres, 17.0, 36)
    })
}
