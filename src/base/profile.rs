//! Wall time by stage of the day loop, summed over a replication's days: where a large run
//! spends its time. Off unless `CPSIM_PROFILE` is set; then each replication prints its table to
//! standard error when it ends (result files are untouched).

use std::time::{Duration, Instant};

/// Stage timer: `lap(name)` charges the time since the previous lap to `name`.
pub struct Stages {
    on: bool,
    last: Instant,
    sums: Vec<(&'static str, Duration)>,
}

impl Default for Stages {
    fn default() -> Stages {
        Stages { on: std::env::var_os("CPSIM_PROFILE").is_some(), last: Instant::now(), sums: Vec::new() }
    }
}

impl Stages {
    /// Starts the clock without charging anything (the beginning of a day).
    #[inline]
    pub fn start(&mut self) {
        if self.on {
            self.last = Instant::now();
        }
    }

    /// Charges the time since the last lap (or start) to `name`.
    #[inline]
    pub fn lap(&mut self, name: &'static str) {
        if !self.on {
            return;
        }
        let now = Instant::now();
        let spent = now - self.last;
        self.last = now;
        match self.sums.iter_mut().find(|(n, _)| *n == name) {
            Some((_, d)) => *d += spent,
            None => self.sums.push((name, spent)),
        }
    }

    /// The table, stages in the order first seen, with seconds and shares of the total; `None`
    /// when profiling is off.
    pub fn report(&self) -> Option<String> {
        if !self.on {
            return None;
        }
        let total: f64 = self.sums.iter().map(|(_, d)| d.as_secs_f64()).sum();
        let mut out = format!("{:<24} {:>9} {:>6}\n", "stage", "seconds", "share");
        for (name, d) in &self.sums {
            let t = d.as_secs_f64();
            out += &format!("{name:<24} {t:>9.2} {:>5.1}%\n", 100.0 * t / total.max(1e-12));
        }
        out += &format!("{:<24} {total:>9.2}\n", "total");
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_add_up_by_name() {
        let mut s = Stages { on: true, ..Default::default() };
        s.start();
        s.lap("a");
        s.lap("b");
        s.lap("a");
        assert_eq!(s.sums.iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["a", "b"]);
        let r = s.report().unwrap();
        assert!(r.contains("stage") && r.contains("total"), "{r}");
        assert!(Stages { on: false, ..Default::default() }.report().is_none());
    }
}
