//! Test code only: the samplers the day loop used before issue 19, kept as the reference, and a
//! two-sample test that the redesigned samplers draw from the same distributions.

use crate::base::rng::{stream, Kind, Stream};
use rand::Rng;
use rand_distr::{Binomial, Distribution, Poisson};
use std::collections::BTreeMap;

/// The binomial before issue 19: `n` Bernoulli trials for n <= 16, else `rand_distr`.
pub fn old_binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 || p.is_nan() {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if n <= 16 {
        return (0..n).filter(|_| rng.random::<f64>() < p).count() as u64;
    }
    Binomial::new(n, p).map(|b| b.sample(rng)).unwrap_or(0)
}

/// The Poisson before issue 19: `rand_distr` at every mean.
pub fn old_poisson<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> u64 {
    if lambda <= 0.0 || lambda.is_nan() {
        return 0;
    }
    if lambda > 1e15 {
        return lambda as u64;
    }
    Poisson::new(lambda)
        .map(|d| {
            let x: f64 = d.sample(rng);
            x as u64
        })
        .unwrap_or(0)
}

/// A two-sample comparison of integer draws.
#[derive(Debug, Clone, Copy)]
pub struct TwoSample {
    /// Chi-square test of homogeneity on the binned counts (bins merged until each holds at
    /// least 40 of the two samples together), as a standard normal by Wilson-Hilferty: large
    /// when the two distributions differ anywhere.
    pub chi2_z: f64,
    pub df: usize,
    /// Welch's z for the difference of the means.
    pub mean_z: f64,
}

impl TwoSample {
    /// The larger of the two |z|.
    pub fn worst(&self) -> f64 {
        self.chi2_z.abs().max(self.mean_z.abs())
    }
}

/// Compares two samples of counts.
pub fn compare(a: &[u64], b: &[u64]) -> TwoSample {
    let mut counts: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for &x in a {
        counts.entry(x).or_default().0 += 1.0;
    }
    for &x in b {
        counts.entry(x).or_default().1 += 1.0;
    }
    let mut bins: Vec<(f64, f64)> = Vec::new();
    let mut open = (0.0, 0.0);
    for &(ca, cb) in counts.values() {
        open = (open.0 + ca, open.1 + cb);
        if open.0 + open.1 >= 40.0 {
            bins.push(open);
            open = (0.0, 0.0);
        }
    }
    if open.0 + open.1 > 0.0 {
        match bins.last_mut() {
            Some(last) => *last = (last.0 + open.0, last.1 + open.1),
            None => bins.push(open),
        }
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let n = na + nb;
    let mut chi2 = 0.0;
    for &(ca, cb) in &bins {
        let t = ca + cb;
        let (ea, eb) = (t * na / n, t * nb / n);
        chi2 += (ca - ea).powi(2) / ea + (cb - eb).powi(2) / eb;
    }
    let df = bins.len().saturating_sub(1);
    let chi2_z = if df == 0 {
        0.0
    } else {
        let k = df as f64;
        ((chi2 / k).cbrt() - (1.0 - 2.0 / (9.0 * k))) / (2.0 / (9.0 * k)).sqrt()
    };
    let moments = |s: &[u64]| {
        let m = s.iter().map(|&x| x as f64).sum::<f64>() / s.len() as f64;
        let v = s.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / (s.len() as f64 - 1.0);
        (m, v)
    };
    let ((ma, va), (mb, vb)) = (moments(a), moments(b));
    let se = (va / na + vb / nb).sqrt();
    let mean_z = if se > 0.0 {
        (ma - mb) / se
    } else if ma == mb {
        0.0
    } else {
        f64::INFINITY
    };
    TwoSample { chi2_z, df, mean_z }
}

/// The bound on |z| for the exactness tests: two-sided p = 6e-5 for each statistic, so that
/// with fewer than 150 statistics a family-wise error below 1% (Bonferroni). The draws are at
/// fixed seeds, so a pass is reproducible; the power checks beside each test show that a 1%
/// shift of the parameter exceeds it at the sample sizes used.
pub const Z_BOUND: f64 = 4.0;

pub const DRAWS: usize = 1_000_000;

/// Draws of the new and the old sampler, each from its own stream.
pub fn both(case: u64, new: impl Fn(&mut Stream) -> u64, old: impl Fn(&mut Stream) -> u64) -> (Vec<u64>, Vec<u64>) {
    let mut a = stream(19, Kind::Funnel, case, 0);
    let mut b = stream(19, Kind::Funnel, case, 1);
    ((0..DRAWS).map(|_| new(&mut a)).collect(), (0..DRAWS).map(|_| old(&mut b)).collect())
}

/// The new and the old sampler's draws of one case compared, printed, and failed past the
/// bound or above `most`; returns the larger |z|.
pub fn agree(
    label: &str,
    case: u64,
    new: impl Fn(&mut Stream) -> u64,
    old: impl Fn(&mut Stream) -> u64,
    most: u64,
) -> f64 {
    let (a, b) = both(case, new, old);
    let t = compare(&a, &b);
    eprintln!("{label}: chi2 z {:.2} (df {}), mean z {:.2}", t.chi2_z, t.df, t.mean_z);
    assert!(t.worst() < Z_BOUND, "{label}: {t:?}");
    assert!(a.iter().all(|&x| x <= most), "{label}: a draw above {most}");
    t.worst()
}
