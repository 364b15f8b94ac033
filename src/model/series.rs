//! Named daily series of one replication (`market.gmv`, `category.short_drama.opens`), the
//! vocabulary observed data and forecasts share: one value a day, money in RMB, the rest counts.

use crate::model::metrics::{Flow, Flows, RepData};
use crate::scenario::Scenario;

/// Whose flows a series sums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole market: every category and landing.
    Market,
    /// One category, both landings, by id.
    Category(String),
    /// One own plan (`[[plans]]`), by name: its title's flows.
    Plan(String),
}

/// A series name parsed: its scope and the flow it counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesKey {
    pub scope: Scope,
    pub flow: Flow,
}

/// The metric names a series takes: every daily flow but `open_plans`, and `commission` for
/// the commission accrued (what an operator's plan page shows day by day).
pub fn metric_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Flow::ALL.iter().filter(|f| **f != Flow::OpenPlans).map(|f| f.name()).collect();
    v.push("commission");
    v
}

fn flow(name: &str) -> Option<Flow> {
    if name == "commission" {
        return Some(Flow::CommissionAccrued);
    }
    Flow::ALL.iter().copied().find(|f| f.name() == name && *f != Flow::OpenPlans)
}

impl SeriesKey {
    /// Reads `market.<metric>`, `category.<id>.<metric>` or `plans.<name>.<metric>`; the error
    /// says what is expected.
    pub fn parse(name: &str) -> Result<SeriesKey, String> {
        let bad_metric = |m: &str| {
            let names = metric_names();
            let hint =
                crate::scenario::schema::closest(m, names.iter().copied()).map(|s| format!(" (did you mean `{s}`?)"));
            format!("unknown metric `{m}`{}; one of {}", hint.unwrap_or_default(), names.join(", "))
        };
        let (scope, metric) = if let Some(m) = name.strip_prefix("market.") {
            (Scope::Market, m)
        } else if let Some(rest) = name.strip_prefix("category.") {
            let (id, m) = rest.rsplit_once('.').ok_or_else(|| format!("`{name}`: expected category.<id>.<metric>"))?;
            (Scope::Category(id.to_owned()), m)
        } else if let Some(rest) = name.strip_prefix("plans.") {
            let (id, m) = rest.rsplit_once('.').ok_or_else(|| format!("`{name}`: expected plans.<name>.<metric>"))?;
            (Scope::Plan(id.to_owned()), m)
        } else {
            return Err(format!(
                "`{name}` is not a series name: expected market.<metric>, category.<id>.<metric> or plans.<name>.<metric>"
            ));
        };
        let flow = flow(metric).ok_or_else(|| bad_metric(metric))?;
        Ok(SeriesKey { scope, flow })
    }

    /// Checks that the scope exists in `s`, so a run never starts on a series it cannot make.
    pub fn check(&self, s: &Scenario) -> Result<(), String> {
        match &self.scope {
            Scope::Market => Ok(()),
            Scope::Category(id) => match s.category_index(id) {
                Some(_) => Ok(()),
                None => Err(not_in("category", id, s.categories.iter().map(|c| c.id.as_str()))),
            },
            Scope::Plan(name) => match s.own_plan_index(name) {
                Some(_) => Ok(()),
                None => Err(not_in("own plan", name, s.plans.iter().map(|p| p.name.as_str()))),
            },
        }
    }
}

/// "no <what> `name` in the scenario (did you mean ..?); it has a, b".
fn not_in<'a>(what: &str, name: &str, have: impl Iterator<Item = &'a str>) -> String {
    let have: Vec<&str> = have.collect();
    let hint = crate::scenario::schema::closest(name, have.iter().copied()).map(|s| format!(" (did you mean `{s}`?)"));
    let list = if have.is_empty() { "none".to_owned() } else { have.join(", ") };
    format!("no {what} `{name}` in the scenario{}; it has {list}", hint.unwrap_or_default())
}

/// The daily values of `key` in one replication, day 0 first, in reporting units (RMB, counts).
/// The scope must have passed [`SeriesKey::check`] against the replication's scenario.
pub fn daily(s: &Scenario, d: &RepData, key: &SeriesKey) -> Vec<f64> {
    let scale = if key.flow.is_money() { 100.0 } else { 1.0 };
    if let Scope::Plan(name) = &key.scope {
        let own = d.own_plans.iter().find(|p| p.name == *name);
        return match own {
            Some(p) => p.daily.iter().map(|f| f.get(key.flow) as f64 / scale).collect(),
            None => vec![0.0; d.daily.len()],
        };
    }
    let cells: Vec<usize> = match &key.scope {
        Scope::Market => (0..2 * s.categories.len()).collect(),
        Scope::Category(id) => match s.category_index(id) {
            Some(c) => vec![2 * c, 2 * c + 1],
            None => vec![],
        },
        Scope::Plan(_) => unreachable!("own plans are read above"),
    };
    d.daily
        .iter()
        .map(|day| {
            let mut t = Flows::default();
            for c in &cells {
                t.absorb(&day[*c]);
            }
            t.get(key.flow) as f64 / scale
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_refuses_others() {
        assert_eq!(SeriesKey::parse("market.gmv").unwrap(), SeriesKey { scope: Scope::Market, flow: Flow::Gmv });
        let k = SeriesKey::parse("category.short_drama.commission").unwrap();
        assert_eq!(k, SeriesKey { scope: Scope::Category("short_drama".into()), flow: Flow::CommissionAccrued });
        assert_eq!(SeriesKey::parse("plans.我的剧.clips").unwrap().scope, Scope::Plan("我的剧".into()));
        assert!(SeriesKey::parse("market.gvm").unwrap_err().contains("did you mean `gmv`"));
        assert!(SeriesKey::parse("gmv").is_err());
        assert!(SeriesKey::parse("market.open_plans").is_err());
    }

    #[test]
    fn sums_cells_of_a_scope() {
        let s = crate::scenario::parse("[creators]\ncount = 10\n", "t").unwrap();
        let nc = s.categories.len();
        let mut day = vec![Flows::default(); 2 * nc];
        day[0].add(Flow::Gmv, 150);
        day[1].add(Flow::Gmv, 50);
        day[2].add(Flow::Gmv, 1000);
        let d = RepData {
            replication: 0,
            seed: 0,
            metrics: vec![],
            daily: vec![day],
            active_by_day: vec![0],
            detail_files: vec![],
            episode: Default::default(),
            own_plans: vec![],
        };
        let id = s.categories[0].id.clone();
        assert_eq!(daily(&s, &d, &SeriesKey::parse("market.gmv").unwrap()), vec![12.0]);
        assert_eq!(daily(&s, &d, &SeriesKey::parse(&format!("category.{id}.gmv")).unwrap()), vec![2.0]);
        let mut own = Flows::default();
        own.add(Flow::Clips, 7);
        let d = RepData {
            own_plans: vec![crate::model::own::OwnPlanData {
                name: "我的剧".into(),
                metrics: vec![],
                daily: vec![own],
            }],
            ..d
        };
        assert_eq!(daily(&s, &d, &SeriesKey::parse("plans.我的剧.clips").unwrap()), vec![7.0]);
        let unknown = SeriesKey::parse("plans.他的剧.clips").unwrap().check(&s).unwrap_err();
        assert!(unknown.contains("no own plan `他的剧`"), "{unknown}");
    }
}
