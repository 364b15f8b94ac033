//! Episode metrics: the quantities the 2024 article's episodes (MODEL.md sec. 11) are judged by,
//! computed after a replication from its per-cell daily flows ([`RepData::daily`]) and a few
//! exact counts the day loop keeps for them ([`EpisodeCounts`](crate::model::counts::EpisodeCounts)): posting attempts, clips by
//! format, and per title its category, landing, launch day and opens. Nothing here feeds back
//! into the simulation; `docs/VALIDATION.md` reads these numbers.

use crate::model::counts::TitleStat;
use crate::model::metrics::RepData;
use crate::model::metrics::{metric_index, rmb, Flow, Flows, Stat, Unit};
use crate::report::charts::episode::EpisodeRow;
use crate::scenario::Scenario;
use crate::study::compare::pair_stats;
use std::fmt::Write as _;

/// How many of the top `k` titles by opens are of each category (ties broken by title id, the
/// older title first; titles with no opens do not count).
pub fn top_titles_by_category(titles: &[TitleStat], ncat: usize, k: usize) -> Vec<u32> {
    let mut order: Vec<usize> = (0..titles.len()).filter(|&i| titles[i].opens > 0).collect();
    order.sort_by(|&a, &b| titles[b].opens.cmp(&titles[a].opens).then(a.cmp(&b)));
    let mut out = vec![0; ncat];
    for &i in order.iter().take(k) {
        out[titles[i].category as usize] += 1;
    }
    out
}

/// One episode metric of one replication.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub name: String,
    pub unit: Unit,
    pub value: f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// The episode metrics of one replication, in a fixed order: market-wide ones first, then for
/// each category `name[category]`. Shares are NaN where their denominator is 0.
///
/// - `post_share`: clips / posting attempts; `image_text_share`: image-text clips / clips;
/// - `square_plans`, `square_plans_wechat`, `square_plans[c]`: plans in the square, mean a day;
/// - `clip_share[c]`, `gmv_share[c]`: the category's share of clips and of GMV;
/// - `clip_lead[c]`, `gmv_lead[c]`: its share minus the largest share of any other category
///   (positive exactly when it is the largest);
/// - `titles[c]`, `douyin_title_share[c]`: titles of the run (initial stock and launches) and
///   the share of them landing on Douyin; `new_titles[c]`, `new_douyin_title_share[c]`: the same
///   for titles launched during the run (day >= 1);
/// - `operator_net_per_title[c]`: the category's operator net over its titles;
/// - `top10_opens[c]`: how many of the 10 titles with most opens are of the category.
pub fn values(s: &Scenario, d: &RepData) -> Vec<Value> {
    let nc = s.categories.len();
    let mut cell = vec![Flows::default(); nc * 2];
    for day in &d.daily {
        for (k, f) in day.iter().enumerate().take(nc * 2) {
            cell[k].absorb(f);
        }
    }
    let mut cat = vec![Flows::default(); nc];
    let mut total = Flows::default();
    let mut wechat = Flows::default();
    for (k, f) in cell.iter().enumerate() {
        cat[k / 2].absorb(f);
        total.absorb(f);
        if k % 2 == 1 {
            wechat.absorb(f);
        }
    }
    let days = d.daily.len().max(1) as f64;
    let headline = |m: &str| metric_index(m).and_then(|k| d.metrics.get(k).copied().flatten()).unwrap_or(f64::NAN);
    let e = &d.episode;
    let clips = total.get(Flow::Clips) as f64;
    let gmv = total.get(Flow::Gmv) as f64;
    let mut out = Vec::new();
    let mut push = |name: String, unit: Unit, value: f64| out.push(Value { name, unit, value });
    push("gmv".into(), Unit::Rmb, rmb(total.get(Flow::Gmv)));
    push("clips".into(), Unit::Count, clips);
    push("clips_wechat".into(), Unit::Count, wechat.get(Flow::Clips) as f64);
    push("attempts".into(), Unit::Count, e.attempts as f64);
    push("post_share".into(), Unit::Share, ratio(clips, e.attempts as f64));
    push("image_text_clips".into(), Unit::Count, e.clips_by_format[1] as f64);
    push("image_text_share".into(), Unit::Share, ratio(e.clips_by_format[1] as f64, clips));
    push("square_plans".into(), Unit::Count, total.get(Flow::OpenPlans) as f64 / days);
    push("square_plans_wechat".into(), Unit::Count, wechat.get(Flow::OpenPlans) as f64 / days);
    push("commission_accrued".into(), Unit::Rmb, rmb(total.get(Flow::CommissionAccrued)));
    push("operator_net".into(), Unit::Rmb, rmb(total.get(Flow::OperatorNet)));
    push("ad_money".into(), Unit::Rmb, rmb(total.get(Flow::AdMoney)));
    push("subsidies".into(), Unit::Rmb, rmb(total.get(Flow::Subsidies)));
    for m in ["active_creators", "creators_ever", "creators_paid", "payout_gini", "payout_top1_share"] {
        let unit = if m.starts_with("payout") { Unit::Share } else { Unit::Count };
        push(m.into(), unit, headline(m));
    }
    let clip_share: Vec<f64> = cat.iter().map(|f| ratio(f.get(Flow::Clips) as f64, clips)).collect();
    let gmv_share: Vec<f64> = cat.iter().map(|f| ratio(f.get(Flow::Gmv) as f64, gmv)).collect();
    let lead = |v: &[f64], c: usize| {
        let other = (0..nc).filter(|&o| o != c).map(|o| v[o]).fold(f64::NEG_INFINITY, f64::max);
        if nc > 1 {
            v[c] - other
        } else {
            f64::NAN
        }
    };
    let top = top_titles_by_category(&e.titles, nc, 10);
    for (c, k) in s.categories.iter().enumerate() {
        let id = &k.id;
        let f = &cat[c];
        let all: Vec<&TitleStat> = e.titles.iter().filter(|t| t.category as usize == c).collect();
        let new: Vec<&&TitleStat> = all.iter().filter(|t| t.launch_day >= 1).collect();
        let douyin = all.iter().filter(|t| t.landing == 0).count() as f64;
        let new_douyin = new.iter().filter(|t| t.landing == 0).count() as f64;
        push(format!("clips[{id}]"), Unit::Count, f.get(Flow::Clips) as f64);
        push(format!("clip_share[{id}]"), Unit::Share, clip_share[c]);
        push(format!("clip_lead[{id}]"), Unit::Share, lead(&clip_share, c));
        push(format!("gmv[{id}]"), Unit::Rmb, rmb(f.get(Flow::Gmv)));
        push(format!("gmv_share[{id}]"), Unit::Share, gmv_share[c]);
        push(format!("gmv_lead[{id}]"), Unit::Share, lead(&gmv_share, c));
        push(format!("commission[{id}]"), Unit::Rmb, rmb(f.get(Flow::CommissionAccrued)));
        push(format!("operator_net[{id}]"), Unit::Rmb, rmb(f.get(Flow::OperatorNet)));
        push(format!("ad_money[{id}]"), Unit::Rmb, rmb(f.get(Flow::AdMoney)));
        push(format!("square_plans[{id}]"), Unit::Count, f.get(Flow::OpenPlans) as f64 / days);
        push(format!("titles[{id}]"), Unit::Count, all.len() as f64);
        push(format!("douyin_title_share[{id}]"), Unit::Share, ratio(douyin, all.len() as f64));
        push(format!("new_titles[{id}]"), Unit::Count, new.len() as f64);
        push(format!("new_douyin_title_share[{id}]"), Unit::Share, ratio(new_douyin, new.len() as f64));
        push(
            format!("operator_net_per_title[{id}]"),
            Unit::Rmb,
            ratio(rmb(f.get(Flow::OperatorNet)), all.len() as f64),
        );
        push(format!("top10_opens[{id}]"), Unit::Count, top[c] as f64);
    }
    out
}

