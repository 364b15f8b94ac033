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
    Streams::new(rep_seed, kind).of(entity, day)
}

/// The streams of one kind in one replication: the part of their names that is the same for
/// every entity and day, mixed once.
#[derive(Clone, Copy, Debug)]
pub struct Streams(u64);

impl Streams {
    #[inline]
    pub fn new(rep_seed: u64, kind: Kind) -> Streams {
        Streams(mix(rep_seed ^ mix(kind as u64)))
    }

    /// The streams of one day: its part of the names mixed once, so that a loop over the day's
    /// millions of clips or cohorts mixes once a stream (see [`DayStreams::of`]).
    #[inline]
    pub fn on(self, day: u32) -> DayStreams {
        DayStreams(mix(self.0 ^ (day as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25)))
    }

    /// The stream of `entity` on `day` (the same stream as `self.on(day).of(entity)`).
    #[inline]
    pub fn of(self, entity: u64, day: u32) -> Stream {
        self.on(day).of(entity)
    }
}

/// The streams of one kind on one day of one replication.
#[derive(Clone, Copy, Debug)]
pub struct DayStreams(u64);

impl DayStreams {
    /// The stream of `entity`. Within a day the name `c` is a bijection of the entity (an odd
    /// multiplier, then a bijective mix), so no two entities share a stream; the PCG state is
    /// `c` in its high half and `c` with fixed bits flipped in its low half, so two entities'
    /// states differ in both halves. One mix a stream, not three as before session 20: a day's
    /// loops seed a stream for each of millions of clips and cohorts (feed ageing, which draws
    /// one binomial a stream, took 0.90 of its time before).
    #[inline]
    pub fn of(self, entity: u64) -> Stream {
        let c = mix(self.0 ^ entity.wrapping_mul(0xA24B_AED4_963E_E407));
        Pcg64Mcg::new(((c as u128) << 64) | (c ^ 0x5851_F42D_4C95_7F2D) as u128)
    }
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
    if p > 0.5 {
        return n - binomial_low(rng, n, 1.0 - p);
    }
    binomial_low(rng, n, p)
}

/// Binomial(n, p) for `0 <= p < 1` given `ln_q = ln(1 - p)` and `ratio = p / (1 - p)`, both
/// computed once for a fixed `p`: [`binomial`]'s inversion with `P(0) = exp(n ln q)` in place of
/// the integer power `q^n` (the same number up to rounding, about `1e-14` relative at a few
/// hundred trials), and [`binomial`] itself where it would not invert.
#[inline]
pub fn binomial_given_ln_q<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64, ln_q: f64, ratio: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p > 0.5 || !inverts(n, p) {
        return binomial(rng, n, p);
    }
    binomial_walk(rng, n, ratio, (n as f64 * ln_q).exp())
}

/// Below this mean a binomial or Poisson is drawn by inversion from one uniform; above it by
/// `rand_distr` (BTPE for the binomial, rejection for the Poisson), whose set-up then pays off.
/// The binomial's bound is `rand_distr`'s own switch to inversion; the Poisson's is its switch
/// from Knuth's product of uniforms.
const BINOMIAL_INVERSION_MEAN: f64 = 10.0;
const POISSON_INVERSION_MEAN: f64 = 12.0;

/// Whether `Binomial(n, p)`, `p <= 1/2`, is drawn by inversion: one rule for every binomial
/// sampler here, which must agree to draw the same numbers.
#[inline]
pub(crate) fn inverts(n: u64, p: f64) -> bool {
    (n as f64) * p < BINOMIAL_INVERSION_MEAN && n <= i32::MAX as u64
}

