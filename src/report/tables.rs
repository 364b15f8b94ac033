//! The per-creator and per-plan tables of replication 0 (creators.csv, plans.csv,
//! plans_daily.csv), rendered as soon as the replication ends so its state can be dropped.

use crate::base::money::format_rmb;
use crate::model::metrics::Detail;
use crate::model::operators::{NOT_OWN, UNLIMITED};
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

/// The order of plans in plans.csv: the generated market's plans first, in launch order, then
/// the own plans (so the generated rows are the same with and without own plans), with the
/// number each is shown under; and the number each title is shown under (generated titles by
/// their launch count, own titles after them).
fn display_order(d: &Detail) -> (Vec<usize>, Vec<u32>, Vec<u64>) {
    let m = &d.market;
    let own = |k: usize| m.titles[m.plans[k].title as usize].own != NOT_OWN;
    let mut order: Vec<usize> = (0..m.plans.len()).filter(|k| !own(*k)).collect();
    order.extend((0..m.plans.len()).filter(|k| own(*k)));
    let mut shown = vec![0u32; m.plans.len()];
    for (i, k) in order.iter().enumerate() {
        shown[*k] = i as u32;
    }
    let title_ids =
        m.titles.iter().map(|t| if t.own == NOT_OWN { t.stream } else { m.generated + t.own as u64 }).collect();
    (order, shown, title_ids)
}

fn plans_csv(s: &Scenario, d: &Detail) -> String {
    let mut out = String::from("plan,title,category,landing,rate,budget,budget_used,gmv,commission,clips,opens,start_day,end_day,budget_out_day,operator_net,start_date,end_date,closed,own_plan\n");
    let (order, shown, title_ids) = display_order(d);
    for &k in &order {
        let p = &d.market.plans[k];
        let budget = if p.budget_fen == UNLIMITED { "unlimited".to_string() } else { format_rmb(p.budget_fen) };
        let own = d.market.titles[p.title as usize].own;
        let own_name = s.plans.get(own as usize).map(|o| csv_field(&o.name)).unwrap_or_default();
        let closed = match (p.budget_out_day, p.relaunched, p.open) {
            (Some(_), true, _) => "budget_relaunched",
            (Some(_), false, _) => "budget",
            (None, _, false) => "end_day",
            (None, _, true) => "open",
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{:.6},{budget},{},{},{},{},{},{},{},{},{},{},{},{closed},{own_name}",
            shown[k],
            title_ids[p.title as usize],
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
            p.budget_out_day.map(|d| d.to_string()).unwrap_or_default(),
            format_rmb(p.net_fen),
            s.start.add_days(p.start_day),
            s.start.add_days(p.end_day),
        );
    }
    out
}

/// Cumulative budget used by day for the 10 plans that paid the most commission.
fn plans_daily_csv(s: &Scenario, d: &Detail) -> String {
    let shown = display_order(d).1;
    let mut order: Vec<usize> = (0..d.market.plans.len()).collect();
    order.sort_by(|a, b| {
        d.market.plans[*b].commission_fen.cmp(&d.market.plans[*a].commission_fen).then(shown[*a].cmp(&shown[*b]))
    });
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
            let _ = writeln!(out, "{day},{},{}", shown[*k], format_rmb(row[day]));
        }
    }
    out
}
