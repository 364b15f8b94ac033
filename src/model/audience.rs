//! Audiences: a title's addressable people, how many of today's impressions reach someone new,
//! and how that fresh reach is shared among the title's clips (MODEL.md sec. 6).

use crate::base::rng::{self, Kind};
use crate::model::feed::{Clip, PIECE};
use crate::model::operators::Title;
use rand::Rng;
use rayon::prelude::*;

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

/// A title's fresh reach today as its clips and paid views share it: `fresh` of `imps`
/// impressions, by systematic rounding from the offset `offset / imps`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Share {
    fresh: u64,
    imps: u64,
    offset: u64,
}

impl Share {
    fn new(fresh: u64, imps: u64, offset: u64) -> Share {
        Share { fresh, imps, offset }
    }

    /// `floor((fresh * before + offset) / imps)`: the fresh views handed out to the first
    /// `before` impressions, exactly (in 64 bits where the product fits).
    #[inline]
    fn upto(&self, before: u64) -> u64 {
        match self.fresh.checked_mul(before).and_then(|p| p.checked_add(self.offset)) {
            Some(x) => x / self.imps,
            None => ((self.fresh as u128 * before as u128 + self.offset as u128) / self.imps as u128) as u64,
        }
    }

    /// The fresh views of a source with `imps` impressions after `before` of the title's, and
    /// `before` moved past them.
    #[inline]
    fn hand_out(&self, before: &mut u64, imps: u64) -> u64 {
        if imps == 0 || self.fresh == 0 {
            *before += imps;
            return 0;
        }
        let from = self.upto(*before);
        *before += imps;
        let fresh = self.upto(*before) - from;
        debug_assert!(fresh <= imps);
        fresh
    }
}