/// Binomial(n, p) for n >= 1 and 0 < p <= 1/2. Small means, the common case of a clip's or a
/// cohort's day, by inversion (BINV: walk the probability function from `P(0) = q^n` with the
/// ratio `P(k+1)/P(k) = (n-k)/(k+1) p/q`): one uniform, an integer power and about `np`
/// multiplications, where `n` Bernoulli trials cost `n` uniforms and `rand_distr`'s sampler a
/// `powf` and its set-up per call. Exact up to the rounding of the probabilities; a uniform that
/// rounding leaves past the walk's bound (mass below 1e-60) is drawn again.
#[inline]
pub(crate) fn binomial_low<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if !inverts(n, p) {
        return Binomial::new(n, p).map(|b| b.sample(rng)).unwrap_or(0);
    }
    let q = 1.0 - p;
    binomial_walk(rng, n, p / q, powi(q, n as u32))
}

/// The inversion walk of [`binomial_low`] from `P(0) = p0` with `ratio = p/q`.
#[inline]
pub(crate) fn binomial_walk<R: Rng + ?Sized>(rng: &mut R, n: u64, ratio: f64, p0: f64) -> u64 {
    let bound = n.min(110);
    loop {
        let mut u: f64 = rng.random();
        let mut f = p0;
        let mut k = 0u64;
        loop {
            if u < f {
                return k;
            }
            u -= f;
            if k == bound {
                break;
            }
            f *= ratio * (n - k) as f64 / (k + 1) as f64;
            k += 1;
        }
    }
}

/// `q.powi(n)` for `n >= 0`, inline: the multiplications of the library's integer power
/// (compiler-builtins' `__powidf2`: square-and-multiply from the lowest bit) in its order, so the
/// same number, without a call, and with the multiply by `q` or by 1 (exact) chosen without a
/// branch.
#[inline]
pub fn powi(q: f64, n: u32) -> f64 {
    let (mut a, mut pow, mut mul) = (q, n, 1.0f64);
    loop {
        mul *= if pow & 1 != 0 { a } else { 1.0 };
        pow >>= 1;
        if pow == 0 {
            return mul;
        }
        a *= a;
    }
}

/// Poisson(lambda) as an integer count; 0 for lambda <= 0. Small means by inversion from one
/// uniform (`P(0) = e^-lambda`, `P(k+1)/P(k) = lambda/(k+1)`) instead of Knuth's product of
/// `lambda + 1` uniforms; large ones by `rand_distr`.
#[inline]
pub fn poisson<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> u64 {
    if lambda <= 0.0 || lambda.is_nan() {
        return 0;
    }
    if lambda < POISSON_INVERSION_MEAN {
        return poisson_walk(rng, lambda, (-lambda).exp());
    }
    poisson_large(rng, lambda)
}

/// The inversion walk of [`poisson`] for `lambda < POISSON_INVERSION_MEAN` from `P(0) = p0`.
#[inline]
fn poisson_walk<R: Rng + ?Sized>(rng: &mut R, lambda: f64, p0: f64) -> u64 {
    loop {
        let mut u: f64 = rng.random();
        let mut f = p0;
        let mut k = 0u64;
        // P(X > 150) < 1e-100 for lambda < 12: a uniform that rounding leaves past it is
        // drawn again.
        while k <= 150 {
            if u < f {
                return k;
            }
            u -= f;
            k += 1;
            f *= lambda / k as f64;
        }
    }
}

