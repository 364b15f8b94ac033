//! One `cpsim run` at a time per output folder: `OUT/.cpsim.lock`, created exclusively and
//! holding the pid of its owner, removed when the run ends (a [`Drop`] guard, so error paths
//! remove it too). A lock whose pid is no longer alive (a killed run) is taken over.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the output folder.
pub const LOCK_FILE: &str = ".cpsim.lock";

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct OutLock {
    path: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another cpsim run (pid {pid}) is writing to {dir}: wait for it to finish, or use another --out \
         (if no such run exists, delete {lock})"
    )]
    Busy { dir: PathBuf, pid: u32, lock: PathBuf },
    #[error("cannot create the lock file {path}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Is process `pid` alive? (`/proc/<pid>` exists.) Where `/proc` is missing, every pid is taken
/// for alive, so a lock is never stolen on a system this cannot check.
pub fn pid_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

impl OutLock {
    /// Takes the lock of output folder `dir` (which must exist).
    pub fn acquire(dir: &Path) -> Result<OutLock, LockError> {
        let path = dir.join(LOCK_FILE);
        // A few rounds: a stale lock removed by us may be taken by another run in between.
        for _ in 0..5 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let lock = OutLock { path: path.clone() };
                    f.write_all(format!("{}\n", std::process::id()).as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(|source| LockError::Io { path: path.clone(), source })?;
                    return Ok(lock);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let text = fs::read_to_string(&path).unwrap_or_default();
                    match text.trim().parse::<u32>() {
                        Ok(pid) if pid_alive(pid) => {
                            return Err(LockError::Busy { dir: dir.to_owned(), pid, lock: path });
                        }
                        Ok(_) => {
                            // Its owner is gone: take it over.
                            let _ = fs::remove_file(&path);
                        }
                        Err(_) => {
                            // Empty or garbled: its owner may be between create and write.
                            // Wait a moment; if still unreadable, it was left by a crash.
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            let again = fs::read_to_string(&path).unwrap_or_default();
                            if again.trim().parse::<u32>().is_err() {
                                let _ = fs::remove_file(&path);
                            }
                        }
                    }
                }
                Err(source) => return Err(LockError::Io { path, source }),
            }
        }
        let pid = fs::read_to_string(&path).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
        Err(LockError::Busy { dir: dir.to_owned(), pid, lock: path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OutLock {
    fn drop(&mut self) {
        // Only our own lock: never remove one another run took over.
        let ours = fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .is_some_and(|p| p == std::process::id());
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_then_released() {
        let d = tempfile::tempdir().unwrap();
        let a = OutLock::acquire(d.path()).unwrap();
        // Same pid is alive: a second acquire in this process is refused.
        assert!(matches!(OutLock::acquire(d.path()), Err(LockError::Busy { .. })));
        drop(a);
        assert!(!d.path().join(LOCK_FILE).exists());
        let _b = OutLock::acquire(d.path()).unwrap();
    }

    #[test]
    fn takes_over_a_dead_pid() {
        let d = tempfile::tempdir().unwrap();
        // Pid beyond pid_max (4194304 on Linux): never alive.
        fs::write(d.path().join(LOCK_FILE), "4999999\n").unwrap();
        let l = OutLock::acquire(d.path()).unwrap();
        assert_eq!(fs::read_to_string(l.path()).unwrap().trim(), std::process::id().to_string());
    }
}
