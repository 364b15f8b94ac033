//! The feed: live clips in traffic-pool tiers, their demand, crowding under the day's supply,
//! escalation, decay and expiry (MODEL.md sec. 5).

use crate::base::rng::{self, Kind};
use crate::scenario::{FormatKind, Landing, Rationing, Scenario};
use rand::Rng;
use rayon::prelude::*;

/// A live clip. Clips are stored as a vector of structs: every feed pass reads most fields of a
/// clip together, so one cache line a clip beats a dozen separate arrays here. Exactly one: at
/// 80 bytes (today's counts in 64 bits, the first day's follower impressions stored) the
/// 25-day national run's feed serve and ageing took 10% longer, and its peak memory was 7% more.
#[derive(Clone, Debug)]
pub struct Clip {
    /// Unique in the replication; names the clip's random streams.
    pub id: u64,
    /// Slot in [`Records`] where the clip's revenue accumulates until the creator learns from it.
    pub record: u32,
    pub creator: u32,
    pub plan: u32,
    pub title: u32,
    pub category: u16,
    pub format: FormatKind,
    pub landing: Landing,
    pub posted_day: u32,
    pub tier: u8,
    pub days_in_tier: u16,
    pub quality: f32,
    pub tier_imps: u64,
    pub tier_engagements: u64,
    // Today's numbers, overwritten each day; a day's are at most its supply, which validation
    // keeps within 32 bits (`platform.feed_supply`).
    pub imps: u32,
    pub fresh: u32,
    /// Set by [`age`] when the clip leaves the feed tonight.
    pub expired: bool,
}

const _: () = assert!(std::mem::size_of::<Clip>() == 64);

/// Revenue-per-clip accumulators, kept after a clip leaves the feed until its last payer
/// cohort's window closes and the creator learns from it. Slots are reused through a free list,
/// and a slot is zeroed as it is freed, where the learning has just read it: opening one then
/// writes nothing, where four scattered writes (the accumulators, the creator and the category,
/// which now travel with the clip's [`Expired`]) cost the day's posting a cache miss each.
///
/// A slot's two sums sit side by side: the booking adds to both for each event, and in two
/// arrays each add was two cache misses.
#[derive(Clone, Default)]
pub struct Records {
    pub sums: Vec<RecordSum>,
    free: Vec<u32>,
}

/// What one clip's views have made so far: net revenue and opens.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RecordSum {
    pub net_fen: i64,
    pub opens: u64,
}

impl Records {
    pub fn open(&mut self) -> u32 {
        match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.sums.push(RecordSum::default());
                (self.sums.len() - 1) as u32
            }
        }
    }
    pub fn close(&mut self, slot: u32) {
        self.sums[slot as usize] = RecordSum::default();
        self.free.push(slot);
    }
    pub fn live(&self) -> usize {
        self.sums.len() - self.free.len()
    }
}

/// A clip that left the feed tonight: where its revenue accumulated, and whose it was.
#[derive(Clone, Copy, Debug)]
pub struct Expired {
    pub record: u32,
    pub creator: u32,
    pub category: u16,
}

/// The day's supply of promoted impressions ([`crate::scenario::Platform::supply`]).
pub fn supply(s: &Scenario, day: u32) -> f64 {
    s.platform.supply(day)
}

/// Quota of tier `h` today, capped at `tier_cap * S_t` so one viral clip cannot take a small
/// market's whole feed.
fn quota(s: &Scenario, h: usize, supply: f64) -> f64 {
    s.feed.tier_quotas[h].min(s.feed.tier_cap * supply)
}

/// `decay^d` for the days a clip can spend in a tier (it leaves the feed at `lifetime_days`),
/// each computed as the day loop computed it (`powi`), so the powers are the same numbers
/// without an integer power (a library call) per clip a day.
fn decay_powers(s: &Scenario) -> Vec<f64> {
    (0..=s.feed.lifetime_days.min(u16::MAX as u32) + 1).map(|d| s.feed.decay.powi(d as i32)).collect()
}

/// `decay^d` from the table of [`decay_powers`], computed past its end.
#[inline]
fn decay_pow(table: &[f64], decay: f64, d: u16) -> f64 {
    match table.get(d as usize) {
        Some(x) => *x,
        None => decay.powi(d as i32),
    }
}

/// Clips a piece of the feed's last pass and of the audience's hand-out ([`crate::model::audience`]):
/// the impressions by title are summed piece by piece, so that the hand-out can start each piece
/// from the counts before it. Its edges change no result; its table of counts by title (80 KB
/// for 10 000 titles) is small beside its 5 MB of clips.
pub const PIECE: usize = 1 << 16;

