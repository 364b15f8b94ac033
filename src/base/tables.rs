//! The funnel's fixed laws as tables: a binomial or Poisson whose probability is fixed for a
//! replication (by category and landing), with what a small count's draw needs computed once.

use rand::Rng;

use crate::base::inversion::Laws;
use crate::base::rng::{binomial_low, binomial_walk, inverts, poisson};

/// Counts below this take their `P(0)` from the tables of [`BinomialTable`], and their whole
/// distribution function from those of [`PoissonTable`] (a cohort's payers and viewers, a clip's
/// arrivals: nearly always a few).
const TABLE_COUNTS: usize = 64;

/// Binomial(n, p) for one fixed `p` and any `n`: the draws of [`rng::binomial`](crate::base::rng::binomial) itself (the same
/// uniforms and the same arithmetic, so the same numbers), with `P(0) = q^n` looked up for small
/// `n` rather than computed by an integer power at every draw. The funnel's probabilities are
/// fixed by category and landing, so each gets one table a replication. (Its whole distribution
/// function stored, as [`PoissonTable`] stores one, drew other numbers no faster: session 12.)
#[derive(Clone, Debug)]
pub struct BinomialTable {
    p: f64,
    /// The probability the walk uses (`p`, or `1 - p` above 1/2, drawn as `n - k`) and its
    /// `p/q`, computed as [`rng::binomial`](crate::base::rng::binomial) computes them.
    low: f64,
    ratio: f64,
    flip: bool,
    p0: Vec<f64>,
}

impl BinomialTable {
    pub fn new(p: f64) -> BinomialTable {
        let flip = p > 0.5;
        let low = if flip { 1.0 - p } else { p };
        let q = 1.0 - low;
        let usable = p > 0.0 && p < 1.0;
        let p0 = if usable { (0..TABLE_COUNTS).map(|n| q.powi(n as i32)).collect() } else { Vec::new() };
        BinomialTable { p, low, ratio: low / q, flip, p0 }
    }

    /// Binomial(n, p), the same number [`rng::binomial`](crate::base::rng::binomial) draws from the same stream.
    #[inline]
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R, n: u64) -> u64 {
        let p = self.p;
        if n == 0 || p <= 0.0 || p.is_nan() {
            return 0;
        }
        if p >= 1.0 {
            return n;
        }
        let k = match self.p0.get(n as usize) {
            Some(&p0) if inverts(n, self.low) => binomial_walk(rng, n, self.ratio, p0),
            _ => binomial_low(rng, n, self.low),
        };
        if self.flip {
            n - k
        } else {
            k
        }
    }
}

/// Poisson(n * rate) for one fixed `rate` and a count `n` (a cohort's or a clip's ad viewers):
/// for `n < TABLE_COUNTS`, by inversion from the law's stored distribution function, where
/// [`poisson`] walks the probability function from `P(0)` (about ten dependent steps at the
/// funnel's means of ten ad views) or, from a mean of 12, runs `rand_distr`'s rejection sampler
/// (issue 19, session 10). The same law, other numbers from the same stream; larger `n` by
/// [`poisson`].
#[derive(Clone, Debug)]
pub struct PoissonTable {
    rate: f64,
    /// Law `n` for `1 <= n < by_count.len()` (law 0 a placeholder).
    by_count: Laws,
}

impl PoissonTable {
    pub fn new(rate: f64) -> PoissonTable {
        let mut by_count = Laws::default();
        if rate > 0.0 && rate.is_finite() {
            by_count.push_none();
            for n in 1..TABLE_COUNTS {
                if !by_count.push_poisson(n as f64 * rate) {
                    break;
                }
            }
        }
        PoissonTable { rate, by_count }
    }

    /// Poisson(n * rate).
    #[inline]
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R, n: u64) -> u64 {
        if n > 0 && (n as usize) < self.by_count.len() {
            self.by_count.draw(n as usize, rng)
        } else {
            poisson(rng, n as f64 * self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::{binomial, stream, Kind, Stream};
    use crate::base::twosample::{agree, both, compare, old_poisson, Z_BOUND};

    /// The binomial tables draw the very numbers the plain sampler draws from the same streams,
    /// at counts inside and outside the tables, and probabilities on either side of 1/2 and at
    /// the edges.
    #[test]
    fn binomial_tables_draw_what_the_sampler_draws() {
        for (case, &p) in [0.0, 1e-9, 0.003, 0.2, 0.5, 0.5000001, 0.73, 0.999, 1.0, f64::NAN].iter().enumerate() {
            let t = BinomialTable::new(p);
            for n in [0u64, 1, 2, 5, 17, 40, 63, 64, 65, 200, 5_000] {
                let mut a = stream(7, Kind::Cohort, case as u64, n as u32);
                let mut b = a.clone();
                for _ in 0..300 {
                    assert_eq!(t.draw(&mut a, n), binomial(&mut b, n, p), "binomial({n}, {p})");
                }
            }
        }
    }

    /// Issue 19 (session 10): the Poisson tables, by inversion of a stored distribution function
    /// below 64 viewers, draw what the sampler before issue 19 drew (`rand_distr` at every mean),
    /// at the funnel's rates (2 to 4 ad views a viewer), means on
    /// both sides of 12 and up to 252, counts past the table and rates it ends early for; and
    /// the same numbers as [`poisson`] past the table or with no rate.
    #[test]
    fn poisson_tables_match_the_old_sampler() {
        let cases: &[(f64, u64)] = &[
            (1e-7, 5),
            (0.05, 3),
            (0.25, 47),
            (2.0, 1),
            (2.0, 4),
            (3.0, 3),
            (3.0, 4),
            (4.0, 10),
            (4.0, 63),
            (11.99, 1),
            (12.0, 1),
            (40.0, 17),
            (20.0, 63),
        ];
        let mut worst = 0.0f64;
        for (i, &(rate, n)) in cases.iter().enumerate() {
            let t = PoissonTable::new(rate);
            let old = |r: &mut Stream| old_poisson(r, n as f64 * rate);
            let z = agree(&format!("poisson table({n} x {rate})"), 600 + i as u64, |r| t.draw(r, n), old, u64::MAX);
            worst = worst.max(z);
        }
        eprintln!("poisson tables: largest |z| {worst:.2}");
        let t = PoissonTable::new(3.0 * 1.01);
        let (a, b) = both(699, |r| t.draw(r, 3), |r| old_poisson(r, 9.0));
        assert!(compare(&a, &b).worst() > Z_BOUND, "a 1% shift of the mean goes unseen");
        for (case, &rate) in [0.0, -1.0, f64::NAN, 3.0, 40.0].iter().enumerate() {
            let t = PoissonTable::new(rate);
            for n in [0u64, 64, 100, 10_000] {
                let mut a = stream(8, Kind::Cohort, case as u64, n as u32);
                let mut b = a.clone();
                for _ in 0..300 {
                    assert_eq!(t.draw(&mut a, n), poisson(&mut b, n as f64 * rate), "poisson({n} x {rate})");
                }
            }
        }
    }
}
