//! Every CSV file cpsim writes (a run of two scenarios, a sweep, a compare), read with a real CSV
//! reader: a header without repeats, the same number of fields in every row, each column either
//! numbers or text throughout, and no number a spreadsheet would round (an integer beyond 2^53
//! written in decimal must have its exact text form, `seed_hex`, beside it).

mod common;

use common::cpsim;
use std::fs;
use std::path::{Path, PathBuf};

const SWEEP: &str = r#"
[scenario]
days = 8
replications = 2
seed = 5
[creators]
count = 150
[operators]
titles = 8
[platform]
feed_supply = 150_000
[sweep]
"wechat.dropoff" = [0.1, 0.5]
"#;

fn csv_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            csv_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "csv") {
            out.push(p);
        }
    }
}

/// What a column holds, from its cells.
#[derive(Debug, PartialEq, Clone, Copy)]
enum Kind {
    Empty,
    Number,
    Text,
}

fn kind(cell: &str) -> Kind {
    if cell.is_empty() {
        Kind::Empty
    } else if cell.parse::<f64>().is_ok_and(f64::is_finite) {
        Kind::Number
    } else {
        Kind::Text
    }
}

/// An integer a spreadsheet (IEEE doubles, 15 significant digits) cannot hold exactly.
fn loses_precision(cell: &str) -> bool {
    let digits = cell.trim_start_matches('-');
    digits.bytes().all(|b| b.is_ascii_digit()) && digits.trim_start_matches('0').len() > 15
}

fn check(path: &Path) {
    let mut r = csv::ReaderBuilder::new().from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let mut seen = std::collections::HashSet::new();
    for h in &header {
        assert!(!h.is_empty() && seen.insert(h.clone()), "{}: header `{h}` empty or repeated", path.display());
    }
    let mut kinds = vec![Kind::Empty; header.len()];
    let mut rows = 0;
    for (line, rec) in r.records().enumerate() {
        let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(rec.len(), header.len(), "{}:{}", path.display(), line + 2);
        for (c, cell) in rec.iter().enumerate() {
            assert!(!cell.contains("NaN") && !cell.contains("inf"), "{}:{}: {cell}", path.display(), line + 2);
            let k = kind(cell);
            if k != Kind::Empty {
                assert!(
                    kinds[c] == Kind::Empty || kinds[c] == k,
                    "{}:{}: column `{}` mixes numbers and text (`{cell}`)",
                    path.display(),
                    line + 2,
                    header[c]
                );
                kinds[c] = k;
            }
            if loses_precision(cell) {
                let exact = format!("{}_hex", header[c]);
                let hex = header.iter().position(|h| *h == exact).map(|i| &rec[i]);
                let want = format!("0x{:016x}", cell.parse::<u64>().unwrap());
                assert_eq!(
                    hex,
                    Some(want.as_str()),
                    "{}:{}: `{}` = {cell} loses digits in a spreadsheet and has no exact `{exact}` beside it",
                    path.display(),
                    line + 2,
                    header[c]
                );
            }
        }
        rows += 1;
    }
    assert!(rows > 0, "{}: no rows", path.display());
    // The columns every reader relies on are numbers.
    for (c, h) in header.iter().enumerate() {
        let numeric = ["mean", "sd", "ci95_low", "ci95_high", "day", "replication", "seed", "gmv"];
        if numeric.contains(&h.as_str()) {
            assert_ne!(kinds[c], Kind::Text, "{}: column `{h}` is not numeric", path.display());
        }
    }
}

#[test]
fn every_csv_reads_with_its_types_and_seeds_stay_exact() {
    let tmp = common::tmp();
    let tiny = Path::new(common::ROOT).join("tests/fixtures/tiny.toml");
    let b = tmp.path().join("tiny-b.toml");
    fs::write(&b, fs::read_to_string(&tiny).unwrap().replace("[creators]\n", "[creators]\nimage_text_share = 1.0\n"))
        .unwrap();
    let sw = tmp.path().join("sw.toml");
    fs::write(&sw, SWEEP).unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    cpsim().args(["run", "--quiet", "--out", o]).arg(&tiny).arg(&b).arg(&sw).assert().success();
    cpsim().args(["compare", "--out", o]).arg(&tiny).arg(&b).assert().success();
    let mut files = Vec::new();
    csv_files(&out, &mut files);
    let names: Vec<String> = files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for want in ["summary.csv", "replications.csv", "daily.csv", "sweep.csv", "paired.csv", "episode.csv"] {
        assert!(names.iter().any(|n| n == want), "no {want} among {names:?}");
    }
    for f in &files {
        check(f);
    }
    // Replication seeds (beyond 2^53) are kept exact beside their decimal form.
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("tiny-b/manifest.json")).unwrap()).unwrap();
    let hex = m["replication_seeds_hex"].as_array().unwrap();
    let dec = m["replication_seeds"].as_array().unwrap();
    assert_eq!(hex.len(), dec.len());
    for (h, d) in hex.iter().zip(dec) {
        let d: u64 = d.to_string().parse().unwrap();
        assert_eq!(h.as_str().unwrap(), format!("0x{d:016x}"));
    }
}
