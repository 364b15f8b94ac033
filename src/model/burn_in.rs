//! The burn-in: the market runs `scenario.burn_in_days` days before `start_date` and reports
//! nothing of them, so day 0 opens on a market already running (docs/MODEL.md sec. 4,
//! "Burn-in", and departures).
//!
//! A replication runs an extended scenario that starts `burn_in_days` earlier; the day loop is
//! the same on every day, so rules, launches, learning and churn run on their calendar dates in
//! the burn-in as after it. When the reported days begin, the books open: every flow, count and
//! table kept so far is cleared, and what the market *is* (live clips, cohorts, audiences,
//! beliefs, budgets used, commission waiting to settle) carries over. At the end the tables keep
//! only what lived in the reported days, with days counted from `start_date`.

use crate::base::money::Fen;
use crate::model::operators::Market;
use crate::model::population::Creators;
use crate::scenario::Scenario;

/// The scenario a replication runs: `burn_in_days` more days, starting that much earlier, with
/// the supply scaled back so that on `start_date` it is still `feed_supply` (its growth runs
/// from the first burn-in day). Its own `burn_in_days` is 0: it is an ordinary scenario.
pub fn extend(s: &Scenario) -> Scenario {
    let b = s.burn_in_days;
    let mut x = s.clone();
    x.burn_in_days = 0;
    if b > 0 {
        x.start = s.start.add_days(-(b as i32));
        x.days = s.days + b;
        x.platform.feed_supply = s.platform.feed_supply / (1.0 + s.platform.feed_growth).powf(b as f64 / 365.0);
        // Own plans keep their calendar dates: in the extended run's days they come `b` later.
        for p in &mut x.plans {
            p.start_day += b as i32;
            p.end_day += b as i32;
        }
    }
    x
}

/// What the books hold when the reported days begin.
pub struct Opening {
    /// The first reported day, in the extended run's days.
    pub day: u32,
    /// Commission accrued in the burn-in and still waiting to settle.
    pub unsettled_fen: Fen,
    /// Creators active on the first reported day (later entrants are all reported).
    creators_active: Vec<bool>,
    /// Plans in the square on the first reported day (later plans are all reported).
    plans_open: Vec<bool>,
}

impl Opening {
    /// Opens the books on `day`: clears the creators' and plans' running totals, keeping their
    /// state (beliefs, trailing earnings, budgets used, review counters).
    pub fn open(day: u32, creators: &mut Creators, market: &mut Market, unsettled_fen: Fen) -> Opening {
        for v in [&mut creators.settled_fen, &mut creators.subsidy_fen] {
            v.iter_mut().for_each(|x| *x = 0);
        }
        creators.clips.iter_mut().for_each(|x| *x = 0);
        creators.opens.iter_mut().for_each(|x| *x = 0);
        creators.payers.iter_mut().for_each(|x| *x = 0);
        for p in &mut market.plans {
            (p.gmv_fen, p.commission_fen, p.clips, p.opens) = (0, 0, 0, 0);
        }
        Opening {
            day,
            unsettled_fen,
            creators_active: creators.active.clone(),
            plans_open: market.plans.iter().map(|p| p.open).collect(),
        }
    }

    /// Whether creator `i` belongs to the reported market: active on the first reported day,
    /// entered later, or paid in the reported days (the live clips of a creator who churned
    /// late in the burn-in run out their lifetime, and its commission settles).
    fn creator_reported(&self, c: &Creators, i: usize) -> bool {
        self.creators_active.get(i).copied().unwrap_or(true)
            || c.settled_fen[i] > 0
            || c.subsidy_fen[i] > 0
            || c.opens[i] > 0
    }

