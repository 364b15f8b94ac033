//! Order-keeping gathers of many records on all threads: the `Some`s of a vector of options
//! appended to a vector (the day's new cohorts: one thread copying them over took 1.1 s of a
//! 25-day national run).

use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Records per piece: large enough that a piece's task costs far more than its scheduling,
/// small enough that the pieces spread evenly over the threads.
const PIECE: usize = 1 << 14;

/// Appends the `Some`s of `from`, in their order, to `to`, and empties `from`: the same vector
/// as `to.extend(from.drain(..).flatten())`, written in parallel. The `Some`s are counted piece
/// by piece first, so that each piece knows where in `to` its own go.
pub fn append_somes<T: Copy + Send + Sync>(to: &mut Vec<T>, from: &mut Vec<Option<T>>) {
    let counts: Vec<usize> = from.par_chunks(PIECE).map(|p| p.iter().flatten().count()).collect();
    let total: usize = counts.iter().sum();
    to.reserve(total);
    let mut rest: &mut [MaybeUninit<T>] = &mut to.spare_capacity_mut()[..total];
    let mut outs = Vec::with_capacity(counts.len());
    for &n in &counts {
        let (head, tail) = rest.split_at_mut(n);
        outs.push(head);
        rest = tail;
    }
    from.par_chunks(PIECE).zip(outs).for_each(|(piece, out)| {
        for (slot, v) in out.iter_mut().zip(piece.iter().flatten()) {
            slot.write(*v);
        }
    });
    // SAFETY: the `total` slots after the length are initialised: piece k's `counts[k]` slots
    // were written, one each, by the `counts[k]` `Some`s of piece k that were just counted (the
    // zip of two iterators of that same length), and `T: Copy` has no drop to run twice.
    unsafe { to.set_len(to.len() + total) };
    from.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same vector as the one-thread version, over lengths across several pieces (and
        /// empty ones, and pieces all `Some` or all `None`).
        #[test]
        fn same_as_one_thread(
            len in 0usize..5 * PIECE,
            every in 1u64..9,
            start in 0usize..100,
            runs in 0u64..3,
        ) {
            let hit = |x: u64| match runs {
                0 => x % every == 0,
                1 => (x / PIECE as u64) % 2 == 0,
                _ => x % every != 0,
            };
            let from: Vec<Option<u64>> = (0..len as u64).map(|x| hit(x).then_some(x * 3)).collect();
            let base: Vec<u64> = (0..start as u64).collect();
            let (mut a, mut b) = (base.clone(), base.clone());
            a.extend(from.clone().into_iter().flatten());
            let mut f = from.clone();
            append_somes(&mut b, &mut f);
            prop_assert_eq!(&a, &b);
            prop_assert!(f.is_empty());
        }
    }
}
