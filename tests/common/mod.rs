//! Helpers shared by the tests that drive the `cpsim` binary or read what it wrote.
//!
//! Each test file is a crate of its own and uses only some of these.
#![allow(dead_code)]

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::Path;
use tempfile::TempDir;

/// The crate root: commands run there, so fixture paths in messages are relative.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The binary, started in the crate root.
pub fn cpsim() -> Command {
    let mut cmd = Command::cargo_bin("cpsim").expect("the cpsim binary is built");
    cmd.current_dir(ROOT);
    cmd
}

pub fn tmp() -> TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Width and height from a PNG's IHDR chunk, after checking the signature and the IEND chunk.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 45, "PNG too short: {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[8..12], &[0, 0, 0, 13], "IHDR length");
    assert_eq!(&bytes[12..16], b"IHDR");
    assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

/// Every file below `dir`, by its path relative to `dir` (`charts/x.png`), with its bytes: two
/// result folders are byte-identical when their trees are equal.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}
