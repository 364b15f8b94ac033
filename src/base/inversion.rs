//! Inversion from a stored distribution function: a discrete law with fixed parameters drawn
//! from one uniform by a guided search of its cumulative probabilities.

use rand::Rng;

/// Buckets of the guide: about as many as a law's likely values, so that a draw looks at one or
/// two stored probabilities.
const GUIDE: usize = 64;

/// `P(X <= k)` for the values a law takes with more than negligible mass, and where to start
/// looking for a uniform's value. The value drawn from a uniform `U` is the smallest `k` with
/// `U < P(X <= k)`: the distribution function inverted, which is what walking the probability
/// function from `P(0)` does, up to the rounding of the stored sums.
#[derive(Clone, Debug, Default)]
pub struct Inversion {
    cdf: Vec<f64>,
    /// `guide[g]`: the smallest `k` with `cdf[k] > g / GUIDE`, so that the answer for any `U` in
    /// bucket `g` is at or after it.
    guide: Vec<u32>,
}

impl Inversion {
    /// Poisson(lambda) for `0 < lambda <= 700` (beyond, `e^-lambda` underflows): the
    /// probabilities by the recurrence `P(k) = P(k-1) lambda / k` from `P(0) = e^-lambda`, kept up
    /// to the first `k` past `2 lambda + 1` whose probability is below 1e-18 (the mass after it
    /// is then below 2e-18).
    pub fn poisson(lambda: f64) -> Option<Inversion> {
        if !(lambda > 0.0 && lambda <= 700.0) {
            return None;
        }
        let mut cdf = Vec::new();
        let (mut f, mut acc, mut k) = ((-lambda).exp(), 0.0f64, 0u64);
        loop {
            acc += f;
            cdf.push(acc);
            if k as f64 > 2.0 * lambda + 1.0 && f < 1e-18 {
                break;
            }
            k += 1;
            f *= lambda / k as f64;
        }
        Some(Inversion::from_cdf(cdf))
    }

    fn from_cdf(cdf: Vec<f64>) -> Inversion {
        let mut guide = Vec::with_capacity(GUIDE);
        let mut k = 0;
        for g in 0..GUIDE {
            let edge = g as f64 / GUIDE as f64;
            while k + 1 < cdf.len() && cdf[k] <= edge {
                k += 1;
            }
            guide.push(k as u32);
        }
        Inversion { cdf, guide }
    }

    /// A draw: one uniform, and another in the rare case (mass below 2e-18, or a sum that
    /// rounding left short of 1) that it falls past the stored values.
    #[inline]
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        loop {
            let u: f64 = rng.random();
            let mut k = self.guide[((u * GUIDE as f64) as usize).min(GUIDE - 1)] as usize;
            while let Some(&c) = self.cdf.get(k) {
                if u < c {
                    return k as u64;
                }
                k += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guide never starts past the answer: every uniform's value is the smallest `k` with
    /// `u < cdf[k]`, found by scanning from 0, at bucket edges and in between.
    #[test]
    fn guided_search_finds_the_first_value_above_the_uniform() {
        for lambda in [1e-6, 0.3, 2.0, 9.9, 12.0, 40.0, 252.0, 700.0] {
            let inv = Inversion::poisson(lambda).expect("in range");
            assert!((inv.cdf.last().unwrap() - 1.0).abs() < 1e-12, "lambda {lambda}");
            let us = (0..=4 * GUIDE).map(|i| i as f64 / (4 * GUIDE) as f64).chain(inv.cdf.iter().copied());
            for u in us.filter(|u| *u < 1.0) {
                let g = ((u * GUIDE as f64) as usize).min(GUIDE - 1);
                let start = inv.guide[g] as usize;
                let want = inv.cdf.iter().position(|c| u < *c);
                if let Some(want) = want {
                    assert!(start <= want, "lambda {lambda}, u {u}: guide {start} past {want}");
                }
            }
        }
        assert!(Inversion::poisson(0.0).is_none() && Inversion::poisson(701.0).is_none());
        assert!(Inversion::poisson(f64::NAN).is_none());
    }
}