/// The episode metrics of one scenario's replications, by name; `stat` of each over the
/// replications where it is defined.
pub fn summary(s: &Scenario, reps: &[RepData]) -> Vec<(String, Unit, Stat)> {
    let per: Vec<Vec<Value>> = reps.iter().map(|d| values(s, d)).collect();
    let Some(first) = per.first() else { return Vec::new() };
    first
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let xs: Vec<f64> = per.iter().map(|p| p[k].value).filter(|x| x.is_finite()).collect();
            (v.name.clone(), v.unit, crate::model::metrics::stat(&xs))
        })
        .collect()
}

/// Paired comparison of the episode metrics: replication r of A against replication r of B.
/// Metrics are matched by name, in A's order (B's scenario may have other categories).
pub fn paired(sa: &Scenario, a: &[RepData], sb: &Scenario, b: &[RepData]) -> Vec<EpisodeRow> {
    let n = a.len().min(b.len());
    let va: Vec<Vec<Value>> = a[..n].iter().map(|d| values(sa, d)).collect();
    let vb: Vec<Vec<Value>> = b[..n].iter().map(|d| values(sb, d)).collect();
    let Some(names) = va.first() else { return Vec::new() };
    names
        .iter()
        .enumerate()
        .filter_map(|(k, v)| {
            let j = vb.first()?.iter().position(|w| w.name == v.name)?;
            let pairs: Vec<(f64, f64)> = (0..n)
                .map(|r| (va[r][k].value, vb[r][j].value))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            let (sa, sb, sd, variance_reduction) = pair_stats(&pairs);
            Some(EpisodeRow { metric: v.name.clone(), unit: v.unit, a: sa, b: sb, diff: sd, variance_reduction })
        })
        .collect()
}

fn fmt(x: f64, unit: Unit) -> String {
    match unit {
        _ if !x.is_finite() => String::new(),
        Unit::Share => format!("{x:.6}"),
        _ => format!("{x:.2}"),
    }
}

/// The paired episode metrics as CSV: A and B with their 95% intervals, B - A with its 95%
/// interval, and the variance reduction of pairing.
pub fn csv(rows: &[EpisodeRow]) -> String {
    let mut out = String::from(
        "metric,unit,a_mean,a_ci95_low,a_ci95_high,b_mean,b_ci95_low,b_ci95_high,\
         diff_mean,diff_ci95_low,diff_ci95_high,variance_reduction\n",
    );
    for r in rows {
        let u = r.unit;
        let vr = if r.variance_reduction.is_finite() { format!("{:.1}", r.variance_reduction) } else { String::new() };
        let cells = [r.a.mean, r.a.lo, r.a.hi, r.b.mean, r.b.lo, r.b.hi, r.diff.mean, r.diff.lo, r.diff.hi];
        let cells: Vec<String> = cells.iter().map(|x| fmt(*x, u)).collect();
        let _ = writeln!(out, "{},{},{},{vr}", r.metric, u.name(), cells.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(category: u16, opens: u64) -> TitleStat {
        TitleStat { category, landing: 0, launch_day: 0, opens }
    }

    #[test]
    fn top_titles_count_by_category_and_skip_titles_without_opens() {
        let titles = [t(0, 5), t(1, 9), t(0, 9), t(2, 0), t(1, 1)];
        assert_eq!(top_titles_by_category(&titles, 3, 10), vec![2, 2, 0]);
        // Ties go to the older title: of the two with 9 opens, title 1 (category 1) first.
        assert_eq!(top_titles_by_category(&titles, 3, 1), vec![0, 1, 0]);
    }
}
