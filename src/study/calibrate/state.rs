//! The saved state of a calibration: every finished generation (particles in the sampler's
//! coordinates, weights, distances, seeds and simulated series), written atomically after each
//! generation so a stopped run resumes exactly where it was. JSON numbers round-trip every f64
//! exactly, so a resumed run computes with the same bits as one that never stopped.

use crate::report::output::OutputError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One accepted particle.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Particle {
    /// Proposal index within its generation (names its seed and stream).
    pub index: u32,
    /// Sampler coordinates (log for log-uniform priors).
    #[serde(with = "bits::vec")]
    pub theta: Vec<f64>,
    /// Normalised importance weight.
    #[serde(with = "bits::one")]
    pub weight: f64,
    #[serde(with = "bits::one")]
    pub distance: f64,
    /// Master seed of the particle's simulation.
    pub seed: u64,
    /// Every observed series as this particle simulated it, by day.
    #[serde(with = "bits::nested")]
    pub series: Vec<Vec<f64>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Generation {
    /// The tolerance its particles met (none for generation 0, drawn from the prior).
    #[serde(with = "bits::option")]
    pub tolerance: Option<f64>,
    /// Simulations run to fill it.
    pub simulations: u64,
    pub particles: Vec<Particle>,
}

impl Generation {
    pub fn thetas(&self) -> Vec<Vec<f64>> {
        self.particles.iter().map(|p| p.theta.clone()).collect()
    }
    pub fn weights(&self) -> Vec<f64> {
        self.particles.iter().map(|p| p.weight).collect()
    }
    pub fn distances(&self) -> Vec<f64> {
        self.particles.iter().map(|p| p.distance).collect()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// The calibration's input hash ([`super::Calibration::hash`]).
    pub input_hash: String,
    pub generations: Vec<Generation>,
    pub simulations: u64,
    /// Why the run ended before its last generation (the budget), if it did.
    pub ended: Option<String>,
    /// The generation being filled, when a sharded run merged some of its batches but not yet
    /// enough accepted particles (absent from the state of a run without shards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// A generation part-filled: the batches merged so far and the particles they had accepted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Pending {
    pub generation: u32,
    /// Batches of `particles` proposals merged so far (the next batch has this number).
    pub batches: u32,
    /// Simulations those batches ran.
    pub simulations: u64,
    pub accepted: Vec<Particle>,
}

impl State {
    pub fn new(hash: &str) -> State {
        State { input_hash: hash.to_owned(), generations: vec![], simulations: 0, ended: None, pending: None }
    }
}

/// f64 fields as their IEEE bit patterns (u64, which JSON holds exactly).
mod bits {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub mod one {
        use super::*;
        pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
            v.to_bits().serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
            u64::deserialize(d).map(f64::from_bits)
        }
    }
    pub mod option {
        use super::*;
        pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            v.map(f64::to_bits).serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
            Option::<u64>::deserialize(d).map(|b| b.map(f64::from_bits))
        }
    }
    pub mod vec {
        use super::*;
        pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>().serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Vec::<u64>::deserialize(d).map(|b| b.into_iter().map(f64::from_bits).collect())
        }
    }
    pub mod nested {
        use super::*;
        pub fn serialize<S: Serializer>(v: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
            v.iter().map(|r| r.iter().map(|x| x.to_bits()).collect::<Vec<_>>()).collect::<Vec<_>>().serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
            Vec::<Vec<u64>>::deserialize(d)
                .map(|b| b.into_iter().map(|r| r.into_iter().map(f64::from_bits).collect()).collect())
        }
    }
}

/// The saved state at `path` if it belongs to the calibration with `hash`.
pub fn load(path: &Path, hash: &str) -> Option<State> {
    let text = std::fs::read_to_string(path).ok()?;
    let st: State = serde_json::from_str(&text).ok()?;
    (st.input_hash == hash).then_some(st)
}

/// Writes the state atomically: to a temporary file beside it, then renamed over it.
pub fn save(path: &Path, st: &State) -> Result<(), OutputError> {
    let io = |source| OutputError::Io { path: path.to_owned(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let text = serde_json::to_string(st).unwrap_or_default();
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        OutputError::Io { path: path.to_owned(), source }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_bit() {
        let p = Particle {
            index: 3,
            theta: vec![0.1 + 0.2, -1.0 / 3.0, 1e-300],
            weight: std::f64::consts::PI / 7.0,
            distance: 0.084_901_657_548_271_77,
            seed: u64::MAX,
            series: vec![vec![1.5, 2.0 / 3.0]],
        };
        let st = State {
            input_hash: "h".into(),
            generations: vec![Generation { tolerance: None, simulations: 4, particles: vec![p] }],
            simulations: 4,
            ended: None,
            pending: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        save(&path, &st).unwrap();
        assert_eq!(load(&path, "h").unwrap(), st);
        assert!(load(&path, "other").is_none());
    }
}
