//! The plan square and plan choice: what a creator sees and which (plan, format) it posts on.
//!
//! Each day the square is frozen into a [`SquareView`] (weights, shown EPC, expected subsidies);
//! creators then choose in parallel against that read-only view, each from its own stream, so the
//! choices do not depend on the order in which threads visit creators (MODEL.md sec. 3).

use crate::base::money::PPM;
use crate::base::rng::{self, Kind};
use crate::model::operators::Market;
use crate::model::population::Creators;
use crate::scenario::{FormatKind, Landing, Sampling, Scenario, SubsidyForm};
use rand::Rng;
use rayon::prelude::*;

/// One posting decision: creator `creator` posts a clip of `format` on plan `plan`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    pub creator: u32,
    pub plan: u32,
    pub format: FormatKind,
    /// The clip's quality noise, LogNormal(0, sigma_q), drawn from the creator's stream.
    pub noise: f32,
}

/// The square as creators see it on one day.
pub struct SquareView {
    /// Plans in the square: open, started, and promotable today.
    pub plans: Vec<u32>,
    /// What a choice reads of each plan, packed in one record (one cache line a sampled plan).
    packed: Vec<Packed>,
    /// Cumulative sampling weights (popularity), same order as `plans`, followed by
    /// [`WINDOW`] infinities so that a search window never runs off the end.
    cum_weight: Vec<f64>,
    /// The sum of the weights (the last cumulative weight before the padding).
    total: f64,
    /// Guide table over `cum_weight`: `guide[b]` is the first position whose cumulative weight
    /// exceeds `b / guide.len()` of the total, so a draw starts its search next to its answer
    /// instead of bisecting thousands of plans (Chen and Asau's indexed search).
    guide: Vec<u32>,
    image_text_allowed: bool,
    /// Per category: expected subsidy per clip that does not depend on the creator, RMB, and the
    /// commission top-up share.
    subsidy_flat_rmb: Vec<f64>,
    subsidy_topup: Vec<f64>,
    /// Per-clip bonus programs open today: (program, categories mask, bonus RMB, first n clips).
    per_clip: Vec<(usize, Vec<bool>, f64, u32)>,
}

/// A plan as the choice reads it: its category, commission rate, and `epc_weight * EPC / tau`,
/// the part of its utility that does not depend on the creator.
#[derive(Clone, Copy, Debug)]
struct Packed {
    category: u16,
    rate: f64,
    epc_u: f64,
}

/// Per category and format, once per choosing creator: an option's utility is
/// `rate * per_rate + plan's epc_u + fixed` (see [`SquareView::choose`]).
#[derive(Clone, Copy, Debug, Default)]
struct Terms {
    per_rate: f64,
    fixed: f64,
}

/// [`Terms`] of one category, for video and for image-text.
type CategoryTerms = [Terms; 2];

/// The guide table of [`SquareView::guide`]: twice as many buckets as positions.
fn guide_table(cum_weight: &[f64]) -> Vec<u32> {
    let total = cum_weight.last().copied().unwrap_or(0.0);
    let m = 2 * cum_weight.len();
    (0..m).map(|b| cum_weight.partition_point(|w| *w <= b as f64 * total / m as f64) as u32).collect()
}

/// Cumulative weights a draw compares at once, from its guide's start: with two buckets a
/// position the answer is nearly always among them, found by counting rather than by a loop
/// whose exit the processor cannot predict.
const WINDOW: usize = 4;

/// The guide table and total of `cum_weight`, which is then padded for [`SquareView::locate`].
fn index_weights(cum_weight: &mut Vec<f64>) -> (Vec<u32>, f64) {
    let guide = guide_table(cum_weight);
    let total = cum_weight.last().copied().unwrap_or(0.0);
    cum_weight.extend([f64::INFINITY; WINDOW]);
    (guide, total)
}

/// State the square keeps across days: the category means behind priors and subsidy estimates.
#[derive(Clone)]
pub struct SquareStats {
    /// Mean net revenue per clip by category, RMB (the prior of EPC and of new creators).
    pub mean_revenue_rmb: Vec<f64>,
    /// Mean opens per clip by category (for the per-open subsidy estimate).
    pub mean_opens: Vec<f64>,
}

