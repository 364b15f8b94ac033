//! Exact money: integer fen, rates in parts per million, and the one rounding rule of the ledger.
//!
//! Every share of an amount is `floor(amount * ppm / 1_000_000)`; the last party of a split takes
//! the remainder, so a split always adds up to the fen (MODEL.md sec. 1).

/// One million: a rate of 1.0 in parts per million.
pub const PPM: i64 = 1_000_000;

/// Money in fen (0.01 RMB).
pub type Fen = i64;

/// A rate in parts per million (0..=1_000_000 for shares).
pub type Ppm = u32;

/// `floor(amount * rate_ppm / 1e6)` for a non-negative amount, exact for any amount a ledger can
/// hold (see [`mul_div`]).
#[inline]
pub fn share(amount_fen: Fen, rate_ppm: Ppm) -> Fen {
    debug_assert!(amount_fen >= 0);
    mul_div(amount_fen, rate_ppm as i64, PPM)
}

/// `a * b / d` truncated, exact for any i64 operands whose result fits: in 64 bits when the
/// product does (every amount below about 92 billion RMB at a ppm rate), where dividing by a
/// constant is a multiplication, else in 128 bits, where it is a library call (it was 3% of a
/// national run's time).
#[inline]
pub fn mul_div(a: i64, b: i64, d: i64) -> i64 {
    match a.checked_mul(b) {
        Some(p) => p / d,
        None => (a as i128 * b as i128 / d as i128) as i64,
    }
}

/// Turns a decimal rate (already checked to lie in its range) into ppm, rounding to nearest.
pub fn to_ppm(rate: f64) -> Ppm {
    (rate * PPM as f64).round().clamp(0.0, u32::MAX as f64) as Ppm
}

/// Turns RMB (a decimal from the scenario) into fen, rounding to nearest.
pub fn rmb_to_fen(rmb: f64) -> Fen {
    (rmb * 100.0).round() as Fen
}

/// Fen as RMB for reports (floats only leave the ledger here, for printing).
pub fn fen_to_rmb(fen: Fen) -> f64 {
    fen as f64 / 100.0
}

/// Formats fen as RMB with exactly two decimals, without going through a float.
pub fn format_rmb(fen: Fen) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn share_rounds_down() {
        assert_eq!(share(999, 500_000), 499);
        assert_eq!(share(1, 999_999), 0);
        assert_eq!(share(i64::MAX / 2, PPM as Ppm), i64::MAX / 2);
    }

    #[test]
    fn formats_two_decimals() {
        assert_eq!(format_rmb(0), "0.00");
        assert_eq!(format_rmb(990), "9.90");
        assert_eq!(format_rmb(-5), "-0.05");
        assert_eq!(format_rmb(123_456_789), "1234567.89");
    }

    proptest! {
        /// The 64-bit path and the 128-bit path agree wherever both apply, and beyond.
        #[test]
        fn mul_div_is_exact(a in 0i64..i64::MAX, b in 0i64..=1_000_000_000, d in 1i64..=1_000_000) {
            let wide = a as i128 * b as i128 / d as i128;
            if let Ok(x) = i64::try_from(wide) {
                prop_assert_eq!(mul_div(a, b, d), x);
            }
        }

        #[test]
        fn share_never_exceeds_amount(a in 0i64..1_000_000_000_000, r in 0u32..=1_000_000) {
            let s = share(a, r);
            prop_assert!(s >= 0 && s <= a);
            // The remainder is what the last party takes: the split adds up.
            prop_assert_eq!(s + (a - s), a);
        }
    }
}
