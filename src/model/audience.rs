//! Audiences: a title's addressable people, how many of today's impressions reach someone new,
//! and how that fresh reach is shared among the title's clips (MODEL.md sec. 6).

use crate::base::rng::{self, Kind};
use crate::model::feed::Clip;
use crate::model::operators::Title;
use rand::Rng;

/// Paid impressions bought for a title today (MODEL.md sec. 10): no creator, no commission.
#[derive(Clone, Debug)]
pub struct Paid {
    pub title: u32,
    pub imps: u64,
    pub fresh: u64,
}

/// Fresh reach of one title: `f = (A - R) (1 - exp(-I / A))` in expectation, as a binomial draw
/// over the people not yet reached, never more than the impressions themselves.
pub fn fresh_reach(r: &mut rng::Stream, audience: u64, reached: u64, imps: u64) -> u64 {
    if audience == 0 || imps == 0 {
        return 0;
    }
    let p = 1.0 - (-(imps as f64) / audience as f64).exp();
    rng::binomial(r, audience.saturating_sub(reached), p).min(imps)
}

/// Step 6 of the day. `imps_by_title` holds the clips' impressions by title (from
/// [`crate::model::feed::serve`]); the paid ones are added here. `share` is a scratch buffer.
pub fn reach(
    titles: &mut [Title],
    clips: &mut [Clip],
    paid: &mut [Paid],
    rep_seed: u64,
    day: u32,
    imps_by_title: &mut [u64],
    share: &mut Vec<(f64, f64, f64)>,
) -> u64 {
    for p in paid.iter() {
        imps_by_title[p.title as usize] += p.imps;
    }
    // Per title: (fresh / impressions, cumulative share handed out, uniform of the rounding).
    share.clear();
    share.resize(titles.len(), (0.0, 0.0, 0.0));
    let mut total_fresh = 0;
    for (k, t) in titles.iter_mut().enumerate() {
        let i = imps_by_title[k];
        if i == 0 {
            continue;
        }
        let mut r = rng::stream(rep_seed, Kind::Reach, t.stream, day);
        let f = fresh_reach(&mut r, t.audience, t.reached, i);
        t.reached += f;
        total_fresh += f;
        share[k] = (f as f64 / i as f64, 0.0, r.random::<f64>());
    }
    // Fresh reach is shared in proportion to impressions by systematic rounding per title, so
    // the clips' fresh views add up to the title's exactly and none exceeds its impressions.
    // The running shares are never negative, so truncation is their floor (no call to the
    // library's `floor` per clip).
    let mut hand_out = |title: u32, imps: u64| -> u64 {
        let s = &mut share[title as usize];
        let before = (s.1 + s.2) as u64;
        s.1 += s.0 * imps as f64;
        ((s.1 + s.2) as u64).saturating_sub(before).min(imps)
    };
    for c in clips.iter_mut() {
        c.fresh = hand_out(c.title, c.imps);
    }
    for p in paid.iter_mut() {
        p.fresh = hand_out(p.title, p.imps);
    }
    total_fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under constant impressions I a day, the expected reach is R(t) = A (1 - exp(-I t / A)).
    #[test]
    fn reach_follows_the_closed_form() {
        let (a, i, days, reps) = (200_000u64, 20_000u64, 30u32, 200u64);
        let mut mean = vec![0.0; days as usize];
        for rep in 0..reps {
            let mut reached = 0;
            for d in 0..days {
                let mut r = rng::stream(rep, Kind::Reach, 0, d);
                reached += fresh_reach(&mut r, a, reached, i);
                mean[d as usize] += reached as f64 / reps as f64;
            }
        }
        for (d, m) in mean.iter().enumerate() {
            let t = (d + 1) as f64;
            let expect = a as f64 * (1.0 - (-(i as f64) * t / a as f64).exp());
            // The day's draw is binomial with variance below its mean; over `reps` runs the sd of
            // the mean reach is below sqrt(expect * t / reps). Allow 4 sd.
            let tol = 4.0 * (expect * t / reps as f64).sqrt();
            assert!((m - expect).abs() < tol, "day {t}: {m} vs {expect} (tol {tol})");
        }
    }
}