impl SquareView {
    pub fn build(s: &Scenario, market: &Market, stats: &SquareStats, subsidy_left: &[i64], day: u32) -> SquareView {
        let date = s.date(day);
        let jump = date >= s.platform.jump_to_wechat_from;
        let sq = &s.square;
        let mut v = SquareView {
            plans: Vec::new(),
            packed: Vec::new(),
            cum_weight: Vec::new(),
            total: 0.0,
            guide: Vec::new(),
            image_text_allowed: date >= s.platform.image_text_from,
            subsidy_flat_rmb: vec![0.0; s.categories.len()],
            subsidy_topup: vec![0.0; s.categories.len()],
            per_clip: Vec::new(),
        };
        let mut total = 0.0;
        for (id, p) in market.plans.iter().enumerate() {
            if !p.open || p.start_day > day as i32 || (p.landing == Landing::Wechat && !jump) {
                continue;
            }
            let rate = p.rate_ppm as f64 / PPM as f64;
            let clips = p.clips_week() as f64;
            let prior = rate * stats.mean_revenue_rmb[p.category as usize];
            let epc = (p.commission_week() as f64 / 100.0 + sq.epc_prior_clips * prior)
                / (clips + sq.epc_prior_clips).max(1e-9);
            let w = match sq.sampling {
                Sampling::Popularity => (clips + 1.0).powf(sq.popularity_exponent),
                Sampling::Uniform => 1.0,
            };
            total += w;
            v.plans.push(id as u32);
            v.packed.push(Packed { category: p.category, rate, epc_u: sq.epc_weight * epc / sq.temperature_rmb });
            v.cum_weight.push(total);
        }
        (v.guide, v.total) = index_weights(&mut v.cum_weight);
        for (k, prog) in s.subsidies.iter().enumerate() {
            if date < prog.from || date > prog.to || subsidy_left[k] <= 0 {
                continue;
            }
            match prog.form {
                SubsidyForm::CommissionTopup => {
                    for (c, on) in prog.categories.iter().enumerate() {
                        if *on {
                            v.subsidy_topup[c] += prog.topup_ppm as f64 / PPM as f64;
                        }
                    }
                }
                SubsidyForm::PerOpen => {
                    for (c, on) in prog.categories.iter().enumerate() {
                        if *on {
                            v.subsidy_flat_rmb[c] += prog.per_open_fen as f64 / 100.0 * stats.mean_opens[c];
                        }
                    }
                }
                SubsidyForm::PerClip => {
                    v.per_clip.push((k, prog.categories.clone(), prog.per_clip_fen as f64 / 100.0, prog.first_clips))
                }
            }
        }
        v
    }

