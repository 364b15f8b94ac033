//! Random streams: every draw comes from a stream named by (seed, replication, kind, entity, day).
//!
//! No stream is shared between entities, so the order in which rayon visits them cannot change a
//! result, and two scenarios run with the same seed see the same numbers for the same entity
//! (common random numbers for paired comparisons).

use rand::Rng;
use rand_distr::{Binomial, Distribution, Poisson};
use rand_pcg::Pcg64Mcg;

/// The generator behind every stream: PCG (128-bit MCG, XSL-RR output), portable across
/// platforms, pinned to an exact crate version, and cheap to seed, which matters because a
/// million creators each open a stream every day.
pub type Stream = Pcg64Mcg;

/// What a stream is for; part of its name, so that two purposes never share numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Kind {
    Population = 1,
    Title = 2,
    Launch = 3,
    Entry = 4,
    Choice = 5,
    Clip = 6,
    Feed = 7,
    Reach = 8,
    Funnel = 9,
    Cohort = 10,
    Churn = 11,
    Ledger = 12,
    Paid = 13,
    /// Traits of an own plan's title (`model::own`), by the plan's index in `[[plans]]`.
    OwnTitle = 14,
    /// A calibration's proposals (`study::calibrate`): entity = particle index, day = generation.
    Calibrate = 15,
    /// A forecast's choice of posterior draws (`study::forecast`).
    Forecast = 16,
}

/// SplitMix64's finaliser: a bijective mix with full avalanche.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of replication `rep` under master seed `seed`.
pub fn replication_seed(seed: u64, rep: u32) -> u64 {
    mix(mix(seed) ^ (rep as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// The master seed of particle `index` of generation `generation` of a calibration under master
/// seed `seed`: each particle's simulation has its own seed, so a particle's result does not
/// depend on which thread ran it or on which other particles ran.
pub fn particle_seed(seed: u64, generation: u32, index: u32) -> u64 {
    replication_seed(mix(seed ^ 0x6361_6C69_6272_6174) ^ (generation as u64).wrapping_mul(0xA24B_AED4_963E_E407), index)
}

/// The stream of one entity on one day of one replication.
#[inline]
pub fn stream(rep_seed: u64, kind: Kind, entity: u64, day: u32) -> Stream {
    let a = mix(rep_seed ^ mix(kind as u64));
    let b = mix(a ^ entity.wrapping_mul(0xA24B_AED4_963E_E407));
    let c = mix(b ^ (day as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25));
    Pcg64Mcg::new(((c as u128) << 64) | mix(c ^ 1) as u128)
}

/// Binomial(n, p) that accepts any p (clamped to [0, 1]) and n = 0.
#[inline]
pub fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 || p.is_nan() {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    // Small n, the common case of a clip's day: n Bernoulli trials cost less than the set-up of
    // rand_distr's sampler (a `powf` per call).
    if n <= 16 {
        return (0..n).filter(|_| rng.random::<f64>() < p).count() as u64;
    }
    Binomial::new(n, p).map(|b| b.sample(rng)).unwrap_or(0)
}

/// Poisson(lambda) as an integer count; 0 for lambda <= 0.
#[inline]
pub fn poisson<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> u64 {
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

/// A standard normal draw (Box-Muller on two uniforms; one value is discarded, for simplicity
/// of stream bookkeeping).
#[inline]
pub fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// LogNormal with the given median and log-sd.
#[inline]
pub fn lognormal_median<R: Rng + ?Sized>(rng: &mut R, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// Gamma(shape, scale) by Marsaglia-Tsang (shape < 1 boosted), with our own normal draws.
pub fn gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64, scale: f64) -> f64 {
    if shape <= 0.0 || scale <= 0.0 {
        return 0.0;
    }
    if shape < 1.0 {
        let u: f64 = rng.random::<f64>();
        return gamma(rng, shape + 1.0, scale) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.random::<f64>();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v * scale;
        }
    }
}

/// Beta(a, b) from two gammas.
pub fn beta<R: Rng + ?Sized>(rng: &mut R, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a, 1.0);
    let y = gamma(rng, b, 1.0);
    if x + y <= 0.0 {
        0.5
    } else {
        x / (x + y)
    }
}

/// Picks an index with probability proportional to `weights` (all >= 0, sum > 0).
pub fn pick_weighted<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden values: if a dependency update changes the streams, this fails and says so,
    /// rather than every result silently shifting.
    #[test]
    fn golden_values() {
        let mut s = stream(replication_seed(42, 0), Kind::Funnel, 7, 3);
        let a: u64 = s.random();
        let b = binomial(&mut s, 1000, 0.3);
        let c = poisson(&mut s, 4.5);
        assert_eq!((a, b, c), GOLDEN);
    }
    const GOLDEN: (u64, u64, u64) = (14_866_443_120_919_003_145, 297, 3);

    #[test]
    fn streams_differ_by_every_part() {
        let base = stream(1, Kind::Clip, 1, 1).random::<u64>();
        assert_ne!(base, stream(2, Kind::Clip, 1, 1).random::<u64>());
        assert_ne!(base, stream(1, Kind::Feed, 1, 1).random::<u64>());
        assert_ne!(base, stream(1, Kind::Clip, 2, 1).random::<u64>());
        assert_ne!(base, stream(1, Kind::Clip, 1, 2).random::<u64>());
    }

    #[test]
    fn gamma_and_beta_means() {
        let mut s = stream(9, Kind::Population, 0, 0);
        let n = 20_000;
        let g: f64 = (0..n).map(|_| gamma(&mut s, 2.0, 0.25)).sum::<f64>() / n as f64;
        assert!((g - 0.5).abs() < 0.02, "{g}");
        let b: f64 = (0..n).map(|_| beta(&mut s, 2.0, 5.0)).sum::<f64>() / n as f64;
        assert!((b - 2.0 / 7.0).abs() < 0.01, "{b}");
        let g: f64 = (0..n).map(|_| gamma(&mut s, 0.5, 2.0)).sum::<f64>() / n as f64;
        assert!((g - 1.0).abs() < 0.05, "{g}");
    }
}
