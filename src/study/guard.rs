//! Resource guards: before a run starts, a rough estimate of its peak memory and of its work,
//! so that a typo (a billion creators, a sweep of millions of replications) is refused at once
//! with the key to change, instead of swapping the machine to a halt hours later.
//!
//! The estimate is deliberately coarse (bytes per creator, per live clip, per plan, per day of
//! the daily table), tuned to be on the generous side of what `sim` allocates; `--force` skips
//! the guard for a user who knows better.

use crate::model::metrics::NFLOW;
use crate::scenario::Scenario;
use crate::study::sweep::Study;
use std::fmt;

/// Refused when more units (variant x replication) than this.
pub const MAX_UNITS: u64 = 10_000_000;
/// Refused when more creator-days (creators x days, summed over every unit) than this.
pub const MAX_CREATOR_DAYS: f64 = 1e13;
/// Memory assumed when `/proc/meminfo` cannot be read.
pub const FALLBACK_MEMORY: u64 = 16 << 30;

/// What a run is expected to need.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Units of work: (variant, replication) pairs.
    pub units: u64,
    /// Replications running at the same time: min(threads, units).
    pub concurrent: u64,
    /// Peak memory of the largest replication, bytes.
    pub per_replication: f64,
    /// Results of finished replications held until their variant is complete, bytes.
    pub held: f64,
    /// Peak memory of the run: `concurrent x per_replication + held`, bytes.
    pub peak: f64,
    /// Creators x days over every unit.
    pub creator_days: f64,
    /// The scenario key whose value drives the estimate most.
    pub key: &'static str,
}

/// Why a run was refused.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub estimate: Estimate,
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.estimate;
        write!(
            f,
            "refusing to run: {}\n  estimate: {} units (variant x replication), {} at a time, ~{} per replication, \
             ~{} peak memory, {:.3e} creator-days\n  change `{}` (or --reps / the sweep), or pass --force to run anyway",
            self.reason,
            e.units,
            e.concurrent,
            bytes(e.per_replication),
            bytes(e.peak),
            e.creator_days,
            e.key
        )
    }
}

/// A byte count for people: `1.5 GiB`.
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut x = b;
    let mut u = 0;
    while x >= 1024.0 && u < UNITS.len() - 1 {
        x /= 1024.0;
        u += 1;
    }
    format!("{x:.1} {}", UNITS[u])
}

/// Peak memory of one replication of `s`, bytes, and the key that drives it most.
pub fn replication_bytes(s: &Scenario) -> (f64, &'static str) {
    let creators = s.creators.count as f64;
    let ncat = s.categories.len().max(1) as f64;
    // The burn-in's days run (and hold plans) like the reported ones.
    let days = (s.days + s.burn_in_days) as f64;
    // Per creator: beliefs per category and the per-creator arrays (followers, quality...).
    let per_creator = creators * ncat * 8.0 + creators * 60.0;
    // Live clips: every creator posting for a clip's lifetime (at most the run's length).
    let lifetime = (s.feed.lifetime_days.min(s.days)) as f64;
    let clips = creators * s.creators.posts_per_day * lifetime * 120.0;
    // Titles and their plans, relaunches included (one plan a title a plan-length).
    let plan_days = s.operators.plan_days_min.max(1) as f64;
    let titles = s.operators.titles as f64;
    let plans = titles * 160.0 * (1.0 + days / plan_days).min(1e6);
    // The daily table: days x (category, landing) cells of NFLOW counters.
    let daily = days * ncat * 2.0 * NFLOW as f64 * 8.0;
    // The detail tables of replication 0 (creators.csv, plans.csv) as text.
    let detail = creators * 64.0 + titles * 128.0;
    let total = per_creator + clips + plans + daily + detail + 1e6;
    // Creators drive both the per-creator arrays and the live clips.
    let key = if plans > per_creator + clips { "operators.titles" } else { "creators.count" };
    (total, key)
}

/// Estimates a run of `studies` on `threads` worker threads.
pub fn estimate(studies: &[Study], threads: usize) -> Estimate {
    let mut units: u64 = 0;
    let mut per_replication: f64 = 0.0;
    let mut held: f64 = 0.0;
    let mut creator_days = 0.0;
    let mut key = "creators.count";
    for st in studies {
        for v in &st.variants {
            let s = &v.scenario;
            let reps = s.replications as u64;
            units = units.saturating_add(reps);
            let (b, k) = replication_bytes(s);
            if b > per_replication {
                per_replication = b;
                key = k;
            }
            // A variant's finished replications wait for its last one: its daily tables.
            let rep_result = s.days as f64 * s.categories.len().max(1) as f64 * 2.0 * NFLOW as f64 * 8.0 + 4096.0;
            held = f64::max(held, rep_result * reps as f64);
            creator_days += s.creators.count as f64 * (s.days + s.burn_in_days) as f64 * reps as f64;
        }
    }
    let concurrent = (threads.max(1) as u64).min(units.max(1));
    let peak = per_replication * concurrent as f64 + held;
    Estimate { units, concurrent, per_replication, held, peak, creator_days, key }
}

/// Refuses an estimate that exceeds `memory` bytes or the work limits.
pub fn check(e: &Estimate, memory: u64) -> Result<(), Refusal> {
    let refuse = |reason: String, key: &'static str| Err(Refusal { estimate: Estimate { key, ..e.clone() }, reason });
    if e.units > MAX_UNITS {
        return refuse(
            format!("{} units of work (variant x replication) is more than the limit of {MAX_UNITS}", e.units),
            "scenario.replications",
        );
    }
    if e.creator_days > MAX_CREATOR_DAYS {
        return refuse(
            format!("{:.3e} creator-days is more than the limit of {MAX_CREATOR_DAYS:.0e}", e.creator_days),
            if e.units > 1000 { "scenario.replications" } else { "creators.count" },
        );
    }
    if e.peak > memory as f64 {
        return refuse(
            format!(
                "the run would need ~{} of memory, more than the {} available",
                bytes(e.peak),
                bytes(memory as f64)
            ),
            e.key,
        );
    }
    Ok(())
}

/// Memory this machine can give a run: `MemAvailable` of `/proc/meminfo`, else 16 GiB.
/// `CPSIM_MEMORY_BYTES` overrides it (for tests and for batch engines with their own limits).
pub fn available_memory() -> u64 {
    if let Some(b) = std::env::var("CPSIM_MEMORY_BYTES").ok().and_then(|v| v.trim().parse::<u64>().ok()) {
        return b;
    }
    std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| parse_meminfo(&t)).unwrap_or(FALLBACK_MEMORY)
}

/// `MemAvailable:  123456 kB` in bytes.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// The guard as the command line runs it: estimate, then refuse unless `force`.
pub fn guard(studies: &[Study], threads: usize, force: bool) -> Result<Estimate, Refusal> {
    let e = estimate(studies, threads);
    if !force {
        check(&e, available_memory())?;
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_meminfo() {
        let t = "MemTotal:       16303152 kB\nMemFree:         1000 kB\nMemAvailable:    2048 kB\n";
        assert_eq!(parse_meminfo(t), Some(2048 * 1024));
        assert_eq!(parse_meminfo("nothing"), None);
    }

    #[test]
    fn bytes_are_readable() {
        assert_eq!(bytes(512.0), "512.0 B");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5 GiB");
    }
}
