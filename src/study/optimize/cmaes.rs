//! CMA-ES, the covariance matrix adaptation evolution strategy (Hansen & Ostermeier 2001,
//! *Evol. Comput.* 9:159; the defaults and update equations of Hansen 2016, "The CMA Evolution
//! Strategy: A Tutorial", arXiv:1604.00772, Table 1 and equations 39-47), as an ask/tell state
//! machine in the unit box `[0, 1]^n`. The search ([`super::search`]) asks for a population,
//! evaluates it on paired replications and tells the ranking back. Every draw comes from a stream
//! named by (seed, generation), so a replay from the cache of evaluations proposes exactly the
//! same candidates (resuming) at any thread count. Box constraints are met by projection: a
//! sample outside `[0, 1]` is clipped and its clipped step enters the update (a simple repair,
//! Hansen 2016, appendix B.4 lists better ones; on a lattice of decisions it suffices).

use crate::base::rng::{self, Kind};

/// The entity of the CMA-ES stream (`Kind::Calibrate`'s entities are particle indices, far below).
const STREAM_ENTITY: u64 = u64::MAX;

#[derive(Clone, Debug)]
pub struct Cmaes {
    n: usize,
    pub lambda: usize,
    mu: usize,
    weights: Vec<f64>,
    mueff: f64,
    cc: f64,
    cs: f64,
    c1: f64,
    cmu: f64,
    damps: f64,
    chi_n: f64,
    pub mean: Vec<f64>,
    pub sigma: f64,
    c: Vec<Vec<f64>>,
    pc: Vec<f64>,
    ps: Vec<f64>,
    /// Eigenvectors (columns) and the square roots of the eigenvalues of `c`.
    b: Vec<Vec<f64>>,
    d: Vec<f64>,
    pub generation: u32,
    seed: u64,
}

