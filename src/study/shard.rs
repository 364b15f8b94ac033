//! Shards and merging, for runs larger than one machine: `cpsim run FILE --shard K/N` runs every
//! N-th unit (variant x replication) starting at K and writes them to `OUT/<stem>.shards/
//! shard-K-of-N/`; `cpsim merge OUT/<stem>.shards` checks that all N shards are there and writes
//! the same files, byte for byte, as the run without shards. A batch engine (a Slurm job array, a
//! Kubernetes Indexed Job) runs the shards; cpsim only splits and joins.

use crate::model::metrics::RepData;
use crate::study::runner::Unit;
use crate::study::sweep::Overrides;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Which shard of how many: `K/N`, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSpec {
    pub k: u32,
    pub n: u32,
}

impl std::str::FromStr for ShardSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not K/N (e.g. 3/8)"))?;
        let k: u32 = k.trim().parse().map_err(|_| format!("`{k}` in `{s}` is not a whole number"))?;
        let n: u32 = n.trim().parse().map_err(|_| format!("`{n}` in `{s}` is not a whole number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(format!("`{s}`: need 1 <= K <= N"));
        }
        Ok(ShardSpec { k, n })
    }
}

impl ShardSpec {
    /// Unit `i` of the fixed unit order belongs to shard `(i mod N) + 1`.
    pub fn owns(&self, i: usize) -> bool {
        i % self.n as usize == (self.k - 1) as usize
    }
}

/// What a shard folder says about itself.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardManifest {
    pub cpsim_version: String,
    pub scenario_file: String,
    pub stem: String,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    /// Hash of the scenario text and overrides, so shards of different inputs are never mixed.
    pub study_hash: String,
    pub shard: u32,
    pub of: u32,
    pub units: Vec<Unit>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("{path}: {message}")]
    Bad { path: PathBuf, message: String },
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ShardError + '_ {
    move |source| ShardError::Io { path: path.to_owned(), source }
}

pub fn shards_root(out: &Path, stem: &str) -> PathBuf {
    out.join(format!("{stem}.shards"))
}

/// The message for a merge of `n` shards where some are not there (`has(k)` false), each named
/// with the part `name(k, n)` it should have written; `None` when all are there. Sweeps and
/// calibrations merge alike.
pub fn missing_shards(n: u32, has: impl Fn(u32) -> bool, name: impl Fn(u32, u32) -> String) -> Option<String> {
    let missing: Vec<String> = (1..=n).filter(|k| !has(*k)).map(|k| format!("{k}/{n} ({})", name(k, n))).collect();
    (!missing.is_empty())
        .then(|| format!("missing shard(s) {}: rerun them with --shard K/N, then merge again", missing.join(", ")))
}

fn shard_folder(k: u32, n: u32) -> String {
    format!("shard-{k}-of-{n}")
}

/// Writes a finished shard: the scenario text, its manifest and one file per unit, into a
/// temporary folder renamed into place, so a shard folder is complete or absent.
pub fn write_shard(
    root: &Path,
    text: &str,
    manifest: &ShardManifest,
    data: &[(Unit, RepData)],
) -> Result<PathBuf, ShardError> {
    fs::create_dir_all(root).map_err(io(root))?;
    let name = shard_folder(manifest.shard, manifest.of);
    let target = root.join(&name);
    let tmp = root.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let write = || -> Result<(), ShardError> {
        fs::write(tmp.join("scenario.toml"), text).map_err(io(&tmp))?;
        let m = serde_json::to_string_pretty(manifest).map_err(|e| bad(&tmp, e.to_string()))?;
        fs::write(tmp.join("shard.json"), m).map_err(io(&tmp))?;
        for (u, d) in data {
            let p = tmp.join(format!("unit-{}-{}.json", u.variant, u.rep));
            fs::write(&p, serde_json::to_vec(d).map_err(|e| bad(&p, e.to_string()))?).map_err(io(&p))?;
        }
        Ok(())
    };
    if let Err(e) = write() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let _ = fs::remove_dir_all(&target);
    fs::rename(&tmp, &target).map_err(io(&target))?;
    Ok(target)
}

fn bad(path: &Path, message: String) -> ShardError {
    ShardError::Bad { path: path.to_owned(), message }
}

/// A complete set of shards, read back.
pub struct Merged {
    pub text: String,
    pub manifest: ShardManifest,
    pub data: Vec<(Unit, RepData)>,
}

impl Merged {
    pub fn overrides(&self) -> Overrides {
        Overrides { replications: self.manifest.replications, seed: self.manifest.seed }
    }
}

/// Reads every shard under `root` (a `<stem>.shards` folder) and checks that they are all there,
/// of the same input, and cover every unit once.
pub fn read_shards(root: &Path) -> Result<Merged, ShardError> {
    let mut found: Vec<(ShardManifest, PathBuf)> = Vec::new();
    let entries = fs::read_dir(root).map_err(io(root))?;
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for dir in names.into_iter().filter(|p| p.is_dir()) {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !name.starts_with("shard-") {
            continue;
        }
        let m = dir.join("shard.json");
        let text = fs::read_to_string(&m).map_err(io(&m))?;
        let man: ShardManifest =
            serde_json::from_str(&text).map_err(|e| bad(&m, format!("not a shard manifest: {e}")))?;
        found.push((man, dir));
    }
    let Some((first, first_dir)) = found.first() else {
        return Err(bad(root, "no shard folders (shard-K-of-N) here".into()));
    };
    let n = first.of;
    for (m, dir) in &found {
        if m.of != n || m.study_hash != first.study_hash || m.cpsim_version != first.cpsim_version {
            return Err(bad(
                dir,
                format!(
                    "belongs to another run than {} (scenario, version or shard count differ)",
                    first_dir.display()
                ),
            ));
        }
    }
    if let Some(message) = missing_shards(n, |k| found.iter().any(|(m, _)| m.shard == k), shard_folder) {
        return Err(bad(root, message));
    }
    let text = fs::read_to_string(first_dir.join("scenario.toml")).map_err(io(first_dir))?;
    let mut data = Vec::new();
    for (m, dir) in &found {
        for u in &m.units {
            let p = dir.join(format!("unit-{}-{}.json", u.variant, u.rep));
            let bytes = fs::read(&p).map_err(io(&p))?;
            let d: RepData = serde_json::from_slice(&bytes).map_err(|e| bad(&p, format!("unreadable unit: {e}")))?;
            data.push((*u, d));
        }
    }
    data.sort_by_key(|(u, _)| *u);
    let manifest = found.into_iter().next().map(|(m, _)| m).expect("checked non-empty");
    Ok(Merged { text, manifest, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_splits() {
        let s: ShardSpec = "2/3".parse().unwrap();
        assert_eq!(s, ShardSpec { k: 2, n: 3 });
        assert!("0/3".parse::<ShardSpec>().is_err());
        assert!("4/3".parse::<ShardSpec>().is_err());
        assert!("x".parse::<ShardSpec>().is_err());
        let owned: Vec<usize> = (0..7).filter(|i| s.owns(*i)).collect();
        assert_eq!(owned, vec![1, 4]);
    }
}
