//! The plan square and plan choice: what a creator sees and which (plan, format) it posts on.
//!
//! Each day the square is frozen into a [`SquareView`] (weights, shown EPC, expected subsidies);
//! creators then choose in parallel against that read-only view, each from its own stream, so the
//! choices do not depend on the order in which threads visit creators (MODEL.md sec. 3).

use crate::base::alias;
use crate::base::money::PPM;
use crate::base::rng::{self, Kind};
use crate::model::operators::Market;
use crate::model::population::Creators;
use crate::scenario::{FormatKind, Landing, Sampling, Scenario, SubsidyForm};
use rand::Rng;
use rayon::prelude::*;

/// One posting decision: creator `creator` posts a clip of `format` on plan `plan`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    pub creator: u32,
    pub plan: u32,
    pub format: FormatKind,
    /// The clip's quality noise, LogNormal(0, sigma_q), drawn from the creator's stream.
    pub noise: f32,
}

/// The square as creators see it on one day.
pub struct SquareView {
    /// Plans in the square: open, started, and promotable today.
    pub plans: Vec<u32>,
    /// The alias table of the popularity weights, same order as `plans`, each column carrying
    /// what a choice reads of its own plan, so that a draw that keeps its column has its record
    /// in the same cache line.
    columns: Vec<Column>,
    image_text_allowed: bool,
    /// Per category: expected subsidy per clip that does not depend on the creator, RMB, and the
    /// commission top-up share.
    subsidy_flat_rmb: Vec<f64>,
    subsidy_topup: Vec<f64>,
    /// Per-clip bonus programs open today: (program, categories mask, bonus RMB, first n clips).
    per_clip: Vec<(usize, Vec<bool>, f64, u32)>,
}

/// A plan as the choice reads it: its category, commission rate, and `epc_weight * EPC / tau`,
/// the part of its utility that does not depend on the creator.
#[derive(Clone, Copy, Debug)]
struct Packed {
    category: u16,
    rate: f64,
    epc_u: f64,
}

/// Per category and format, once per choosing creator: an option's utility is
/// `rate * per_rate + plan's epc_u + fixed` (see [`SquareView::choose`]).
#[derive(Clone, Copy, Debug, Default)]
struct Terms {
    per_rate: f64,
    fixed: f64,
}

/// [`Terms`] of one category, for video and for image-text.
type CategoryTerms = [Terms; 2];

/// One column of the square's alias table (see [`alias`]) and the record of its own plan: 32
/// bytes, two to a cache line.
#[repr(C, align(32))]
#[derive(Clone, Copy, Debug)]
struct Column {
    keep: u64,
    rate: f64,
    epc_u: f64,
    alias: u32,
    category: u16,
}

const _: () = assert!(std::mem::size_of::<Column>() == 32);

impl Column {
    fn packed(&self) -> Packed {
        Packed { category: self.category, rate: self.rate, epc_u: self.epc_u }
    }
}

/// The alias columns of `weights`, each with its own plan's record from `packed`.
fn columns(weights: &[f64], packed: &[Packed]) -> Vec<Column> {
    alias::columns(weights)
        .into_iter()
        .zip(packed)
        .map(|((keep, alias), p)| Column { keep, rate: p.rate, epc_u: p.epc_u, alias, category: p.category })
        .collect()
}

/// State the square keeps across days: the category means behind priors and subsidy estimates.
#[derive(Clone)]
pub struct SquareStats {
    /// Mean net revenue per clip by category, RMB (the prior of EPC and of new creators).
    pub mean_revenue_rmb: Vec<f64>,
    /// Mean opens per clip by category (for the per-open subsidy estimate).
    pub mean_opens: Vec<f64>,
}

