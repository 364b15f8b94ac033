//! A calibration's simulations as shards, for a batch engine (a Slurm job array): `cpsim
//! calibrate FILE --observed DATA --shard K/N` reads the saved state, simulates shard K's share
//! (every N-th proposal index) of the next batch of the generation being filled, and writes it
//! to `OUT/calibrate-<stem>.shards/shard-K-of-N.json` (a temporary file renamed into place, so a
//! part is whole or absent). `--merge` checks that all N parts are there and of that batch, takes
//! the batch into the state exactly as a run without shards does ([`super::absorb`]), saves it,
//! and removes the parts. Shards only read the state; the merge alone writes it.

use super::state::Particle;
use super::CalibrateError;
use crate::report::output::OutputError;
use crate::study::shard::{missing_shards, ShardSpec};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// One shard's share of one batch.
#[derive(Debug, Serialize, Deserialize)]
pub struct Part {
    pub cpsim_version: String,
    /// [`super::Calibration::hash`]: parts of other inputs are never merged.
    pub input_hash: String,
    pub generation: u32,
    pub batch: u32,
    pub shard: u32,
    pub of: u32,
    /// (proposal index, particle or `None` for a proposal outside the prior's box), by index.
    pub results: Vec<(u32, Option<Particle>)>,
}

/// The folder of a calibration's shard parts.
pub fn root(out: &Path, stem: &str) -> PathBuf {
    out.join(format!("calibrate-{stem}.shards"))
}

fn part_name(k: u32, n: u32) -> String {
    format!("shard-{k}-of-{n}.json")
}

fn usage(path: &Path, message: String) -> CalibrateError {
    CalibrateError::Usage(format!("{}: {message}", path.display()))
}

/// Writes a part atomically; returns its path.
pub fn write_part(root: &Path, part: &Part) -> Result<PathBuf, CalibrateError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CalibrateError::Output(OutputError::Io { path, source })
    };
    fs::create_dir_all(root).map_err(io(root))?;
    let target = root.join(part_name(part.shard, part.of));
    let tmp = root.join(format!(".{}.tmp-{}", part_name(part.shard, part.of), std::process::id()));
    let bytes = serde_json::to_vec(part).map_err(|e| usage(&target, e.to_string()))?;
    fs::write(&tmp, bytes).map_err(io(&tmp))?;
    fs::rename(&tmp, &target).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io(&target)(e)
    })?;
    Ok(target)
}

/// Reads every part under `root` and checks that they are of this calibration (`hash`), of batch
/// `batch` of generation `g`, of one shard count, all there, and together hold each of the
/// batch's `particles` proposals once. Returns the batch's results by proposal index.
pub fn read_parts(
    root: &Path,
    hash: &str,
    g: u32,
    batch: u32,
    particles: u32,
) -> Result<Vec<(u32, Option<Particle>)>, CalibrateError> {
    let mut names: Vec<PathBuf> = match fs::read_dir(root) {
        Ok(d) => d.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => vec![],
    };
    names.retain(|p| {
        let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        n.starts_with("shard-") && n.ends_with(".json")
    });
    names.sort();
    if names.is_empty() {
        return Err(usage(
            root,
            format!(
                "no shard parts (shard-K-of-N.json) for generation {g}: run the shards first \
                 (`cpsim calibrate FILE --observed DATA --shard K/N` for every K), then merge"
            ),
        ));
    }
    let mut parts: Vec<(Part, PathBuf)> = Vec::new();
    for p in names {
        let bytes =
            fs::read(&p).map_err(|source| CalibrateError::Output(OutputError::Io { path: p.clone(), source }))?;
        let part: Part =
            serde_json::from_slice(&bytes).map_err(|e| usage(&p, format!("not a calibration shard part: {e}")))?;
        if part.input_hash != hash || part.cpsim_version != env!("CARGO_PKG_VERSION") {
            return Err(usage(
                &p,
                "a shard part of another calibration (its scenario, observed data, seed or cpsim version \
                 differ): remove it, rerun that shard with this command's inputs, then merge"
                    .into(),
            ));
        }
        if (part.generation, part.batch) != (g, batch) {
            return Err(usage(
                &p,
                format!(
                    "shard {}/{} simulated generation {} batch {}, but the calibration's next is generation {g} \
                     batch {batch}: rerun it with --shard {}/{}, then merge",
                    part.shard, part.of, part.generation, part.batch, part.shard, part.of
                ),
            ));
        }
        parts.push((part, p));
    }
    let n = parts[0].0.of;
    if let Some((part, p)) = parts.iter().find(|(part, _)| part.of != n) {
        return Err(usage(
            p,
            format!(
                "a shard of {} beside shards of {n} ({}): use one shard count for a batch",
                part.of,
                parts[0].1.display()
            ),
        ));
    }
    if let Some(message) = missing_shards(n, |k| parts.iter().any(|(part, _)| part.shard == k), part_name) {
        return Err(usage(root, message));
    }
    let first = batch * particles;
    let mut results: Vec<(u32, Option<Particle>)> = Vec::with_capacity(particles as usize);
    for (part, p) in parts {
        let spec = ShardSpec { k: part.shard, n: part.of };
        let owned: Vec<u32> = (first..first + particles).filter(|i| spec.owns(*i as usize)).collect();
        let held: Vec<u32> = part.results.iter().map(|r| r.0).collect();
        if held != owned {
            return Err(usage(
                &p,
                format!("does not hold the proposals of shard {}/{} of batch {batch}", spec.k, spec.n),
            ));
        }
        results.extend(part.results);
    }
    results.sort_by_key(|r| r.0);
    Ok(results)
}

/// Removes the parts of a merged batch (best effort: a later merge ignores nothing stale, it
/// refuses it, so a leftover part is reported rather than silently used).
pub fn remove_parts(root: &Path) {
    let _ = fs::remove_dir_all(root);
}
