//! The numbers of ABC-SMC (Beaumont et al. 2009; Toni et al. 2009): the perturbation kernel
//! from twice the weighted covariance of the previous generation (Beaumont et al. 2009, Filippi
//! et al. 2013), proposals drawn from it inside the prior's box, importance weights, weighted
//! quantiles for the adaptive tolerance (Del Moral et al. 2012), and the distance between
//! simulated and observed series. No simulation here: the driver ([`super`]) runs the model.

use crate::base::rng::{self, Kind};
use rand::Rng;

/// Weighted mean and covariance (weights sum to 1) of points `xs` in `d` dimensions.
pub fn weighted_cov(xs: &[Vec<f64>], w: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let d = xs.first().map_or(0, Vec::len);
    let mut mean = vec![0.0; d];
    for (x, wi) in xs.iter().zip(w) {
        for k in 0..d {
            mean[k] += wi * x[k];
        }
    }
    let mut cov = vec![vec![0.0; d]; d];
    for (x, wi) in xs.iter().zip(w) {
        for a in 0..d {
            for b in 0..d {
                cov[a][b] += wi * (x[a] - mean[a]) * (x[b] - mean[b]);
            }
        }
    }
    (mean, cov)
}

/// The lower Cholesky factor of a symmetric matrix, with a small ridge added to the diagonal
/// when the matrix is not positive definite (a generation whose particles lie on a line).
#[allow(clippy::needless_range_loop)] // the triangular recurrences read clearest by index
pub fn cholesky(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = m.len();
    let scale = (0..d).map(|i| m[i][i].abs()).fold(0.0, f64::max).max(1e-300);
    let mut ridge = 0.0;
    loop {
        let mut l = vec![vec![0.0; d]; d];
        let mut ok = true;
        'outer: for i in 0..d {
            for j in 0..=i {
                let mut s = m[i][j] + if i == j { ridge } else { 0.0 };
                for k in 0..j {
                    s -= l[i][k] * l[j][k];
                }
                if i == j {
                    if s <= 0.0 || !s.is_finite() {
                        ok = false;
                        break 'outer;
                    }
                    l[i][i] = s.sqrt();
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        if ok {
            return l;
        }
        ridge = if ridge == 0.0 { scale * 1e-9 } else { ridge * 10.0 };
    }
}

/// The perturbation kernel: a multivariate normal with covariance `2 * cov`.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// Lower Cholesky factor of the kernel's covariance.
    chol: Vec<Vec<f64>>,
}

impl Kernel {
    /// The kernel of Beaumont et al. (2009): twice the weighted covariance of the particles.
    pub fn from_particles(xs: &[Vec<f64>], w: &[f64]) -> Kernel {
        let (_, cov) = weighted_cov(xs, w);
        let twice: Vec<Vec<f64>> = cov.iter().map(|r| r.iter().map(|v| 2.0 * v).collect()).collect();
        Kernel { chol: cholesky(&twice) }
    }

    /// `log K(x | centre)` up to a constant shared by every centre (so it cancels in weights).
    #[allow(clippy::needless_range_loop)]
    pub fn log_density(&self, x: &[f64], centre: &[f64]) -> f64 {
        // Solve L y = x - centre; the exponent is -|y|^2 / 2.
        let d = x.len();
        let mut y = vec![0.0; d];
        for i in 0..d {
            let mut s = x[i] - centre[i];
            for k in 0..i {
                s -= self.chol[i][k] * y[k];
            }
            y[i] = s / self.chol[i][i];
        }
        -0.5 * y.iter().map(|v| v * v).sum::<f64>()
    }

    /// `centre + L z` for standard normal `z` drawn from `r`.
    pub fn perturb<R: Rng + ?Sized>(&self, r: &mut R, centre: &[f64]) -> Vec<f64> {
        let d = centre.len();
        let z: Vec<f64> = (0..d).map(|_| rng::normal(r)).collect();
        (0..d).map(|i| centre[i] + (0..=i).map(|k| self.chol[i][k] * z[k]).sum::<f64>()).collect()
    }
}

/// At most this many kernel draws for one proposal to land inside the prior's box; a proposal
/// that never does is counted as rejected.
pub const MAX_TRIES: u32 = 1000;

/// One proposal: a point in sampler coordinates (uniform prior box `bounds`) and its parent.
/// Generation 0 draws from the prior; later ones pick a parent by weight and perturb it.
/// Drawn from the stream of (seed, generation, index) alone, so it is the same on any thread.
#[allow(clippy::type_complexity)]
pub fn propose(
    seed: u64,
    generation: u32,
    index: u32,
    bounds: &[(f64, f64)],
    prev: Option<(&[Vec<f64>], &[f64], &Kernel)>,
) -> Option<(Vec<f64>, Option<usize>)> {
    let mut r = rng::stream(seed, Kind::Calibrate, index as u64, generation);
    let Some((xs, w, kernel)) = prev else {
        return Some((bounds.iter().map(|(a, b)| a + (b - a) * r.random::<f64>()).collect(), None));
    };
    for _ in 0..MAX_TRIES {
        let j = rng::pick_weighted(&mut r, w);
        let x = kernel.perturb(&mut r, &xs[j]);
        if x.iter().zip(bounds).all(|(v, (a, b))| v >= a && v <= b) {
            return Some((x, Some(j)));
        }
    }
    None
}

/// Importance weights of new particles `xs` (unnormalised in, normalised out): the prior's
/// density (constant in the box) over the mixture of kernels around the previous particles.
pub fn weights(xs: &[Vec<f64>], prev: &[Vec<f64>], prev_w: &[f64], kernel: &Kernel) -> Vec<f64> {
    // In logs, shifted by each particle's largest term, so that a tight kernel cannot underflow.
    let logs: Vec<f64> = xs
        .iter()
        .map(|x| {
            let terms: Vec<f64> = prev.iter().zip(prev_w).map(|(c, w)| w.ln() + kernel.log_density(x, c)).collect();
            let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            -(m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln())
        })
        .collect();
    let m = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let raw: Vec<f64> = logs.iter().map(|l| (l - m).exp()).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|v| v / total).collect()
}

