//! A decision taken mid-run: the market runs under one scenario, then under another from a day
//! on (a forecast's decisions from the first day past the observed data).
//!
//! The world keeps what it holds: creators keep their traits, titles their audiences, generated
//! plans their rates and budgets, cohorts and settlement their schedules. From the switch on,
//! every rule the day loop reads from the scenario is the new one (commission ranges of the
//! plans launched from then, the feed, the square, entry, subsidies' rules), and the own plans
//! take their new rate, budget and end date. What shapes the market once, when it is built (the
//! calendar, the categories, the number of creators and titles, the own plans and subsidy
//! programs that exist), must be the same on both sides: [`problems`] names what is not.

use crate::model::operators::Market;
use crate::scenario::Scenario;
use std::fmt::Debug;

/// What differs between `before` and `after` that a switch cannot carry, as (key path, what):
/// empty when `after` can take over from `before` mid-run.
pub fn problems(before: &Scenario, after: &Scenario) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut same = |key: &str, a: &dyn Debug, b: &dyn Debug| {
        let (a, b) = (format!("{a:?}"), format!("{b:?}"));
        if a != b {
            out.push((key.to_string(), format!("is {a} before the switch and {b} after it")));
        }
    };
    same("scenario.start_date", &before.start, &after.start);
    same("scenario.days", &before.days, &after.days);
    same("scenario.burn_in_days", &before.burn_in_days, &after.burn_in_days);
    same("scenario.seed", &before.seed, &after.seed);
    same("creators.count", &before.creators.count, &after.creators.count);
    same("operators.titles", &before.operators.titles, &after.operators.titles);
    let ids = |s: &Scenario| s.categories.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    same("scenario.categories", &ids(before), &ids(after));
    let plans =
        |s: &Scenario| s.plans.iter().map(|p| (p.name.clone(), p.category, p.landing, p.start_day)).collect::<Vec<_>>();
    same("plans (names, categories, landings, start dates)", &plans(before), &plans(after));
    let programs = |s: &Scenario| s.subsidies.iter().map(|p| p.budget_fen).collect::<Vec<_>>();
    same("subsidies (programs and budgets)", &programs(before), &programs(after));
    out
}

/// The own plans as `after` changes them from `before`: each open record of an own plan takes
/// the rate, budget (what it has used stays used) and end day that `after` changes, and keeps
/// what it does not (a steered rate stays where steering took it). A record that has closed
/// stays closed; the relaunch rule then reads `after`.
pub fn revise_own_plans(market: &mut Market, before: &Scenario, after: &Scenario) {
    for plan in market.plans.iter_mut().filter(|p| p.open) {
        let own = market.titles[plan.title as usize].own as usize;
        let (Some(b), Some(a)) = (before.plans.get(own), after.plans.get(own)) else { continue };
        if a.rate_ppm != b.rate_ppm {
            plan.rate_ppm = a.rate_ppm;
        }
        if a.budget_fen != b.budget_fen {
            plan.budget_fen = a.budget_fen.unwrap_or(crate::model::operators::UNLIMITED);
        }
        if a.end_day != b.end_day {
            plan.end_day = a.end_day;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small market with one own plan; `budget` is its `budget_rmb`, `extra` more tables.
    fn scenario(budget: &str, extra: &str) -> Scenario {
        let text = format!(
            "[scenario]\nname = \"t\"\ndays = 20\nburn_in_days = 0\nseed = 3\n[creators]\ncount = 300\n\
             [operators]\ntitles = 12\n{extra}\n[[plans]]\nname = \"mine\"\ncategory = \"short_drama\"\n\
             commission = 0.6\nbudget_rmb = {budget}\n"
        );
        crate::scenario::parse(&text, "t").unwrap()
    }

    #[test]
    fn rules_may_change_and_the_market_s_shape_may_not() {
        let base = scenario("\"unlimited\"", "");
        assert!(
            problems(&base, &scenario("\"unlimited\"", "[categories.short_drama]\ncommission_min = 0.7\n")).is_empty()
        );
        assert!(problems(&base, &scenario("5000", "")).is_empty());
        let mut more = base.clone();
        more.creators.count += 1;
        let p = problems(&base, &more);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "creators.count");
    }

    #[test]
    fn own_plans_take_their_new_rate_budget_and_end() {
        let before = scenario("\"unlimited\"", "");
        let after = scenario("5000", "");
        let mut market = Market::default();
        crate::model::own::place(&mut market, &before, 7);
        let mut after = after;
        after.plans[0].rate_ppm = 700_000;
        revise_own_plans(&mut market, &before, &after);
        let p = market.plans.last().unwrap();
        assert_eq!((p.rate_ppm, p.budget_fen, p.end_day), (700_000, 500_000, after.plans[0].end_day));
    }

    #[test]
    fn a_switch_changes_nothing_before_its_day_and_nothing_at_all_to_the_same_scenario() {
        use crate::model::sim::{run_replication, run_replication_switched};
        let mut base = scenario("\"unlimited\"", "");
        base.burn_in_days = 5;
        let plain = format!("{:?}", run_replication(&base, 0, false).daily);
        assert_eq!(format!("{:?}", run_replication_switched(&base, &base, 8, 0).daily), plain);
        let mut after = base.clone();
        after.plans[0].rate_ppm = 900_000;
        let switched = run_replication_switched(&base, &after, 8, 0).daily;
        let plain = run_replication(&base, 0, false).daily;
        assert_eq!(format!("{:?}", &switched[..8]), format!("{:?}", &plain[..8]), "days before the switch");
        assert_ne!(format!("{:?}", &switched[8..]), format!("{:?}", &plain[8..]), "days from the switch");
    }
}
