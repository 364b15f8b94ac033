//! Plan budget chart: cumulative budget used by the top plans, marking when a budget ran out
//! (a filled circle) apart from when a plan reached its end date (a cross).

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;

use super::data::{Plan, Scenario, PLANS_DAILY};
use super::draw::*;
use super::ChartError;

/// Most plans drawn.
pub const MAX_PLANS: usize = 10;

/// One plan's line.
struct PlanLine<'a> {
    id: &'a str,
    plan: Option<&'a Plan>,
    /// Display name of the plan's category (empty when unknown).
    category: String,
    points: Vec<(f64, f64)>,
}

impl PlanLine<'_> {
    fn label(&self, dates: &[String]) -> String {
        let title = match self.plan {
            Some(p) if !p.title.trim().is_empty() && p.title != self.id => truncate(&p.title, 22),
            _ => format!("plan {}", truncate(self.id, 16)),
        };
        let mut parts = Vec::new();
        if !self.category.is_empty() {
            parts.push(truncate(&self.category, 8));
        }
        parts.push(match self.plan.map(|p| p.budget) {
            Some(Some(b)) => format!("budget {}", rmb(b)),
            Some(None) => "unlimited budget".to_string(),
            None => "budget unknown".to_string(),
        });
        if let Some(d) = self.plan.and_then(|p| p.budget_out_day) {
            // The axis shows dates, so the legend does too.
            let when = dates.get(d).filter(|s| s.len() == 10).map_or(format!("day {d}"), |s| s.clone());
            parts.push(format!("budget ran out {when}"));
        } else if let Some(d) = self.plan.and_then(|p| p.ended_day) {
            let when = dates.get(d).filter(|s| s.len() == 10).map_or(format!("day {d}"), |s| s.clone());
            parts.push(format!("ended {when}"));
        }
        format!("{title} ({})", parts.join(", "))
    }

    /// Cumulative budget used at the end of `day` (last known value up to it).
    fn used_at(&self, day: f64) -> Option<f64> {
        self.points.iter().take_while(|p| p.0 <= day).last().map(|p| p.1)
    }
}

/// Plans of plans_daily.csv, highest commission first (ties by id), at most
/// [`MAX_PLANS`].
fn plan_lines(s: &Scenario) -> Vec<PlanLine<'_>> {
    let mut by_plan: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for r in &s.plans_daily {
        by_plan.entry(r.plan.as_str()).or_default().push((r.day as f64, finite(r.budget_used)));
    }
    let mut lines: Vec<PlanLine> = by_plan
        .into_iter()
        .map(|(id, mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let plan = s.plans.iter().find(|p| p.id == id);
            let category = plan.map(|p| s.category_name(&p.category)).unwrap_or_default();
            PlanLine { id, plan, category, points }
        })
        .collect();
    let key = |l: &PlanLine| l.plan.map(|p| finite(p.commission)).unwrap_or(f64::NEG_INFINITY);
    lines.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| id_order(a.id, b.id)));
    lines.truncate(MAX_PLANS);
    lines
}

/// Plan ids in numeric order when both are numbers, else in text order.
fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// `plan_budgets.png`: cumulative budget used per day by the top plans, with a filled circle
/// on the day a plan's budget ran out and a cross on the day a plan reached its end date. The
/// legend is a strip below the plot, so it covers no line or marker.
pub fn draw_budgets(s: &Scenario, path: &Path) -> Result<(), ChartError> {
    let lines = plan_lines(s);
    let title = title("Budget used by the top plans (by commission)", &s.name());
    let dates = s.dates();
    render(path, |root| {
        if lines.iter().all(|l| l.points.is_empty()) {
            let note = if s.is_missing(PLANS_DAILY) {
                "plans_daily.csv was not written for this run (no per-plan detail)."
            } else if s.plans.is_empty() {
                "This run had no plans."
            } else {
                "plans_daily.csv has no rows: no plan paid any commission."
            };
            return no_data(root, &title, note);
        }
        let mut legend: Vec<(String, Mark)> =
            lines.iter().enumerate().map(|(i, l)| (l.label(&dates), Mark::Line(color(i), 3))).collect();
        let out_at = |l: &PlanLine| {
            l.plan.and_then(|p| p.budget_out_day).and_then(|d| l.used_at(d as f64).map(|v| (d as f64, v)))
        };
        let end_at =
            |l: &PlanLine| l.plan.and_then(|p| p.ended_day).and_then(|d| l.used_at(d as f64).map(|v| (d as f64, v)));
        if lines.iter().any(|l| out_at(l).is_some()) {
            legend.push(("Budget ran out on this day".into(), Mark::Ring));
        }
        if lines.iter().any(|l| end_at(l).is_some()) {
            legend.push(("Plan reached its end date on this day".into(), Mark::Cross));
        }
        let (plot, strip) = split_for_legend(root, legend.len(), 2);
        let last_day = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).fold(0.0, f64::max);
        let xmax = (s.days().saturating_sub(1) as f64).max(last_day).max(1.0);
        let ymax = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(&plot)
            .caption(&title, title_font())
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..xmax, 0f64..headroom(ymax, 1.05))?;
        chart
            .configure_mesh()
            .x_desc(day_axis_desc(&dates))
            .y_desc("Cumulative budget used (RMB), replication 0")
            .axis_desc_style(desc_font())
            .label_style(label_font())
            .x_labels(14)
            .y_labels(10)
            .x_label_formatter(&|x| day_label(&dates, *x))
            .y_label_formatter(&|y| compact(*y))
            .light_line_style(WHITE)
            .draw()?;
        for (i, l) in lines.iter().enumerate() {
            let c = color(i);
            chart.draw_series(LineSeries::new(l.points.iter().cloned(), c.stroke_width(3)))?;
            if let Some((d, v)) = out_at(l) {
                chart
                    .draw_series([Circle::new((d, v), 8, c.filled()), Circle::new((d, v), 8, BLACK.stroke_width(2))])?;
            } else if let Some(p) = end_at(l) {
                chart.draw_series([Cross::new(p, 8, BLACK.stroke_width(3))])?;
            }
        }
        legend_strip(&strip, &legend, 2)
    })
}
