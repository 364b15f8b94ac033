//! Creators as a struct of arrays: their draws, learned beliefs, earnings, churn and entry.
//!
//! Different phases touch different fields (plan choice reads beliefs and affinity, settlement
//! writes earnings), so each field is its own vector and a phase streams only what it needs.

use crate::base::money::Fen;
use crate::base::rng::{self, Kind};
use crate::scenario::Scenario;
use rand::Rng;
use rayon::prelude::*;

/// All creators ever active in a replication; index = creator id.
#[derive(Clone, Default)]
pub struct Creators {
    /// Categories per creator, the stride of `ln_affinity` and `learned_rmb`.
    pub ncat: usize,
    pub followers: Vec<f32>,
    pub quality: Vec<f32>,
    /// Posting attempts a day (lambda_i).
    pub lambda: Vec<f32>,
    /// Outside option of a clip, RMB (w_i).
    pub reservation_rmb: Vec<f32>,
    pub image_text: Vec<bool>,
    /// `ln a_i[c]`, row-major by creator.
    pub ln_affinity: Vec<f32>,
    /// Learned net revenue per clip `N_i[c]`, RMB, row-major by creator.
    pub learned_rmb: Vec<f32>,
    pub active: Vec<bool>,
    pub entry_day: Vec<u32>,
    /// Earnings (settled commission + subsidies) of the trailing 30 days.
    pub trailing_fen: Vec<Fen>,
    pub clips: Vec<u32>,
    pub opens: Vec<u64>,
    pub payers: Vec<u64>,
    pub settled_fen: Vec<Fen>,
    pub subsidy_fen: Vec<Fen>,
}

impl Creators {
    pub fn len(&self) -> usize {
        self.followers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.followers.is_empty()
    }

    /// Draws creator `id` (its own stream, so the same id gets the same creator in every scenario
    /// that shares the seed) and appends it. `prior_rmb[c]` is the category's prior revenue per clip.
    pub fn push_new(&mut self, s: &Scenario, rep_seed: u64, day: u32, follower_scale: f64, prior_rmb: &[f64]) {
        let id = self.len() as u64;
        let c = &s.creators;
        let mut r = rng::stream(rep_seed, Kind::Population, id, 0);
        self.followers
            .push((rng::lognormal_median(&mut r, c.followers_median, c.followers_sigma) * follower_scale) as f32);
        self.quality.push(rng::beta(&mut r, c.quality_alpha, c.quality_beta) as f32);
        let scale = c.posts_per_day / c.posts_shape;
        self.lambda.push(rng::gamma(&mut r, c.posts_shape, scale) as f32);
        self.reservation_rmb.push(rng::lognormal_median(&mut r, c.reservation_median_rmb, c.reservation_sigma) as f32);
        self.image_text.push(r.random::<f64>() < c.image_text_share);
        // Dirichlet(alpha_c) from normalised gammas.
        let start = self.ln_affinity.len();
        let mut total = 0.0;
        for k in &s.categories {
            let g = rng::gamma(&mut r, k.affinity_alpha, 1.0);
            total += g;
            self.ln_affinity.push(g as f32);
        }
        let total = total.max(f64::MIN_POSITIVE);
        for a in &mut self.ln_affinity[start..] {
            *a = ((*a as f64 / total).max(1e-12)).ln() as f32;
        }
        for p in prior_rmb {
            let noise = rng::lognormal_median(&mut r, 1.0, c.prior_noise_sigma);
            self.learned_rmb.push((p * noise) as f32);
        }
        self.active.push(true);
        self.entry_day.push(day);
        self.trailing_fen.push(0);
        self.clips.push(0);
        self.opens.push(0);
        self.payers.push(0);
        self.settled_fen.push(0);
        self.subsidy_fen.push(0);
    }

    pub fn count_active(&self) -> u32 {
        self.active.iter().filter(|a| **a).count() as u32
    }

    /// Mean trailing 30-day earnings of active creators, RMB (E_bar of MODEL.md sec. 9), from
    /// integer sums so that it does not depend on summation order.
    pub fn mean_trailing_rmb(&self) -> f64 {
        let (mut sum, mut n) = (0i128, 0u64);
        for (t, a) in self.trailing_fen.iter().zip(&self.active) {
            if *a {
                sum += *t as i128;
                n += 1;
            }
        }
        if n == 0 {
            0.0
        } else {
            sum as f64 / n as f64 / 100.0
        }
    }