/// Step 6 of the day. `by_piece` holds the clips' impressions by title for each [`PIECE`] of the
/// clips (from [`crate::model::feed::serve`]) and is turned here into the counts before each
/// piece. `shares` is scratch.
pub fn reach(
    titles: &mut [Title],
    clips: &mut [Clip],
    paid: &mut [Paid],
    rep_seed: u64,
    day: u32,
    by_piece: &mut [Vec<u64>],
    shares: &mut Vec<Share>,
) -> u64 {
    let nt = titles.len();
    // `run` ends as the clips' impressions by title; then the paid views follow them.
    let mut run = vec![0u64; nt];
    for table in by_piece.iter_mut() {
        for (r, x) in run.iter_mut().zip(table.iter_mut()) {
            let n = *x;
            *x = *r;
            *r += n;
        }
    }
    let mut imps_by_title = run.clone();
    for p in paid.iter() {
        imps_by_title[p.title as usize] += p.imps;
    }
    shares.clear();
    shares.resize(nt, Share::default());
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
        shares[k] = Share::new(f, i, r.random_range(0..i));
    }
    // Fresh reach is shared in proportion to impressions by systematic rounding per title: the
    // first `C` of a title's impressions (clips in order, then paid views) hold
    // `floor((f C + U) / I)` of its `f` fresh views, `U` uniform on 0..I. So the title's clips and
    // paid views hold exactly `f`, none more than its impressions, each its share `f imps / I`
    // in expectation. Integers, so each piece of the clips starts from the counts before it,
    // summed by the feed, and the pieces run in parallel.
    let shares: &[Share] = shares;
    clips.par_chunks_mut(PIECE).zip(by_piece.par_iter_mut()).for_each(|(cs, table)| {
        for c in cs {
            c.fresh = shares[c.title as usize].hand_out(&mut table[c.title as usize], c.imps as u64) as u32;
        }
    });
    for p in paid.iter_mut() {
        p.fresh = shares[p.title as usize].hand_out(&mut run[p.title as usize], p.imps);
    }
    total_fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fresh views of sources with `imps` impressions each under offset `offset`, in order.
    fn handed(fresh: u64, imps: &[u64], offset: u64) -> Vec<u64> {
        let sh = Share::new(fresh, imps.iter().sum(), offset);
        let mut before = 0;
        imps.iter().map(|&i| sh.hand_out(&mut before, i)).collect()
    }

    /// Over every offset, each source gets exactly its share `f imps / I` on average, never more
    /// than its impressions, and the sources together exactly `f`.
    #[test]
    fn the_hand_out_is_exact_and_unbiased() {
        let cases: &[(u64, &[u64])] = &[
            (0, &[3, 4]),
            (7, &[7]),
            (5, &[3, 0, 9, 1, 4]),
            (17, &[3, 0, 9, 1, 4]),
            (1, &[1, 1, 1, 1, 1, 1, 1]),
            (40, &[13, 2, 0, 0, 25, 1, 6]),
        ];
        for &(f, imps) in cases {
            let total: u64 = imps.iter().sum();
            let mut sum = vec![0; imps.len()];
            for offset in 0..total {
                let got = handed(f, imps, offset);
                assert_eq!(got.iter().sum::<u64>(), f, "{f} of {imps:?} at {offset}");
                for (k, (g, i)) in got.iter().zip(imps).enumerate() {
                    assert!(g <= i, "{f} of {imps:?} at {offset}: source {k}");
                    sum[k] += g;
                }
            }
            for (k, i) in imps.iter().enumerate() {
                assert_eq!(sum[k], f * i, "{f} of {imps:?}: source {k} over all offsets");
            }
        }
    }

    /// The float running sums the hand-out replaced (kept as the reference): `u` the rounding's
    /// uniform, the running share `f / I` per impression.
    fn old_handed(fresh: u64, imps: &[u64], u: f64) -> Vec<u64> {
        let share = fresh as f64 / imps.iter().sum::<u64>() as f64;
        let mut run = 0.0;
        imps.iter()
            .map(|&i| {
                let before = (run + u) as u64;
                run += share * i as f64;
                ((run + u) as u64).saturating_sub(before).min(i)
            })
            .collect()
    }

    /// The same uniform gives the same hand-out as the float version but where the float sums'
    /// rounding crosses a whole impression: rarely (none here in 20 000 titles).
    #[test]
    fn the_hand_out_matches_the_float_rounding_it_replaced() {
        let mut r = rng::stream(5, Kind::Reach, 0, 0);
        let (mut titles, mut differ) = (0, 0);
        for _ in 0..20_000 {
            let n = r.random_range(1..40);
            let imps: Vec<u64> = (0..n).map(|_| r.random_range(0..2_000)).collect();
            let total: u64 = imps.iter().sum();
            if total == 0 {
                continue;
            }
            let f = r.random_range(0..=total);
            let u: f64 = r.random();
            titles += 1;
            differ += (handed(f, &imps, (u * total as f64) as u64) != old_handed(f, &imps, u)) as u32;
        }
        eprintln!("hand-out: {differ} of {titles} titles differ from the float version");
        assert!(differ * 1000 <= titles, "{differ} of {titles}");
    }

    /// The pieces that run in parallel hand out what one pass in clip order does.
    #[test]
    fn the_pieces_hand_out_what_one_pass_does() {
        use crate::model::operators::NOT_OWN;
        use crate::scenario::{FormatKind, Landing};
        let ntitles = 3;
        let mut titles: Vec<Title> = (0..ntitles)
            .map(|k| Title {
                category: 0,
                landing: Landing::Douyin,
                audience: 5_000_000,
                reached: 0,
                quality: 1.0,
                launch_day: 0,
                ad_credit_fen: 0,
                stream: k,
                own: NOT_OWN,
            })
            .collect();
        let n = 2 * PIECE as u64 + 777;
        let mut r = rng::stream(6, Kind::Reach, 0, 0);
        let mut clips: Vec<Clip> = (0..n)
            .map(|id| Clip {
                id,
                record: 0,
                creator: 0,
                plan: 0,
                title: r.random_range(0..ntitles as u32),
                category: 0,
                format: FormatKind::Video,
                landing: Landing::Douyin,
                posted_day: 0,
                tier: 0,
                days_in_tier: 0,
                quality: 1.0,
                tier_imps: 0,
                tier_engagements: 0,
                imps: r.random_range(0..30),
                fresh: 0,
                expired: false,
            })
            .collect();
        let mut by_piece = vec![vec![0; ntitles as usize]; clips.len().div_ceil(PIECE)];
        for (k, c) in clips.iter().enumerate() {
            by_piece[k / PIECE][c.title as usize] += c.imps as u64;
        }
        let mut shares = Vec::new();
        let fresh = reach(&mut titles, &mut clips, &mut [], 9, 3, &mut by_piece, &mut shares);
        assert!(fresh > 0);
        let mut before = vec![0; ntitles as usize];
        for (k, c) in clips.iter().enumerate() {
            let t = c.title as usize;
            assert_eq!(c.fresh as u64, shares[t].hand_out(&mut before[t], c.imps as u64), "clip {k}");
        }
        assert_eq!(clips.iter().map(|c| c.fresh as u64).sum::<u64>(), fresh);
    }

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