impl SquareView {
    pub fn build(s: &Scenario, market: &Market, stats: &SquareStats, subsidy_left: &[i64], day: u32) -> SquareView {
        let date = s.date(day);
        let jump = date >= s.platform.jump_to_wechat_from;
        let sq = &s.square;
        let mut v = SquareView {
            plans: Vec::new(),
            columns: Vec::new(),
            image_text_allowed: date >= s.platform.image_text_from,
            subsidy_flat_rmb: vec![0.0; s.categories.len()],
            subsidy_topup: vec![0.0; s.categories.len()],
            per_clip: Vec::new(),
        };
        let mut weights = Vec::new();
        let mut packed = Vec::new();
        for (id, p) in market.plans.iter().enumerate() {
            if !p.open || p.start_day > day as i32 || (p.landing == Landing::Wechat && !jump) {
                continue;
            }
            let rate = p.rate_ppm as f64 / PPM as f64;
            let clips = p.clips_week() as f64;
            let prior = rate * stats.mean_revenue_rmb[p.category as usize];
            let epc = (p.commission_week() as f64 / 100.0 + sq.epc_prior_clips * prior)
                / (clips + sq.epc_prior_clips).max(1e-9);
            let w = match sq.sampling {
                Sampling::Popularity => (clips + 1.0).powf(sq.popularity_exponent),
                Sampling::Uniform => 1.0,
            };
            weights.push(w);
            v.plans.push(id as u32);
            packed.push(Packed { category: p.category, rate, epc_u: sq.epc_weight * epc / sq.temperature_rmb });
        }
        v.columns = columns(&weights, &packed);
        for (k, prog) in s.subsidies.iter().enumerate() {
            if date < prog.from || date > prog.to || subsidy_left[k] <= 0 {
                continue;
            }
            match prog.form {
                SubsidyForm::CommissionTopup => {
                    for (c, on) in prog.categories.iter().enumerate() {
                        if *on {
                            v.subsidy_topup[c] += prog.topup_ppm as f64 / PPM as f64;
                        }
                    }
                }
                SubsidyForm::PerOpen => {
                    for (c, on) in prog.categories.iter().enumerate() {
                        if *on {
                            v.subsidy_flat_rmb[c] += prog.per_open_fen as f64 / 100.0 * stats.mean_opens[c];
                        }
                    }
                }
                SubsidyForm::PerClip => {
                    v.per_clip.push((k, prog.categories.clone(), prog.per_clip_fen as f64 / 100.0, prog.first_clips))
                }
            }
        }
        v
    }