    /// Learning: `N_i[c] <- (1 - eta) N_i[c] + eta * observed` once a clip's window has closed.
    pub fn learn(&mut self, creator: u32, cat: usize, observed_rmb: f64, eta: f64) {
        let k = creator as usize * self.ncat + cat;
        let n = &mut self.learned_rmb[k];
        *n = ((1.0 - eta) * *n as f64 + eta * observed_rmb) as f32;
    }

    /// Churn of one day (MODEL.md sec. 9). During the warm-up only the base hazard applies;
    /// after it, a creator earning below `churn_ratio * 30 * lambda * w` also faces `h_churn`.
    pub fn churn(&mut self, s: &Scenario, rep_seed: u64, day: u32) -> u32 {
        let c = &s.creators;
        let after_warmup = day >= c.warmup_days;
        let churn = rng::Streams::new(rep_seed, Kind::Churn).on(day);
        let (lambda, reservation, trailing) = (&self.lambda, &self.reservation_rmb, &self.trailing_fen);
        // Each creator draws from its own stream, so creators can be visited in parallel.
        self.active
            .par_iter_mut()
            .enumerate()
            .map(|(i, active)| {
                if !*active {
                    return 0;
                }
                let mut h = c.base_hazard;
                if after_warmup {
                    let floor_rmb = c.churn_ratio * 30.0 * lambda[i] as f64 * reservation[i] as f64;
                    if (trailing[i] as f64 / 100.0) < floor_rmb {
                        h += c.churn_hazard;
                    }
                }
                if h > 0.0 && churn.of(i as u64).random::<f64>() < h {
                    *active = false;
                    return 1;
                }
                0
            })
            .sum()
    }

    /// How many creators enter today (MODEL.md sec. 9): during the warm-up entry only replaces
    /// the base hazard; after it, it answers the mean trailing earnings against `entry_ref_rmb`.
    pub fn entrants(&self, s: &Scenario, rep_seed: u64, day: u32) -> u64 {
        let c = &s.creators;
        let mut r = rng::stream(rep_seed, Kind::Entry, 0, day);
        let active = self.count_active() as f64;
        if day < c.warmup_days {
            return rng::poisson(&mut r, c.base_hazard * active);
        }
        let lambda_entry = c.entry_rate * s.creators.count as f64;
        let ratio = self.mean_trailing_rmb() / c.entry_ref_rmb;
        let n = rng::poisson(&mut r, lambda_entry * ratio.max(0.0).powf(c.entry_elasticity));
        n.min((c.entry_cap_factor * lambda_entry).floor() as u64)
    }
}

/// Gini coefficient and top-1% / top-10% shares of a list of earnings (fen, any order).
pub fn concentration(earnings: &mut [Fen]) -> (f64, f64, f64) {
    let n = earnings.len();
    let total: i128 = earnings.iter().map(|x| *x as i128).sum();
    if n == 0 || total <= 0 {
        return (0.0, 0.0, 0.0);
    }
    earnings.sort_unstable();
    // G = sum_i (2i - n - 1) x_i / (n * sum x), i = 1..n, x ascending.
    let mut acc: i128 = 0;
    for (i, x) in earnings.iter().enumerate() {
        acc += (2 * (i as i128 + 1) - n as i128 - 1) * *x as i128;
    }
    let gini = acc as f64 / (n as f64 * total as f64);
    let top = |share: f64| {
        let k = ((n as f64 * share).ceil() as usize).max(1);
        earnings[n - k..].iter().map(|x| *x as i128).sum::<i128>() as f64 / total as f64
    };
    (gini, top(0.01), top(0.10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_known_distributions() {
        assert_eq!(concentration(&mut [5, 5, 5, 5]).0, 0.0);
        let (g, t1, t10) = concentration(&mut [0, 0, 0, 100]);
        assert!((g - 0.75).abs() < 1e-12);
        assert_eq!((t1, t10), (1.0, 1.0));
        assert_eq!(concentration(&mut []), (0.0, 0.0, 0.0));
    }
}
