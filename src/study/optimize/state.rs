//! What an optimisation has evaluated so far: per candidate, per replication, the objective and
//! constraint values. The search is a deterministic function of the spec and of these values, so
//! an interrupted run resumes by replaying the search over this cache: it runs only the units it
//! lacks and reaches the same result, byte for byte. Saved after every round.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Values of one replication of a candidate: the objective, then each constraint's metric, as
/// `f64` bits (exact through JSON); `None` where the metric is undefined in that replication.
pub type RepValues = Vec<Option<u64>>;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub cpsim_version: String,
    /// [`super::Optimization::hash`] of the problem this state belongs to.
    pub hash: String,
    /// Candidate key ([`super::search::point_key`]) -> replication -> values.
    pub evaluations: BTreeMap<String, BTreeMap<u32, RepValues>>,
}

impl State {
    pub fn new(hash: &str) -> Self {
        State { cpsim_version: env!("CARGO_PKG_VERSION").into(), hash: hash.into(), evaluations: BTreeMap::new() }
    }

    /// Runs done (candidate x replication).
    pub fn runs(&self) -> u64 {
        self.evaluations.values().map(|r| r.len() as u64).sum()
    }

    pub fn has(&self, key: &str, rep: u32) -> bool {
        self.evaluations.get(key).is_some_and(|r| r.contains_key(&rep))
    }

    pub fn insert(&mut self, key: &str, rep: u32, values: &[Option<f64>]) {
        let bits = values.iter().map(|v| v.map(f64::to_bits)).collect();
        self.evaluations.entry(key.to_owned()).or_default().insert(rep, bits);
    }

    /// Metric `j` of a candidate in replications `0..n` (`None` where undefined or not run).
    pub fn column(&self, key: &str, j: usize, n: u32) -> Vec<Option<f64>> {
        let reps = self.evaluations.get(key);
        (0..n)
            .map(|r| reps.and_then(|m| m.get(&r)).and_then(|v| v.get(j).copied().flatten()).map(f64::from_bits))
            .collect()
    }

    /// Replications run of a candidate (always `0..n`: the race runs them in order).
    pub fn reps(&self, key: &str) -> u32 {
        self.evaluations.get(key).map_or(0, |r| r.len() as u32)
    }

    /// The state saved at `path`, if it is one of this problem (same file, seed and version).
    pub fn load(path: &Path, hash: &str) -> Option<State> {
        let text = std::fs::read_to_string(path).ok()?;
        let s: State = serde_json::from_str(&text).ok()?;
        (s.hash == hash && s.cpsim_version == env!("CARGO_PKG_VERSION")).then_some(s)
    }

    /// Saves atomically (a temporary file renamed into place), so a kill leaves the old state
    /// or the new one, never half of one.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension(format!("json.tmp-{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_string(self).unwrap_or_default())?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_a_save_exactly() {
        let dir = std::env::temp_dir().join(format!("cpsim-state-test-{}", std::process::id()));
        let path = dir.join("s.json");
        let mut s = State::new("h");
        s.insert("0.1", 0, &[Some(0.1 + 0.2), None]);
        s.insert("0.1", 1, &[Some(-1e-300), Some(123_456_789.123_456_79)]);
        s.save(&path).unwrap();
        let back = State::load(&path, "h").unwrap();
        assert_eq!(back, s);
        assert_eq!(back.column("0.1", 0, 3), vec![Some(0.1 + 0.2), Some(-1e-300), None]);
        assert!(State::load(&path, "other").is_none());
        let _ = std::fs::remove_dir_all(dir);
    }
}