/// The weighted `q`-quantile of `values` (weights need not be normalised): the smallest value
/// whose cumulative weight reaches `q` of the total.
pub fn weighted_quantile(values: &[f64], w: &[f64], q: f64) -> f64 {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|a, b| values[*a].total_cmp(&values[*b]).then(a.cmp(b)));
    let total: f64 = w.iter().sum();
    let mut acc = 0.0;
    for i in &idx {
        acc += w[*i];
        if acc >= q * total {
            return values[*i];
        }
    }
    idx.last().map_or(f64::NAN, |i| values[*i])
}

/// Effective sample size of normalised weights, 1 / sum w^2.
pub fn ess(w: &[f64]) -> f64 {
    1.0 / w.iter().map(|v| v * v).sum::<f64>()
}

/// The distance of a simulation from the data: the root of the weighted mean over series of the
/// mean squared difference on observed days, each series divided by the mean of its observed
/// values, so that GMV in RMB and clips in counts weigh alike. `sim[k]` is series k by day;
/// `obs[k]` its observed (day, value) pairs; `weights[k]` its weight.
pub fn distance(sim: &[Vec<f64>], obs: &[Vec<(u32, f64)>], weights: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut wsum = 0.0;
    for ((s, o), w) in sim.iter().zip(obs).zip(weights) {
        if o.is_empty() {
            continue;
        }
        let scale = o.iter().map(|(_, v)| v.abs()).sum::<f64>() / o.len() as f64;
        let scale = if scale > 0.0 { scale } else { 1.0 };
        let mse =
            o.iter().map(|(d, v)| ((s.get(*d as usize).copied().unwrap_or(0.0) - v) / scale).powi(2)).sum::<f64>()
                / o.len() as f64;
        total += w * mse;
        wsum += w;
    }
    (total / wsum.max(f64::MIN_POSITIVE)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let m = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let l = cholesky(&m);
        for i in 0..2 {
            for j in 0..2 {
                let v: f64 = (0..2).map(|k| l[i][k] * l[j][k]).sum();
                assert!((v - m[i][j]).abs() < 1e-12);
            }
        }
        // Singular: a ridge makes it usable.
        let l = cholesky(&[vec![1.0, 1.0], vec![1.0, 1.0]]);
        assert!(l[1][1] > 0.0);
    }

    #[test]
    fn quantile_and_ess() {
        assert_eq!(weighted_quantile(&[3.0, 1.0, 2.0], &[1.0, 1.0, 1.0], 0.5), 2.0);
        assert_eq!(weighted_quantile(&[3.0, 1.0, 2.0], &[0.0, 0.0, 1.0], 0.1), 2.0);
        assert!((ess(&[0.25; 4]) - 4.0).abs() < 1e-12);
    }

    #[test]
    fn distance_is_zero_on_the_data_and_scale_free() {
        let obs = vec![vec![(0, 10.0), (2, 30.0)]];
        assert_eq!(distance(&[vec![10.0, 99.0, 30.0]], &obs, &[1.0]), 0.0);
        let big = vec![vec![(0, 1000.0), (2, 3000.0)]];
        let a = distance(&[vec![12.0, 0.0, 30.0]], &obs, &[1.0]);
        let b = distance(&[vec![1200.0, 0.0, 3000.0]], &big, &[1.0]);
        assert!((a - b).abs() < 1e-12);
    }

    #[test]
    fn weights_favour_points_the_kernel_rarely_proposes() {
        let prev = vec![vec![0.0], vec![0.1], vec![1.0]];
        let w = vec![1.0 / 3.0; 3];
        let k = Kernel::from_particles(&prev, &w);
        let new = weights(&[vec![0.05], vec![2.0]], &prev, &w, &k);
        assert!(new[1] > new[0]);
        assert!((new.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn proposals_stay_in_the_box_and_repeat() {
        let b = [(0.0, 1.0), (-1.0, 1.0)];
        let (x, p) = propose(5, 0, 3, &b, None).unwrap();
        assert!(p.is_none() && x[0] >= 0.0 && x[0] <= 1.0);
        let prev = vec![vec![0.5, 0.0], vec![0.9, 0.9], vec![0.1, -0.5]];
        let w = vec![0.2, 0.5, 0.3];
        let k = Kernel::from_particles(&prev, &w);
        let a = propose(5, 2, 7, &b, Some((&prev, &w, &k))).unwrap();
        assert_eq!(a, propose(5, 2, 7, &b, Some((&prev, &w, &k))).unwrap());
        assert!(a.0.iter().zip(&b).all(|(v, (lo, hi))| v >= lo && v <= hi));
    }
}
