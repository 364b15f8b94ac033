//! The per-creator and per-plan tables of replication 0 (creators.csv, plans.csv,
//! plans_daily.csv), rendered as soon as the replication ends so its state can be dropped.

use crate::base::money::format_rmb;
use crate::model::metrics::Detail;
use crate::model::operators::UNLIMITED;
use crate::report::output::csv_field;
use crate::scenario::Scenario;
use std::fmt::Write as _;

/// The detail files of a replication: (file name, contents).
pub fn render(s: &Scenario, d: &Detail) -> Vec<(String, String)> {
    vec![
        ("creators.csv".into(), creators_csv(d)),
        ("plans.csv".into(), plans_csv(s, d)),
        ("plans_daily.csv".into(), plans_daily_csv(s, d)),
    ]
}

fn creators_csv(d: &Detail) -> String {
    let c = &d.creators;
    let mut out = String::with_capacity(c.len() * 48 + 128);
    out.push_str("creator,followers,entry_day,active,clips,opens,payers,commission_settled,subsidies,earnings\n");
    for i in 0..c.len() {
        let _ = writeln!(
            out,
            "{i},{},{},{},{},{},{},{},{},{}",
            c.followers[i].round() as i64,
            c.entry_day[i],
            c.active[i] as u8,
            c.clips[i],
            c.opens[i],
            c.payers[i],
            format_rmb(c.settled_fen[i]),
            format_rmb(c.subsidy_fen[i]),
            format_rmb(c.settled_fen[i] + c.subsidy_fen[i])
        );
    }
    out
}

fn plans_csv(s: &Scenario, d: &Detail) -> String {
    let mut out = String::from("plan,title,category,landing,rate,budget,budget_used,gmv,commission,clips,opens,start_day,end_day,budget_out_day\n");
    for (k, p) in d.market.plans.iter().enumerate() {
        let budget = if p.budget_fen == UNLIMITED { "unlimited".to_string() } else { format_rmb(p.budget_fen) };
        let _ = writeln!(
            out,
            "{k},{},{},{},{:.6},{budget},{},{},{},{},{},{},{},{}",
            p.title,
            csv_field(&s.categories[p.category as usize].id),
            p.landing.id(),
            p.rate_ppm as f64 / 1e6,
            format_rmb(p.used_fen),
            format_rmb(p.gmv_fen),
            format_rmb(p.commission_fen),
            p.clips,
            p.opens,
            p.start_day,
            p.end_day,
            p.budget_out_day.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    out
}

/// Cumulative budget used by day for the 10 plans that paid the most commission.
fn plans_daily_csv(s: &Scenario, d: &Detail) -> String {
    let mut order: Vec<usize> = (0..d.market.plans.len()).collect();
    order.sort_by(|a, b| d.market.plans[*b].commission_fen.cmp(&d.market.plans[*a].commission_fen).then(a.cmp(b)));
    order.truncate(10);
    order.retain(|k| d.market.plans[*k].commission_fen > 0);
    let mut used = vec![vec![0i64; s.days as usize]; order.len()];
    for &(day, plan, value) in &d.plan_used {
        if let Some(j) = order.iter().position(|k| *k == plan as usize) {
            for x in &mut used[j][day as usize..] {
                *x = value;
            }
        }
    }
    let mut out = String::from("day,plan,budget_used\n");
    for day in 0..s.days as usize {
        for (row, k) in used.iter().zip(&order) {
            let _ = writeln!(out, "{day},{k},{}", format_rmb(row[day]));
        }
    }
    out
}