/// Step 5 of the day: demand of every live clip, crowding, and integer impressions whose sum
/// never exceeds the supply. Returns the total demand. `demand` is scratch, one number a clip;
/// `by_piece` receives the clips' impressions summed by title (`ntitles` of them) for each
/// [`PIECE`] of the clips: the audience step's input, summed
/// here because every pass over millions of clips costs memory traffic that a second thread does
/// not speed up. `followers`: by creator, for the follower impressions of a clip's first day
/// (read here rather than stored in the clip, which then fits one cache line).
#[allow(clippy::too_many_arguments)]
pub fn serve(
    s: &Scenario,
    clips: &mut [Clip],
    followers: &[f32],
    rep_seed: u64,
    day: u32,
    demand: &mut Vec<f64>,
    ntitles: usize,
    by_piece: &mut Vec<Vec<u64>>,
) -> f64 {
    let supply = supply(s, day);
    let f = &s.feed;
    demand.resize(clips.len(), 0.0);
    let powers = decay_powers(s);
    clips.par_iter().zip(demand.par_iter_mut()).for_each(|(c, d)| {
        let reach = s.formats[c.format as usize].reach;
        *d = quota(s, c.tier as usize, supply) * decay_pow(&powers, f.decay, c.days_in_tier) * reach;
        if c.posted_day == day {
            // As an `f32`, as the clip stored it when it had a field for it.
            let follower_demand = (f.follower_reach * followers[c.creator as usize] as f64) as f32;
            *d += follower_demand as f64 * reach;
        }
    });
    // Sequential sums: a float sum must not depend on how rayon splits the work.
    let total: f64 = demand.iter().sum();
    let ntiers = f.tier_quotas.len();
    let factor: Vec<f64> = if total <= supply || total <= 0.0 {
        vec![1.0; ntiers]
    } else {
        match f.rationing {
            Rationing::Proportional => vec![supply / total; ntiers],
            Rationing::Priority => {
                let mut by_tier = vec![0.0; ntiers];
                for (c, d) in clips.iter().zip(demand.iter()) {
                    by_tier[c.tier as usize] += d;
                }
                let mut left = supply;
                let mut fac = vec![0.0; ntiers];
                for h in (0..ntiers).rev() {
                    if by_tier[h] > 0.0 {
                        let give = by_tier[h].min(left);
                        fac[h] = give / by_tier[h];
                        left -= give;
                    }
                }
                fac
            }
        }
    };
    // Systematic rounding: one uniform draw, cumulative floors. Each clip gets its share up to
    // one impression, unbiased, and the total is at most floor(min(demand, supply) + u) <= supply.
    // Shares are never negative, so the floors only grow and a clip's impressions are its floor
    // less its predecessor's: only the running sum is sequential, and it runs over the scratch
    // array (8 bytes a clip) rather than the clips.
    let u: f64 = rng::stream(rep_seed, Kind::Feed, 0, day).random();
    let cap = supply.floor() as u64;
    if factor.iter().any(|x| *x != factor[0]) {
        clips.par_iter().zip(demand.par_iter_mut()).for_each(|(c, d)| *d *= factor[c.tier as usize]);
    } else if factor[0] != 1.0 {
        demand.par_iter_mut().for_each(|d| *d *= factor[0]);
    }
    let mut run = 0.0f64;
    for d in demand.iter_mut() {
        run += *d;
        *d = run;
    }
    let cum: &[f64] = demand;
    // The sums are never negative, so truncation is their floor: no call to the library's
    // `floor` (outside the x86-64 baseline's instructions) per clip.
    let upto = |i: usize| ((cum[i] + u) as u64).min(cap);
    let nt = ntitles;
    by_piece.resize_with(clips.len().div_ceil(PIECE), Vec::new);
    clips.par_chunks_mut(PIECE).zip(by_piece.par_iter_mut()).enumerate().for_each(|(k, (cs, table))| {
        table.clear();
        table.resize(nt, 0);
        let first = k * PIECE;
        let mut before = if first == 0 { 0 } else { upto(first - 1) };
        for (j, c) in cs.iter_mut().enumerate() {
            let now = upto(first + j);
            // At most the day's supply, which validation keeps within 32 bits.
            let imps = now.saturating_sub(before);
            debug_assert!(imps <= u32::MAX as u64);
            c.imps = imps as u32;
            before = now;
            table[c.title as usize] += c.imps as u64;
        }
    });
    total
}

/// Step 10 of the day: engagements, escalation one tier at most, decay, and expiry. Expired
/// clips leave the vector, keeping the order of the rest, and their records, creators and
/// categories go to `expired` (all the day needs of them: copying whole clips out cost a
/// sequential pass).
pub fn age(s: &Scenario, clips: &mut Vec<Clip>, expired: &mut Vec<Expired>, rep_seed: u64, day: u32) {
    let f = &s.feed;
    let supply_next = supply(s, day + 1);
    let top = f.tier_quotas.len() - 1;
    let powers = decay_powers(s);
    let streams = rng::Streams::new(rep_seed, Kind::Clip).on(day);
    clips.par_iter_mut().for_each(|c| {
        // A clip served nothing today engages no one, and its stream would draw nothing
        // (a binomial of 0 trials takes no number): not seeding it changes no result.
        if c.imps > 0 {
            let mut r = streams.of(c.id);
            let e = (f.engagement_base * c.quality as f64).clamp(0.0, 1.0);
            c.tier_engagements += rng::binomial(&mut r, c.imps as u64, e);
        }
        c.tier_imps += c.imps as u64;
        let h = c.tier as usize;
        if h < top
            && c.tier_imps >= f.min_views.max(1)
            && c.tier_engagements as f64 >= f.thresholds[h] * c.tier_imps as f64
        {
            c.tier += 1;
            c.days_in_tier = 0;
            c.tier_imps = 0;
            c.tier_engagements = 0;
        } else {
            c.days_in_tier = c.days_in_tier.saturating_add(1);
        }
        let age_days = day + 1 - c.posted_day;
        let reach = s.formats[c.format as usize].reach;
        let next = quota(s, c.tier as usize, supply_next) * decay_pow(&powers, f.decay, c.days_in_tier) * reach;
        c.expired = age_days >= f.lifetime_days || next < 1.0;
    });
    clips.retain(|c| {
        if c.expired {
            expired.push(Expired { record: c.record, creator: c.creator, category: c.category });
        }
        !c.expired
    });
}
