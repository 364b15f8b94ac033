//! Walker's alias method (Vose's construction): a weighted draw from n items in constant time.
//!
//! Each of n equally likely columns keeps its own item with a probability and otherwise gives
//! way to one other item, its alias; the columns are built so that every item's total mass is
//! its share of the weights. A draw is one 64-bit number: its product with n names the column
//! (high half) and decides keep-or-alias (low half), one memory load instead of a search.

use rand::RngCore;

/// 2^64 as a float: a keep probability `q` is stored as the threshold `q * 2^64`.
const SCALE: f64 = 18_446_744_073_709_551_616.0;

/// The columns of the alias table of `weights` (all finite and >= 0): `(keep, alias)`, where
/// column `j` yields item `j` when the coin is below `keep` and item `alias` otherwise. Weights
/// that sum to zero give every item the same mass.
pub fn columns(weights: &[f64]) -> Vec<(u64, u32)> {
    let n = weights.len();
    let total: f64 = weights.iter().sum();
    // Every column starts by keeping its own item, which is what the zero-sum case and the
    // columns left at the end keep.
    let mut out: Vec<(u64, u32)> = (0..n as u32).map(|j| (u64::MAX, j)).collect();
    if n == 0 || total <= 0.0 || !total.is_finite() {
        return out;
    }
    // Scaled masses: 1 is a column's worth. Small ones (< 1) are topped up from large ones.
    let mut mass: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
    let (mut small, mut large): (Vec<u32>, Vec<u32>) = (0..n as u32).partition(|&j| mass[j as usize] < 1.0);
    while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
        small.pop();
        out[s as usize] = (threshold(mass[s as usize]), l);
        // Computed as (l + s) - 1 rather than l - (1 - s): the form Vose shows loses less.
        mass[l as usize] = (mass[l as usize] + mass[s as usize]) - 1.0;
        if mass[l as usize] < 1.0 {
            large.pop();
            small.push(l);
        }
    }
    // What is left holds a mass of 1 up to rounding: it keeps its own item.
    out
}

/// A keep probability as a threshold on a uniform 64-bit coin.
fn threshold(q: f64) -> u64 {
    if q >= 1.0 {
        u64::MAX
    } else {
        (q.max(0.0) * SCALE) as u64
    }
}

/// One draw's column (uniform on `0..n`, n >= 1) and coin (uniform 64 bits) from one 64-bit
/// number: the high and low halves of its product with n. The column's bias is below n / 2^64,
/// and the coin keeps at least 64 - log2(n) bits of resolution, finer than any keep probability
/// rounded to a float.
#[inline]
pub fn column_and_coin<R: RngCore + ?Sized>(rng: &mut R, n: usize) -> (usize, u64) {
    let m = rng.next_u64() as u128 * n as u128;
    ((m >> 64) as usize, m as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::{stream, Kind};
    use proptest::prelude::*;

    /// Each item's exact mass under the table: its columns' keep shares and the alias shares
    /// that point at it, each column worth 1 / n.
    fn masses(cols: &[(u64, u32)]) -> Vec<f64> {
        let n = cols.len() as f64;
        let mut m = vec![0.0; cols.len()];
        for (j, &(keep, alias)) in cols.iter().enumerate() {
            let q = keep as f64 / SCALE;
            m[j] += q / n;
            m[alias as usize] += (1.0 - q) / n;
        }
        m
    }

    proptest! {
        /// Every item's mass is its share of the weights, for weights spanning orders of
        /// magnitude as popularity's do.
        #[test]
        fn each_item_gets_its_share(
            weights in prop::collection::vec(prop_oneof![Just(0.0), 1e-6..1e-3f64, 0.5..2.0f64, 1e3..1e6f64], 1..400),
        ) {
            let total: f64 = weights.iter().sum();
            prop_assume!(total > 0.0);
            let cols = columns(&weights);
            for (j, (m, w)) in masses(&cols).iter().zip(&weights).enumerate() {
                prop_assert!((m - w / total).abs() < 1e-12, "item {j}: mass {m}, share {}", w / total);
                prop_assert!((cols[j].1 as usize) < weights.len());
            }
        }
    }

    #[test]
    fn zero_weights_are_uniform() {
        for m in masses(&columns(&[0.0; 7])) {
            assert!((m - 1.0 / 7.0).abs() < 1e-15);
        }
        assert!(columns(&[]).is_empty());
    }

    /// Draws match the weights: a chi-square goodness-of-fit test on 10 items.
    #[test]
    fn draws_follow_the_weights() {
        let weights = [1.0, 2.0, 3.0, 0.5, 10.0, 0.0, 7.0, 1.5, 4.0, 0.25];
        let cols = columns(&weights);
        let draws = 1_000_000;
        let mut counts = [0u64; 10];
        let mut r = stream(19, Kind::Choice, 0, 0);
        for _ in 0..draws {
            let (j, coin) = column_and_coin(&mut r, cols.len());
            let (keep, alias) = cols[j];
            counts[if coin < keep { j } else { alias as usize }] += 1;
        }
        assert_eq!(counts[5], 0, "a zero weight is never drawn");
        let total: f64 = weights.iter().sum();
        let chi2: f64 = weights
            .iter()
            .zip(counts)
            .filter(|(w, _)| **w > 0.0)
            .map(|(w, c)| {
                let e = w / total * draws as f64;
                (c as f64 - e).powi(2) / e
            })
            .sum();
        // 8 degrees of freedom: the 99.99th percentile is 31.8.
        assert!(chi2 < 31.8, "chi2 {chi2}");
    }
}