    /// Step 4 of the day: every active creator's attempts and choices, in creator order, and the
    /// number of attempts made (posted or not). `program_clips[i * nprog + k]` counts creator i's
    /// clips in subsidy program k.
    pub fn choose_all(
        &self,
        s: &Scenario,
        creators: &Creators,
        program_clips: &[u32],
        rep_seed: u64,
        day: u32,
    ) -> (Vec<Choice>, u64) {
        if self.plans.is_empty() {
            return (Vec::new(), 0);
        }
        const CHUNK: usize = 2048;
        let n = creators.len();
        let chunks: Vec<(Vec<Choice>, u64)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut out = Vec::new();
                let mut attempts = 0;
                let mut scratch = Vec::with_capacity(s.square.sample_size);
                let mut options = Vec::with_capacity(2 * s.square.sample_size);
                let mut terms = Vec::with_capacity(creators.ncat);
                let streams = rng::Streams::new(rep_seed, Kind::Choice);
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    if creators.active[i] {
                        attempts += self.choose(
                            s,
                            creators,
                            program_clips,
                            i,
                            streams,
                            day,
                            &mut scratch,
                            &mut options,
                            &mut terms,
                            &mut out,
                        );
                    }
                }
                (out, attempts)
            })
            .collect();
        let attempts = chunks.iter().map(|c| c.1).sum();
        (chunks.into_iter().flat_map(|c| c.0).collect(), attempts)
    }

    #[allow(clippy::too_many_arguments)]
    fn choose(
        &self,
        s: &Scenario,
        creators: &Creators,
        program_clips: &[u32],
        i: usize,
        streams: rng::Streams,
        day: u32,
        sample: &mut Vec<usize>,
        options: &mut Vec<(usize, FormatKind, f64)>,
        terms: &mut Vec<CategoryTerms>,
        out: &mut Vec<Choice>,
    ) -> u64 {
        let mut r = streams.of(i as u64, day);
        let attempts = rng::poisson(&mut r, creators.lambda[i] as f64);
        if attempts == 0 {
            return 0;
        }
        let sq = &s.square;
        let nc = creators.ncat;
        let tau = sq.temperature_rmb;
        let outside = creators.reservation_rmb[i] as f64 / tau;
        let nprog = s.subsidies.len();
        // An option's utility is `e / tau + ln affinity`, with its expected take in RMB
        //   e = (1 - epc_weight) own + epc_weight EPC + topup own + flat + per_clip - cost,
        //   own = rate * learned * reach:
        // linear in the plan's rate, with coefficients that depend on the creator, the category and
        // the format but not on the plan, so they are found once per creator rather than once per
        // sampled plan. (The same utility in another order of operations: it can differ from the
        // one term at a time in the last bits only.)
        terms.clear();
        for c in 0..nc {
            let mut per_clip = 0.0;
            for (k, cats, bonus, first) in &self.per_clip {
                if cats[c] && program_clips.get(i * nprog + k).copied().unwrap_or(0) < *first {
                    per_clip += bonus;
                }
            }
            let learned = creators.learned_rmb[i * nc + c] as f64;
            let ln_a = creators.ln_affinity[i * nc + c] as f64;
            let share = (1.0 - sq.epc_weight) + self.subsidy_topup[c];
            terms.push([FormatKind::Video, FormatKind::ImageText].map(|f| {
                let fm = &s.formats[f as usize];
                Terms {
                    per_rate: learned * fm.reach * share / tau,
                    fixed: (self.subsidy_flat_rmb[c] + per_clip - fm.cost_rmb) / tau + ln_a,
                }
            }));
        }
        let formats: &[FormatKind] = if self.image_text_allowed && creators.image_text[i] {
            &[FormatKind::Video, FormatKind::ImageText]
        } else {
            &[FormatKind::Video]
        };
        for _ in 0..attempts {
            self.sample(&mut r, sq.sample_size, sample);
            options.clear();
            let mut best = outside;
            for &j in sample.iter() {
                let p = self.packed[j];
                let t = &terms[p.category as usize];
                for &f in formats {
                    let Terms { per_rate, fixed } = t[f as usize];
                    let u = p.rate * per_rate + p.epc_u + fixed;
                    best = best.max(u);
                    options.push((j, f, u));
                }
            }
            // Softmax over the options and the outside option, shifted by the maximum for range.
            let mut total = (outside - best).exp();
            for o in options.iter_mut() {
                o.2 = (o.2 - best).exp();
                total += o.2;
            }
            let mut x = r.random::<f64>() * total;
            for &(j, f, w) in options.iter() {
                if x < w {
                    out.push(Choice {
                        creator: i as u32,
                        plan: self.plans[j],
                        format: f,
                        noise: rng::lognormal_median(&mut r, 1.0, s.feed.quality_sigma) as f32,
                    });
                    break;
                }
                x -= w;
            }
        }
        attempts
    }

    /// The first position whose cumulative weight exceeds `x`: the same answer as bisecting
    /// `cum_weight`, found from the guide table. The guide's start is checked to lie at or before
    /// the answer (the weights only grow), so float rounding at a bucket's edge cannot move it.
    /// `per_weight` is the number of buckets per unit of weight (`guide.len() / total`), computed
    /// once per sample rather than divided by for every draw.
    /// The padding's infinities exceed every `x`, so they change no answer.
    fn locate(&self, x: f64, per_weight: f64) -> usize {
        let m = self.guide.len();
        let b = ((x * per_weight) as usize).min(m - 1);
        let start = self.guide[b.saturating_sub(1)] as usize;
        if start > 0 && self.cum_weight[start - 1] > x {
            return self.cum_weight.partition_point(|w| *w <= x);
        }
        // The weights only grow, so those at most `x` in the window are its first ones.
        let window: &[f64; WINDOW] = self.cum_weight[start..start + WINDOW].try_into().expect("padded");
        let below = window.iter().map(|w| (*w <= x) as usize).sum::<usize>();
        if below < WINDOW {
            return start + below;
        }
        start + WINDOW + self.cum_weight[start + WINDOW..].partition_point(|w| *w <= x)
    }

    /// Draws up to `k` distinct positions into the square, weighted by popularity.
    fn sample(&self, r: &mut rng::Stream, k: usize, out: &mut Vec<usize>) {
        out.clear();
        let n = self.plans.len();
        if k >= n {
            out.extend(0..n);
            return;
        }
        let total = self.total;
        let per_weight = self.guide.len() as f64 / total;
        let mut tries = 0;
        while out.len() < k && tries < 20 * k {
            tries += 1;
            let x = r.random::<f64>() * total;
            let j = self.locate(x, per_weight).min(n - 1);
            if !out.contains(&j) {
                out.push(j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn view(weights: &[f64]) -> SquareView {
        let mut total = 0.0;
        let mut cum_weight: Vec<f64> = weights
            .iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        let (guide, total) = index_weights(&mut cum_weight);
        SquareView {
            plans: (0..weights.len() as u32).collect(),
            packed: Vec::new(),
            cum_weight,
            total,
            guide,
            image_text_allowed: false,
            subsidy_flat_rmb: Vec::new(),
            subsidy_topup: Vec::new(),
            per_clip: Vec::new(),
        }
    }

    proptest! {
        /// The guide table finds exactly what bisection finds, for any weights (popularity makes
        /// them span orders of magnitude) and any point, bucket edges and the total included.
        #[test]
        fn locate_agrees_with_bisection(
            weights in prop::collection::vec(prop_oneof![1e-6..1e-3f64, 0.5..2.0f64, 1e3..1e6f64], 1..300),
            us in prop::collection::vec(0.0..1.0f64, 50),
        ) {
            let v = view(&weights);
            let total = v.total;
            let m = v.guide.len() as f64;
            let cum = &v.cum_weight[..weights.len()];
            let mut xs: Vec<f64> = us.iter().map(|u| u * total).collect();
            xs.extend((0..v.guide.len()).map(|b| b as f64 * total / m));
            xs.extend(cum.iter().copied());
            for x in xs {
                prop_assert_eq!(v.locate(x, m / total), cum.partition_point(|w| *w <= x), "x = {}", x);
            }
        }
    }
}