    /// Step 4 of the day: every active creator's attempts and choices, in creator order, and the
    /// number of attempts made (posted or not). `program_clips[i * nprog + k]` counts creator i's
    /// clips in subsidy program k.
    pub fn choose_all(
        &self,
        s: &Scenario,
        creators: &Creators,
        program_clips: &[u32],
        rep_seed: u64,
        day: u32,
    ) -> (Vec<Choice>, u64) {
        if self.plans.is_empty() {
            return (Vec::new(), 0);
        }
        const CHUNK: usize = 2048;
        let n = creators.len();
        let chunks: Vec<(Vec<Choice>, u64)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut out = Vec::new();
                let mut attempts = 0;
                let mut scratch = Vec::with_capacity(s.square.sample_size);
                let mut options = Vec::with_capacity(2 * s.square.sample_size);
                let mut terms = Vec::with_capacity(creators.ncat);
                let streams = rng::Streams::new(rep_seed, Kind::Choice).on(day);
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    if creators.active[i] {
                        attempts += self.choose(
                            s,
                            creators,
                            program_clips,
                            i,
                            streams,
                            &mut scratch,
                            &mut options,
                            &mut terms,
                            &mut out,
                        );
                    }
                }
                (out, attempts)
            })
            .collect();
        let attempts = chunks.iter().map(|c| c.1).sum();
        (chunks.into_iter().flat_map(|c| c.0).collect(), attempts)
    }

    #[allow(clippy::too_many_arguments)]
    fn choose(
        &self,
        s: &Scenario,
        creators: &Creators,
        program_clips: &[u32],
        i: usize,
        streams: rng::DayStreams,
        sample: &mut Vec<(usize, Packed)>,
        options: &mut Vec<(usize, FormatKind, f64)>,
        terms: &mut Vec<CategoryTerms>,
        out: &mut Vec<Choice>,
    ) -> u64 {
        let mut r = streams.of(i as u64);
        let attempts = rng::poisson(&mut r, creators.lambda[i] as f64);
        if attempts == 0 {
            return 0;
        }
        let sq = &s.square;
        let nc = creators.ncat;
        let tau = sq.temperature_rmb;
        let outside = creators.reservation_rmb[i] as f64 / tau;
        let nprog = s.subsidies.len();
        // An option's utility is `e / tau + ln affinity`, with its expected take in RMB
        //   e = (1 - epc_weight) own + epc_weight EPC + topup own + flat + per_clip - cost,
        //   own = rate * learned * reach:
        // linear in the plan's rate, with coefficients that depend on the creator, the category and
        // the format but not on the plan, so they are found once per creator rather than once per
        // sampled plan. (The same utility in another order of operations: it can differ from the
        // one term at a time in the last bits only.)
        terms.clear();
        for c in 0..nc {
            let mut per_clip = 0.0;
            for (k, cats, bonus, first) in &self.per_clip {
                if cats[c] && program_clips.get(i * nprog + k).copied().unwrap_or(0) < *first {
                    per_clip += bonus;
                }
            }
            let learned = creators.learned_rmb[i * nc + c] as f64;
            let ln_a = creators.ln_affinity[i * nc + c] as f64;
            let share = (1.0 - sq.epc_weight) + self.subsidy_topup[c];
            terms.push([FormatKind::Video, FormatKind::ImageText].map(|f| {
                let fm = &s.formats[f as usize];
                Terms {
                    per_rate: learned * fm.reach * share / tau,
                    fixed: (self.subsidy_flat_rmb[c] + per_clip - fm.cost_rmb) / tau + ln_a,
                }
            }));
        }
        let formats: &[FormatKind] = if self.image_text_allowed && creators.image_text[i] {
            &[FormatKind::Video, FormatKind::ImageText]
        } else {
            &[FormatKind::Video]
        };
        for _ in 0..attempts {
            self.sample(&mut r, sq.sample_size, sample);
            options.clear();
            let mut best = outside;
            for &(j, p) in sample.iter() {
                let t = &terms[p.category as usize];
                for &f in formats {
                    let Terms { per_rate, fixed } = t[f as usize];
                    let u = p.rate * per_rate + p.epc_u + fixed;
                    best = best.max(u);
                    options.push((j, f, u));
                }
            }
            // Softmax over the options and the outside option, shifted by the maximum for range.
            let mut total = (outside - best).exp();
            for o in options.iter_mut() {
                o.2 = (o.2 - best).exp();
                total += o.2;
            }
            let mut x = r.random::<f64>() * total;
            for &(j, f, w) in options.iter() {
                if x < w {
                    out.push(Choice {
                        creator: i as u32,
                        plan: self.plans[j],
                        format: f,
                        noise: rng::lognormal_median(&mut r, 1.0, s.feed.quality_sigma) as f32,
                    });
                    break;
                }
                x -= w;
            }
        }
        attempts
    }

    /// Draws up to `k` distinct positions into the square and their records, weighted by
    /// popularity: draws with replacement, repeats discarded, at most `20 k` draws.
    fn sample(&self, r: &mut rng::Stream, k: usize, out: &mut Vec<(usize, Packed)>) {
        out.clear();
        let n = self.columns.len();
        if k >= n {
            out.extend(self.columns.iter().map(Column::packed).enumerate());
            return;
        }
        let mut tries = 0;
        while out.len() < k && tries < 20 * k {
            tries += 1;
            let (c, coin) = alias::column_and_coin(r, n);
            let col = &self.columns[c];
            let (j, p) = if coin < col.keep {
                (c, col.packed())
            } else {
                let a = col.alias as usize;
                (a, self.columns[a].packed())
            };
            if !out.iter().any(|o| o.0 == j) {
                out.push((j, p));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::stream;
    use crate::base::twosample::{compare, Z_BOUND};

    /// A square of the given popularity weights; plan j's record has rate j and epc_u -j.
    fn view(weights: &[f64]) -> SquareView {
        let packed: Vec<Packed> = (0..weights.len())
            .map(|j| Packed { category: (j % 3) as u16, rate: j as f64, epc_u: -(j as f64) })
            .collect();
        SquareView {
            plans: (0..weights.len() as u32).collect(),
            columns: columns(weights, &packed),
            image_text_allowed: false,
            subsidy_flat_rmb: Vec::new(),
            subsidy_topup: Vec::new(),
            per_clip: Vec::new(),
        }
    }

    /// The sample before issue 19, the reference: bisection over cumulative weights.
    fn old_sample(cum_weight: &[f64], r: &mut rng::Stream, k: usize, out: &mut Vec<usize>) {
        out.clear();
        let n = cum_weight.len();
        if k >= n {
            out.extend(0..n);
            return;
        }
        let total = cum_weight[n - 1];
        let mut tries = 0;
        while out.len() < k && tries < 20 * k {
            tries += 1;
            let x = r.random::<f64>() * total;
            let j = cum_weight.partition_point(|w| *w <= x).min(n - 1);
            if !out.contains(&j) {
                out.push(j);
            }
        }
    }

    /// What the tests compare of a sample (in draw order): its first, its last, its first two,
    /// the sum of its positions, and its size.
    fn statistics(s: &[usize], n: usize) -> [u64; 5] {
        let (first, last) = (s[0] as u64, *s.last().unwrap() as u64);
        let second = s.get(1).map_or(n as u64, |&j| j as u64);
        [first, last, first * (n as u64 + 1) + second, s.iter().sum::<usize>() as u64, s.len() as u64]
    }

    const NAMES: [&str; 5] = ["first", "last", "first two", "sum", "size"];

    /// The five statistics of `draws` samples, from the alias sample (`new`) or the reference.
    fn draw(weights: &[f64], k: usize, case: u64, new: bool, draws: usize) -> [Vec<u64>; 5] {
        let n = weights.len();
        let v = view(weights);
        let mut total = 0.0;
        let cum: Vec<f64> = weights
            .iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        let mut r = stream(19, Kind::Choice, case, new as u32);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut stats: [Vec<u64>; 5] = Default::default();
        for _ in 0..draws {
            let s: &[usize] = if new {
                v.sample(&mut r, k, &mut a);
                b.clear();
                b.extend(a.iter().map(|o| o.0));
                &b
            } else {
                old_sample(&cum, &mut r, k, &mut b);
                &b
            };
            for (x, st) in statistics(s, n).into_iter().zip(stats.iter_mut()) {
                st.push(x);
            }
        }
        stats
    }

    /// Popularity weights (clips + 1)^exponent, clips spread as a square's are: most plans
    /// with few clips, a few with thousands.
    fn popularity(n: usize, exponent: f64) -> Vec<f64> {
        (0..n).map(|j| ((j * 7919 % n) as f64).powf(2.0).mul_add(1e4 / (n * n) as f64, 1.0).powf(exponent)).collect()
    }

    /// The largest |z| of the five statistics between the alias sample and the reference.
    fn worst(label: &str, weights: &[f64], k: usize, case: u64, draws: usize) -> f64 {
        let (a, b) = (draw(weights, k, case, true, draws), draw(weights, k, case, false, draws));
        let mut worst: f64 = 0.0;
        for (name, (a, b)) in NAMES.iter().zip(a.iter().zip(&b)) {
            let t = compare(a, b);
            eprintln!("{label}, {name}: chi2 z {:.2} (df {}), mean z {:.2}", t.chi2_z, t.df, t.mean_z);
            worst = worst.max(t.worst());
        }
        worst
    }

    /// The alias table's sample draws from the same distribution as the bisection it replaced:
    /// the same statistics of samples agree, across square sizes, skews and the tries cap.
    #[test]
    fn alias_sample_matches_bisection() {
        let mut skewed = vec![1.0; 30];
        skewed[3] = 1e6;
        let cases: Vec<(&str, Vec<f64>, usize)> = vec![
            ("3 plans, k 2", vec![1.0, 5.0, 0.2], 2),
            ("10 uniform, k 3", vec![1.0; 10], 3),
            ("40 popular, k 5", popularity(40, 1.0), 5),
            ("200 wide, k 20", (0..200).map(|j| 10f64.powi(j % 7 - 3)).collect(), 20),
            ("1000 popular, k 20", popularity(1000, 1.0), 20),
            ("10000 popular, k 20", popularity(10_000, 0.7), 20),
            ("tries cap: one plan of 10^6, k 10", skewed, 10),
        ];
        let mut largest: f64 = 0.0;
        for (case, (label, weights, k)) in cases.iter().enumerate() {
            let w = worst(label, weights, *k, case as u64, 200_000);
            assert!(w < Z_BOUND, "{label}: |z| {w:.2}");
            largest = largest.max(w);
        }
        eprintln!("largest |z| {largest:.2} of {} statistics", 5 * cases.len());
    }

    /// The test above has power: a 1% larger popularity exponent, sampled by the reference,
    /// is told apart from the alias table's sample of the original.
    #[test]
    fn a_one_percent_shift_is_detected() {
        let (weights, shifted) = (popularity(40, 1.0), popularity(40, 1.01));
        let draws = 1_000_000;
        let a = draw(&weights, 5, 99, true, draws);
        let b = draw(&shifted, 5, 99, false, draws);
        let t = compare(&a[3], &b[3]);
        eprintln!("1% shift, sum: chi2 z {:.2}, mean z {:.2}", t.chi2_z, t.mean_z);
        assert!(t.worst() > Z_BOUND, "{t:?}");
    }

    #[test]
    fn sampled_records_are_their_plans() {
        let v = view(&popularity(500, 1.0));
        let mut r = stream(19, Kind::Choice, 7, 0);
        let mut out = Vec::new();
        for _ in 0..1000 {
            v.sample(&mut r, 20, &mut out);
            assert_eq!(out.len(), 20);
            for (j, p) in &out {
                assert_eq!((p.rate, p.epc_u, p.category), (*j as f64, -(*j as f64), (*j % 3) as u16));
            }
        }
        v.sample(&mut r, 600, &mut out);
        assert!(out.iter().enumerate().all(|(i, (j, p))| i == *j && p.rate == i as f64));
    }
}
