//! Inversion from stored distribution functions: a family of discrete laws with fixed
//! parameters (one law for each count of viewers, say), each drawn from one uniform by a guided
//! search of its cumulative probabilities, all stored back to back in a few arrays.

use rand::Rng;

/// Most buckets a law's guide has: about as many as its likely values, so that a draw looks at
/// one or two stored probabilities.
const GUIDE: usize = 64;

/// Where one law lies in the family's arrays.
#[derive(Clone, Copy, Debug, Default)]
struct Law {
    cdf_at: u32,
    len: u32,
    guide_at: u32,
    buckets: u32,
}

/// `P(X <= k)` for the values each law takes with more than negligible mass, and where to start
/// looking for a uniform's value. The value drawn from a uniform `U` is the smallest `k` with
/// `U < P(X <= k)`: the distribution function inverted, which is what walking the probability
/// function from `P(0)` does, up to the rounding of the stored sums.
#[derive(Clone, Debug, Default)]
pub struct Laws {
    laws: Vec<Law>,
    cdf: Vec<f64>,
    /// For law `i`'s bucket `g` of `b`: the smallest `k` with `cdf[k] > g / b`, so that the
    /// answer for any `U` in the bucket is at or after it.
    guide: Vec<u16>,
}

impl Laws {
    /// The number of laws stored.
    pub fn len(&self) -> usize {
        self.laws.len()
    }

    pub fn is_empty(&self) -> bool {
        self.laws.is_empty()
    }

    /// Stores a law that is never drawn (a placeholder, so that law `i` can be count `i`).
    pub fn push_none(&mut self) {
        self.laws.push(Law::default());
    }

    /// Stores Poisson(lambda), and says whether it could: for `0 < lambda <= 700` (beyond,
    /// `e^-lambda` underflows). The probabilities by the recurrence `P(k) = P(k-1) lambda / k`
    /// from `P(0) = e^-lambda`, kept up to the first `k` past `2 lambda + 1` whose probability is
    /// below 1e-18 (the mass after it is then below 2e-18).
    pub fn push_poisson(&mut self, lambda: f64) -> bool {
        if !(lambda > 0.0 && lambda <= 700.0) {
            return false;
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
        self.push_cdf(&cdf);
        true
    }

    fn push_cdf(&mut self, cdf: &[f64]) {
        let buckets = cdf.len().next_power_of_two().min(GUIDE);
        let law = Law {
            cdf_at: self.cdf.len() as u32,
            len: cdf.len() as u32,
            guide_at: self.guide.len() as u32,
            buckets: buckets as u32,
        };
        let mut k = 0;
        for g in 0..buckets {
            let edge = g as f64 / buckets as f64;
            while k + 1 < cdf.len() && cdf[k] <= edge {
                k += 1;
            }
            self.guide.push(k as u16);
        }
        self.cdf.extend_from_slice(cdf);
        self.laws.push(law);
    }

    /// A draw of law `i`: one uniform, and another in the rare case (mass below 2e-18, or a sum
    /// that rounding left short of 1) that it falls past the stored values.
    #[inline]
    pub fn draw<R: Rng + ?Sized>(&self, i: usize, rng: &mut R) -> u64 {
        let law = self.laws[i];
        let cdf = &self.cdf[law.cdf_at as usize..(law.cdf_at + law.len) as usize];
        let buckets = law.buckets as usize;
        loop {
            let u: f64 = rng.random();
            let g = ((u * buckets as f64) as usize).min(buckets - 1);
            let mut k = self.guide[law.guide_at as usize + g] as usize;
            while let Some(&c) = cdf.get(k) {
                if u < c {
                    return k as u64;
                }
                k += 1;
            }
        }
    }

    /// The stored distribution function of law `i`, and its guide.
    #[cfg(test)]
    fn parts(&self, i: usize) -> (&[f64], &[u16]) {
        let law = self.laws[i];
        let cdf = &self.cdf[law.cdf_at as usize..(law.cdf_at + law.len) as usize];
        (cdf, &self.guide[law.guide_at as usize..(law.guide_at + law.buckets) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guide never starts past the answer: every uniform's value is the smallest `k` with
    /// `u < cdf[k]`, found by scanning from 0, at bucket edges and in between.
    #[test]
    fn guided_search_finds_the_first_value_above_the_uniform() {
        let mut laws = Laws::default();
        for lambda in [1e-6, 0.3, 2.0, 9.9, 12.0, 40.0, 252.0, 700.0] {
            assert!(laws.push_poisson(lambda));
        }
        for i in 0..laws.len() {
            let (cdf, guide) = laws.parts(i);
            assert!((cdf.last().unwrap() - 1.0).abs() < 1e-12, "law {i}");
            let b = guide.len();
            let us = (0..=4 * b).map(|j| j as f64 / (4 * b) as f64).chain(cdf.iter().copied());
            for u in us.filter(|u| *u < 1.0) {
                let g = ((u * b as f64) as usize).min(b - 1);
                let start = guide[g] as usize;
                let want = cdf.iter().position(|c| u < *c);
                if let Some(want) = want {
                    assert!(start <= want, "law {i}, u {u}: guide {start} past {want}");
                }
            }
        }
        assert!(!laws.push_poisson(0.0) && !laws.push_poisson(701.0) && !laws.push_poisson(f64::NAN));
        assert_eq!(laws.len(), 8);
    }
}
