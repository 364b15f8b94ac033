//! The layers of `src/` stay true: every `crate::` path in a file's code (imports and inline
//! paths alike; comments are not read) names a top-level module of its own layer or of one
//! below. From the bottom: `base` (money, calendar, rng, profile), `scenario`, `model` (one
//! replication of the market), `report` (files and charts), `study` (what runs the model many
//! times), `cli`. A file in `lib.rs` or `main.rs` may name anything.

use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules, bottom first.
const LAYERS: [&str; 6] = ["base", "scenario", "model", "report", "study", "cli"];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == module)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module each `crate::` path of a line's code names.
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `mycrate::`
        }
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// Every (file, line number, imported module) that names a layer above the file's own.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let top = top.trim_end_matches(".rs");
        let Some(own) = rank(top) else {
            assert!(top == "lib" || top == "main", "src/{} is in no layer; add its folder to LAYERS", rel.display());
            continue;
        };
        for (n, line) in fs::read_to_string(&f).unwrap().lines().enumerate() {
            for m in crate_paths(line) {
                match rank(&m) {
                    Some(r) if r > own => bad.push(format!(
                        "src/{}:{}: `{top}` imports `crate::{m}`, a layer above it: {}",
                        rel.display(),
                        n + 1,
                        line.trim()
                    )),
                    Some(_) => {}
                    None => bad.push(format!("src/{}:{}: `crate::{m}` is in no layer", rel.display(), n + 1)),
                }
            }
        }
    }
    bad
}

#[test]
fn imports_only_go_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = violations(&src);
    assert!(bad.is_empty(), "imports going up:\n{}", bad.join("\n"));
}

#[test]
fn an_upward_import_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    fs::create_dir_all(&model).unwrap();
    fs::write(
        model.join("sim.rs"),
        "//! doc naming crate::cli is fine\nuse crate::base::rng;\nuse crate::report::output::put;\n",
    )
    .unwrap();
    let bad = violations(dir.path());
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("src/model/sim.rs:3: `model` imports `crate::report`"), "{}", bad[0]);
}
