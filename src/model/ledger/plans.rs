//! The plans' side of booking: a run's sums by plan, the day's sums kept across the day's runs
//! and charged to the plans once, and what each budget has left meanwhile.

use crate::base::money::Fen;
use crate::model::operators::{Plan, UNLIMITED};
use rayon::prelude::*;

/// One run's events of one plan, summed (commission after any cut for a budget with nothing
/// left). Half a cache line, aligned so that one never straddles two: the walk adds to the sum
/// of a scattered plan for nearly every event, and with 48 bytes half of them took two lines.
#[derive(Clone, Copy, Default)]
#[repr(align(32))]
pub(super) struct PlanSum {
    pub(super) opens: u64,
    pub(super) commission: Fen,
    pub(super) gmv: Fen,
    pub(super) net: Fen,
}

const _: () = assert!(std::mem::size_of::<PlanSum>() == 32);

impl PlanSum {
    fn absorb(&mut self, o: &PlanSum) {
        self.opens += o.opens;
        self.commission += o.commission;
        self.gmv += o.gmv;
        self.net += o.net;
    }

    /// Books the sums on a plan whose budget had room for all of it (or nothing left at all);
    /// `closed`: some commission was cut because the budget had nothing left.
    pub(super) fn charge(&self, plan: &mut Plan, day: u32, closed: bool) {
        plan.opens += self.opens;
        if closed {
            plan.budget_out_day.get_or_insert(day);
            plan.open = false;
        }
        plan.used_fen += self.commission;
        debug_assert!(plan.budget_fen == UNLIMITED || plan.used_fen <= plan.budget_fen);
        plan.commission_fen += self.commission;
        plan.gmv_fen += self.gmv;
        plan.commission_7d[(day % 7) as usize] += self.commission;
        plan.review_commission_fen += self.commission;
        // Operator net: after refunds, fees and commission.
        plan.review_net_fen += self.net - self.commission;
        plan.net_fen += self.net - self.commission;
    }
}

/// A bit a plan: small enough to stay in the first-level cache while the walk's events stream by.
#[derive(Clone, Default)]
pub(super) struct Bits(pub(super) Vec<u64>);

impl Bits {
    /// `n` bits, all clear.
    pub(super) fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    /// All clear again, for `n` bits, keeping the allocation.
    pub(super) fn reset(&mut self, n: usize) {
        self.0.clear();
        self.0.resize(n.div_ceil(64), 0);
    }

    pub(super) fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    /// Sets bit `i`, and says whether it was clear.
    pub(super) fn set(&mut self, i: usize) -> bool {
        let was = self.get(i);
        self.0[i / 64] |= 1 << (i % 64);
        !was
    }

    pub(super) fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// The positions of the set bits of `word`, lowest first.
pub(super) fn ones(mut word: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (word != 0).then(|| {
            let b = word.trailing_zeros() as usize;
            word &= word - 1;
            b
        })
    })
}

/// One walker's sums of a run by plan: the plans it touched, those some commission of which it
/// cut, and the sums.
pub(super) struct RunSums<'a> {
    pub(super) touched: &'a Bits,
    pub(super) closed: &'a Bits,
    pub(super) sums: &'a [PlanSum],
}

/// Plans a piece of the day's merge takes: whole words of the bits.
const PIECE: usize = 1024;

/// The plans' sums of one day's runs. A run adds its sums here rather than on the plans'
/// records (200 bytes each, scattered), which are charged once as the day's booking closes:
/// charging every run's (about 90 a day at national scale) took 0.84 s of the 25-day national
/// run's 7.3 s of booking on one thread. What each budget has left is kept beside the sums, for
/// the next run's caps.
#[derive(Clone, Default)]
pub(super) struct PlanDay {
    /// The day whose books are open.
    day: Option<u32>,
    sums: Vec<PlanSum>,
    touched: Bits,
    closed: Bits,
    /// What each plan's budget has left after the runs booked so far ([`UNLIMITED`] for none),
    /// and a bit for each plan with nothing left (whose every commission the walk cuts).
    pub(super) left: Vec<Fen>,
    pub(super) spent: Bits,
}