    /// Keeps the creators and plans of the reported days and counts their days from
    /// `start_date`. A plan is reported if it was in the square on a reported day or its clips
    /// brought money in them; a plan whose budget ran out in the burn-in is not. `plan_used`
    /// (the plans chart's log) is renumbered to match.
    pub fn close(&self, creators: &mut Creators, market: &mut Market, plan_used: Option<&mut Vec<(u32, u32, Fen)>>) {
        let b = self.day;
        let keep: Vec<bool> = (0..creators.len()).map(|i| self.creator_reported(creators, i)).collect();
        keep_creators(creators, &keep);
        for d in &mut creators.entry_day {
            *d = d.saturating_sub(b);
        }
        let n0 = self.plans_open.len();
        let mut new_index = vec![u32::MAX; market.plans.len()];
        let mut kept = Vec::with_capacity(market.plans.len());
        for (k, mut p) in std::mem::take(&mut market.plans).into_iter().enumerate() {
            let out_before = p.budget_out_day.is_some_and(|d| d < b);
            let reported = k >= n0 || self.plans_open[k] || (!out_before && (p.gmv_fen > 0 || p.commission_fen > 0));
            if !reported {
                continue;
            }
            new_index[k] = kept.len() as u32;
            p.start_day -= b as i32;
            p.end_day -= b as i32;
            p.budget_out_day = p.budget_out_day.map(|d| d.saturating_sub(b));
            kept.push(p);
        }
        market.plans = kept;
        for t in &mut market.titles {
            t.launch_day -= b as i32;
        }
        if let Some(log) = plan_used {
            for e in log.iter_mut() {
                (e.0, e.1) = (e.0 - b, new_index[e.1 as usize]);
            }
            log.retain(|e| e.1 != u32::MAX);
        }
    }
}

/// Keeps the creators marked in `keep`, in order. Every field is named, so a new field of
/// `Creators` cannot be forgotten here.
fn keep_creators(c: &mut Creators, keep: &[bool]) {
    fn by_row<T: Copy>(v: &mut Vec<T>, keep: &[bool], stride: usize) {
        let mut k = 0;
        v.retain(|_| {
            let row = k / stride.max(1);
            k += 1;
            keep[row]
        });
    }
    let Creators {
        ncat,
        followers,
        quality,
        lambda,
        reservation_rmb,
        image_text,
        ln_affinity,
        learned_rmb,
        active,
        entry_day,
        trailing_fen,
        clips,
        opens,
        payers,
        settled_fen,
        subsidy_fen,
    } = c;
    by_row(ln_affinity, keep, *ncat);
    by_row(learned_rmb, keep, *ncat);
    by_row(followers, keep, 1);
    by_row(quality, keep, 1);
    by_row(lambda, keep, 1);
    by_row(reservation_rmb, keep, 1);
    by_row(image_text, keep, 1);
    by_row(active, keep, 1);
    by_row(entry_day, keep, 1);
    by_row(trailing_fen, keep, 1);
    by_row(clips, keep, 1);
    by_row(opens, keep, 1);
    by_row(payers, keep, 1);
    by_row(settled_fen, keep, 1);
    by_row(subsidy_fen, keep, 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extended_scenario_reaches_start_date_with_the_given_supply() {
        let s = crate::scenario::parse("[scenario]\ndays = 30\nburn_in_days = 73\n", "t").unwrap();
        let x = extend(&s);
        assert_eq!((x.days, x.burn_in_days), (103, 0));
        assert_eq!(x.date(73), s.date(0));
        let on_start = crate::model::feed::supply(&x, 73);
        assert!((on_start - s.platform.feed_supply).abs() < 1e-3 * s.platform.feed_supply);
    }

    #[test]
    fn creators_are_kept_row_by_row() {
        let mut c = Creators { ncat: 2, ..Default::default() };
        for i in 0..3 {
            c.followers.push(i as f32);
            c.learned_rmb.extend([i as f32, 10.0 + i as f32]);
            c.ln_affinity.extend([0.0, 0.0]);
            for v in [&mut c.quality, &mut c.lambda, &mut c.reservation_rmb] {
                v.push(0.0);
            }
            c.image_text.push(false);
            c.active.push(i != 1);
            c.entry_day.push(i);
            for v in [&mut c.trailing_fen, &mut c.settled_fen, &mut c.subsidy_fen] {
                v.push(0);
            }
            c.clips.push(i);
            c.opens.push(0);
            c.payers.push(0);
        }
        keep_creators(&mut c, &[true, false, true]);
        assert_eq!(c.followers, vec![0.0, 2.0]);
        assert_eq!(c.learned_rmb, vec![0.0, 10.0, 2.0, 12.0]);
        assert_eq!(c.clips, vec![0, 2]);
    }
}