/// Poisson(lambda) for `lambda >= POISSON_INVERSION_MEAN`, by `rand_distr`.
fn poisson_large<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> u64 {
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
    const GOLDEN: (u64, u64, u64) = (15_028_985_617_347_558_226, 318, 2);

    use crate::base::twosample::{agree, both, compare, old_binomial, old_poisson, Z_BOUND};

    /// Issue 19: the binomial by inversion (and `n - Binomial(n, 1-p)` above 1/2) draws what the
    /// old one drew: n Bernoulli trials up to 16, `rand_distr` above; edges included (n = 0, p
    /// near 0 and 1, large n on either side of the inversion bound).
    #[test]
    fn binomial_matches_the_old_sampler() {
        let cases: &[(u64, f64)] = &[
            (0, 0.3),
            (1, 0.5),
            (3, 0.02),
            (8, 0.5),
            (12, 1e-4),
            (16, 0.05),
            (17, 0.05),
            (20, 0.7),
            (5, 0.999),
            (40, 0.2),
            (60, 0.2),
            (100, 0.099),
            (300, 0.97),
            (1000, 0.001),
            (1_000_000, 5e-6),
            (1_000_000, 0.3),
            (50, 1.0),
            (50, 0.0),
        ];
        let mut worst = 0.0f64;
        for (i, &(n, p)) in cases.iter().enumerate() {
            let z =
                agree(&format!("binomial({n}, {p})"), i as u64, |r| binomial(r, n, p), |r| old_binomial(r, n, p), n);
            worst = worst.max(z);
        }
        eprintln!("binomial: largest |z| {worst:.2}");
    }

    /// Issue 19: the binomial from a given `ln(1 - p)` (`P(0)` by `exp`) draws what the old
    /// sampler drew, at the funnel's open probabilities and counts on both sides of the inversion
    /// bound (and above 1/2, where it falls back on [`binomial`]).
    #[test]
    fn binomial_given_ln_q_matches_the_old_sampler() {
        let cases: &[(u64, f64)] = &[
            (0, 0.02),
            (1, 0.02),
            (7, 0.05),
            (60, 0.03),
            (170, 0.02),
            (499, 0.02),
            (500, 0.02),
            (5_000, 1e-4),
            (30, 0.7),
        ];
        let mut worst = 0.0f64;
        for (i, &(n, p)) in cases.iter().enumerate() {
            let (ln_q, ratio) = ((-p).ln_1p(), p / (1.0 - p));
            let new = |r: &mut Stream| binomial_given_ln_q(r, n, p, ln_q, ratio);
            let z = agree(&format!("binomial_given_ln_q({n}, {p})"), 400 + i as u64, new, |r| old_binomial(r, n, p), n);
            worst = worst.max(z);
        }
        eprintln!("binomial_given_ln_q: largest |z| {worst:.2}");
        let (ln_q, ratio) = ((-0.0202f64).ln_1p(), 0.0202 / (1.0 - 0.0202));
        let (a, b) = both(499, |r| binomial_given_ln_q(r, 50, 0.0202, ln_q, ratio), |r| old_binomial(r, 50, 0.02));
        assert!(compare(&a, &b).worst() > Z_BOUND, "a 1% shift of p goes unseen");
    }

    /// The test sees a 1% shift of p at this many draws (np = 1, the weakest common case: expected
    /// |z| about 7).
    #[test]
    fn binomial_test_sees_a_one_percent_shift() {
        let (a, b) = both(100, |r| binomial(r, 50, 0.02 * 1.01), |r| old_binomial(r, 50, 0.02));
        let t = compare(&a, &b);
        assert!(t.worst() > Z_BOUND, "{t:?}");
    }

    /// Issue 19: the Poisson by inversion below mean 12 draws what `rand_distr` drew.
    #[test]
    fn poisson_matches_the_old_sampler() {
        let cases: &[f64] = &[0.0, 1e-4, 0.05, 0.5, 1.0, 2.0, 6.0, 11.99, 12.0, 40.0, 1000.0];
        let mut worst = 0.0f64;
        for (i, &l) in cases.iter().enumerate() {
            let z = agree(&format!("poisson({l})"), 200 + i as u64, |r| poisson(r, l), |r| old_poisson(r, l), u64::MAX);
            worst = worst.max(z);
        }
        eprintln!("poisson: largest |z| {worst:.2}");
        let (a, b) = both(300, |r| poisson(r, 2.0 * 1.01), |r| old_poisson(r, 2.0));
        assert!(compare(&a, &b).worst() > Z_BOUND, "a 1% shift of the mean goes unseen");
    }

    /// The inline integer power is the library's, bit for bit.
    #[test]
    fn powi_is_the_library_power() {
        let mut r = stream(3, Kind::Clip, 0, 0);
        for _ in 0..20_000 {
            let q: f64 = r.random::<f64>() * if r.random::<bool>() { 1.0 } else { 1.5 };
            let n = match r.random_range(0..3) {
                0 => r.random_range(0..40u32),
                1 => r.random_range(0..5_000u32),
                _ => r.random_range(0..i32::MAX as u32),
            };
            assert_eq!(powi(q, n).to_bits(), q.powi(n as i32).to_bits(), "{q}^{n}");
        }
        for q in [0.0, 1.0, 0.5, 2.0, f64::MIN_POSITIVE, 1.0 - f64::EPSILON] {
            for n in [0u32, 1, 2, 3, 1000, i32::MAX as u32] {
                assert_eq!(powi(q, n).to_bits(), q.powi(n as i32).to_bits(), "{q}^{n}");
            }
        }
    }

    #[test]
    fn streams_differ_by_every_part() {
        let base = stream(1, Kind::Clip, 1, 1).random::<u64>();
        assert_ne!(base, stream(2, Kind::Clip, 1, 1).random::<u64>());
        assert_ne!(base, stream(1, Kind::Feed, 1, 1).random::<u64>());
        assert_ne!(base, stream(1, Kind::Clip, 2, 1).random::<u64>());
        assert_ne!(base, stream(1, Kind::Clip, 1, 2).random::<u64>());
    }

    /// Streams are seeded from one mix of (entity, day) since session 20. Neighbouring names
    /// (the next entity, the next day, an entity shifted as cohort ids are) give first draws
    /// that are uniform and uncorrelated with each other, and no two entities of a day share a
    /// first draw.
    #[test]
    fn neighbouring_streams_are_independent() {
        let n = 200_000u64;
        let u = |e: u64, d: u32| stream(77, Kind::Cohort, e, d).random::<f64>();
        let mut bins = [0u64; 64];
        let (mut first, mut seen) = (Vec::new(), std::collections::HashSet::new());
        for e in 0..n {
            let x = u(e, 5);
            bins[(x * 64.0) as usize] += 1;
            first.push(x);
            assert!(seen.insert(x.to_bits()), "entity {e} repeats a first draw");
        }
        let e = n as f64 / 64.0;
        let chi2: f64 = bins.iter().map(|&c| (c as f64 - e).powi(2) / e).sum();
        // 63 degrees of freedom: the 99.99th percentile is 113.
        assert!(chi2 < 113.0, "chi2 {chi2}");
        // Pearson's r of pairs, times sqrt(n): a standard normal under independence.
        let z = |pairs: &[(f64, f64)]| {
            let m = pairs.len() as f64;
            let (sa, sb) = pairs.iter().fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1));
            let (ma, mb) = (sa / m, sb / m);
            let cov: f64 = pairs.iter().map(|p| (p.0 - ma) * (p.1 - mb)).sum();
            let va: f64 = pairs.iter().map(|p| (p.0 - ma).powi(2)).sum();
            let vb: f64 = pairs.iter().map(|p| (p.1 - mb).powi(2)).sum();
            cov / (va * vb).sqrt() * m.sqrt()
        };
        let next_entity: Vec<_> = (0..n - 1).map(|e| (first[e as usize], first[e as usize + 1])).collect();
        let next_day: Vec<_> = (0..n).map(|e| (first[e as usize], u(e, 6))).collect();
        let cohort_of_clip: Vec<_> = (0..n).map(|e| (u(e << 12, 5), u((e << 12) | 1, 6))).collect();
        for (label, pairs) in
            [("next entity", next_entity), ("next day", next_day), ("next cohort day", cohort_of_clip)]
        {
            let z = z(&pairs);
            assert!(z.abs() < 4.0, "{label}: z {z:.2}");
        }
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