impl Cmaes {
    /// A strategy in `n` dimensions from `mean` with step `sigma` and the default population.
    pub fn new(n: usize, mean: Vec<f64>, sigma: f64, seed: u64) -> Cmaes {
        let lambda = 4 + (3.0 * (n as f64).ln()).floor() as usize;
        let mu = lambda / 2;
        let raw: Vec<f64> = (1..=mu).map(|i| ((lambda as f64 + 1.0) / 2.0).ln() - (i as f64).ln()).collect();
        let total: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
        let mueff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let nf = n as f64;
        let cc = (4.0 + mueff / nf) / (nf + 4.0 + 2.0 * mueff / nf);
        let cs = (mueff + 2.0) / (nf + mueff + 5.0);
        let c1 = 2.0 / ((nf + 1.3).powi(2) + mueff);
        let cmu = (1.0 - c1).min(2.0 * (mueff - 2.0 + 1.0 / mueff) / ((nf + 2.0).powi(2) + mueff));
        let damps = 1.0 + 2.0 * (((mueff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + cs;
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        let eye: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
        Cmaes {
            n,
            lambda,
            mu,
            weights,
            mueff,
            cc,
            cs,
            c1,
            cmu,
            damps,
            chi_n,
            mean,
            sigma,
            c: eye.clone(),
            pc: vec![0.0; n],
            ps: vec![0.0; n],
            b: eye,
            d: vec![1.0; n],
            generation: 0,
            seed,
        }
    }

    /// The standard deviation of the search distribution along each axis of the box.
    pub fn sd(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.sigma * self.c[i][i].sqrt()).collect()
    }

    /// This generation's population, each point clipped to the unit box.
    pub fn ask(&self) -> Vec<Vec<f64>> {
        let mut r = rng::stream(self.seed, Kind::Calibrate, STREAM_ENTITY, self.generation);
        (0..self.lambda)
            .map(|_| {
                let z: Vec<f64> = (0..self.n).map(|_| rng::normal(&mut r)).collect();
                (0..self.n)
                    .map(|i| {
                        let y: f64 = (0..self.n).map(|j| self.b[i][j] * self.d[j] * z[j]).sum();
                        (self.mean[i] + self.sigma * y).clamp(0.0, 1.0)
                    })
                    .collect()
            })
            .collect()
    }

    /// Updates the distribution from the population `xs` (as asked) and its ranking `order`
    /// (indices into `xs`, best first).
    #[allow(clippy::needless_range_loop)] // the matrix updates read clearest by index
    pub fn tell(&mut self, xs: &[Vec<f64>], order: &[usize]) {
        let n = self.n;
        let old = self.mean.clone();
        let ys: Vec<Vec<f64>> =
            order.iter().take(self.mu).map(|k| (0..n).map(|i| (xs[*k][i] - old[i]) / self.sigma).collect()).collect();
        let step: Vec<f64> = (0..n).map(|i| ys.iter().zip(&self.weights).map(|(y, w)| w * y[i]).sum()).collect();
        for i in 0..n {
            self.mean[i] = old[i] + self.sigma * step[i];
        }
        // C^(-1/2) step = B D^-1 B^T step.
        let bt: Vec<f64> = (0..n).map(|j| (0..n).map(|i| self.b[i][j] * step[i]).sum::<f64>() / self.d[j]).collect();
        let inv_sqrt: Vec<f64> = (0..n).map(|i| (0..n).map(|j| self.b[i][j] * bt[j]).sum()).collect();
        let ks = (self.cs * (2.0 - self.cs) * self.mueff).sqrt();
        for i in 0..n {
            self.ps[i] = (1.0 - self.cs) * self.ps[i] + ks * inv_sqrt[i];
        }
        let ps_norm = self.ps.iter().map(|v| v * v).sum::<f64>().sqrt();
        let g = f64::from(self.generation + 1);
        let hsig = ps_norm / (1.0 - (1.0 - self.cs).powf(2.0 * g)).sqrt() / self.chi_n < 1.4 + 2.0 / (n as f64 + 1.0);
        let kc = (self.cc * (2.0 - self.cc) * self.mueff).sqrt();
        for i in 0..n {
            self.pc[i] = (1.0 - self.cc) * self.pc[i] + if hsig { kc * step[i] } else { 0.0 };
        }
        let dh = if hsig { 0.0 } else { self.cc * (2.0 - self.cc) };
        for i in 0..n {
            for j in 0..n {
                let rank_mu: f64 = ys.iter().zip(&self.weights).map(|(y, w)| w * y[i] * y[j]).sum();
                self.c[i][j] = (1.0 - self.c1 - self.cmu) * self.c[i][j]
                    + self.c1 * (self.pc[i] * self.pc[j] + dh * self.c[i][j])
                    + self.cmu * rank_mu;
            }
        }
        self.sigma *= ((self.cs / self.damps) * (ps_norm / self.chi_n - 1.0)).exp();
        let (b, eig) = jacobi(&self.c);
        self.b = b;
        self.d = eig.iter().map(|e| e.max(1e-20).sqrt()).collect();
        self.generation += 1;
    }
}

/// Eigenvectors (as columns) and eigenvalues of a symmetric matrix, by cyclic Jacobi rotations
/// (exact enough for the few dimensions of a decision, and free of any dependency).
#[allow(clippy::needless_range_loop)]
pub fn jacobi(m: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let n = m.len();
    let mut a = m.to_vec();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |j| *j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k][p], v[k][q]);
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| v[i].clone()).collect(), (0..n).map(|i| a[i][i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises() {
        let m = vec![vec![4.0, 1.0, 0.5], vec![1.0, 3.0, 0.2], vec![0.5, 0.2, 1.0]];
        let (v, e) = jacobi(&m);
        for k in 0..3 {
            for i in 0..3 {
                let mv: f64 = (0..3).map(|j| m[i][j] * v[j][k]).sum();
                assert!((mv - e[k] * v[i][k]).abs() < 1e-9);
            }
        }
    }

    /// Noise-free: CMA-ES alone finds the minimum of a shifted, ill-scaled quadratic in 4
    /// dimensions to 1e-3, and the same seed gives the same path.
    #[test]
    fn minimises_a_quadratic_and_repeats() {
        let target = [0.2, 0.7, 0.45, 0.9];
        let f = |x: &[f64]| {
            x.iter().zip(target).enumerate().map(|(i, (a, b))| (1.0 + i as f64) * (a - b).powi(2)).sum::<f64>()
        };
        let run = || {
            let mut es = Cmaes::new(4, vec![0.5; 4], 0.3, 42);
            for _ in 0..150 {
                let xs = es.ask();
                let mut order: Vec<usize> = (0..xs.len()).collect();
                order.sort_by(|a, b| f(&xs[*a]).total_cmp(&f(&xs[*b])));
                es.tell(&xs, &order);
            }
            es.mean
        };
        let m = run();
        for (a, b) in m.iter().zip(target) {
            assert!((a - b).abs() < 1e-3, "{m:?}");
        }
        assert_eq!(m, run());
    }
}