impl PlanDay {
    /// Opens `day`'s books on the plans as they stand, first closing any other day's.
    pub(super) fn open(&mut self, plans: &mut [Plan], day: u32) {
        if self.day == Some(day) && self.left.len() == plans.len() {
            return;
        }
        self.close(plans);
        let n = plans.len();
        self.sums.clear();
        self.sums.resize(n, PlanSum::default());
        self.touched.reset(n);
        self.closed.reset(n);
        self.left.clear();
        self.left.resize(n, 0);
        self.spent.reset(n);
        for (p, plan) in plans.iter().enumerate() {
            self.set_left(p, plan.budget_left());
        }
        self.day = Some(day);
    }

    /// Charges the day's sums to their plans, in parallel by pieces of plans.
    pub(super) fn close(&mut self, plans: &mut [Plan]) {
        let Some(day) = self.day.take() else { return };
        plans
            .par_chunks_mut(PIECE)
            .zip(self.sums.par_chunks_mut(PIECE))
            .zip(self.touched.0.par_chunks_mut(PIECE / 64).zip(self.closed.0.par_chunks_mut(PIECE / 64)))
            .for_each(|((plans, sums), (touched, closed))| {
                for (w, (t, c)) in touched.iter_mut().zip(closed.iter_mut()).enumerate() {
                    let cut = std::mem::take(c);
                    for b in ones(std::mem::take(t)) {
                        let i = w * 64 + b;
                        sums[i].charge(&mut plans[i], day, cut >> b & 1 == 1);
                        sums[i] = PlanSum::default();
                    }
                }
            });
    }

    /// Charges plan `p`'s sums of the day so far, so that its record stands as if every run had
    /// been charged to it: before its events are booked on it one by one.
    pub(super) fn charge_now(&mut self, p: usize, plan: &mut Plan) {
        let day = self.day.expect("the day's books are open");
        if self.touched.get(p) {
            self.sums[p].charge(plan, day, self.closed.get(p));
            self.sums[p] = PlanSum::default();
            self.touched.clear(p);
            self.closed.clear(p);
        }
    }

    /// Sets what plan `p`'s budget has left, as its record now says after booking events on it
    /// one by one.
    pub(super) fn set_left(&mut self, p: usize, left: Fen) {
        self.left[p] = left;
        if left <= 0 {
            self.spent.set(p);
        }
    }

    /// Adds a run's sums, plan by plan, where the budget has room for the plan's (or nothing
    /// left at all); returns, in ascending order, the plans whose budget runs out within the run
    /// (every plan with budget left, `in_order_only`), whose events must be booked in order.
    pub(super) fn merge(&mut self, runs: &[RunSums], in_order_only: bool) -> Vec<u32> {
        let pieces: Vec<Vec<u32>> = self
            .sums
            .par_chunks_mut(PIECE)
            .zip(self.left.par_chunks_mut(PIECE).zip(self.spent.0.par_chunks_mut(PIECE / 64)))
            .zip(self.touched.0.par_chunks_mut(PIECE / 64).zip(self.closed.0.par_chunks_mut(PIECE / 64)))
            .enumerate()
            .map(|(k, ((sums, (left, spent)), (touched, closed)))| {
                let mut at_risk = Vec::new();
                for (w, (t, c)) in touched.iter_mut().zip(closed.iter_mut()).enumerate() {
                    let word = k * PIECE / 64 + w;
                    for b in ones(runs.iter().fold(0, |a, r| a | r.touched.0[word])) {
                        let (i, p) = (w * 64 + b, word * 64 + b);
                        let mut sum = PlanSum::default();
                        let mut cut = false;
                        for r in runs.iter().filter(|r| r.touched.get(p)) {
                            cut |= r.closed.get(p);
                            sum.absorb(&r.sums[p]);
                        }
                        if left[i] > 0 && (sum.commission > left[i] || in_order_only) {
                            at_risk.push(p as u32);
                            continue;
                        }
                        sums[i].absorb(&sum);
                        *t |= 1 << b;
                        *c |= (cut as u64) << b;
                        if left[i] != UNLIMITED {
                            left[i] -= sum.commission;
                            spent[w] |= ((left[i] <= 0) as u64) << b;
                        }
                    }
                }
                at_risk
            })
            .collect();
        pieces.concat()
    }
}
