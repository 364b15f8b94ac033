//! End-to-end tests of the `cpsim` binary: a tiny scenario run, one bad scenario file per kind of
//! input error (exit code 2, a clear message snapshotted with insta, no panic, no output), bad
//! paths and flags, and the `init` / `schema` / `--help` commands.
//!
//! Every command runs with the crate root as its working folder, so the fixture paths in messages
//! are relative and the snapshots stable. Temporary folders that may appear in a message are
//! replaced by `[TMP]`.

mod common;

use common::{cpsim, text, tmp, ROOT};
use std::fs;
use std::path::Path;
use std::process::Output;

const TINY: &str = "tests/fixtures/tiny.toml";

/// The binary, started in the crate root.
/// Stderr with the temporary folder replaced by `[TMP]`.
fn stderr_of(out: &Output, tmp: &Path) -> String {
    text(&out.stderr).replace(&tmp.display().to_string(), "[TMP]")
}

/// The names in a folder, sorted; hidden ones (such as a left-over `.tiny.tmp-123`) included.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.expect("a folder entry").file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// Asserts exit code 2 and no panic; returns stderr (temporary folder redacted).
fn expect_input_error(out: &Output, tmp: &Path, what: &str) -> String {
    let err = stderr_of(out, tmp);
    assert_eq!(out.status.code(), Some(2), "{what}: expected exit code 2, got {:?}\nstderr:\n{err}", out.status);
    assert!(!err.contains("panicked"), "{what}: the binary panicked:\n{err}");
    assert!(!err.trim().is_empty(), "{what}: exit code 2 without a message");
    err
}

// ---------------------------------------------------------------------------------------------
// 1. A tiny valid scenario
// ---------------------------------------------------------------------------------------------

const OUTPUT_FILES: [&str; 8] = [
    "summary.json",
    "summary.csv",
    "replications.csv",
    "daily.csv",
    "manifest.json",
    "creators.csv",
    "plans.csv",
    "plans_daily.csv",
];

const SUMMARY_ROWS: [&str; 19] = [
    "gmv",
    "refunds",
    "platform_fees",
    "commission_accrued",
    "commission_settled",
    "commission_unsettled",
    "subsidies",
    "ad_money",
    "operator_net",
    "impressions",
    "fresh_reach",
    "opens",
    "payers",
    "clips",
    "active_creators",
    "creators_paid",
    "payout_gini",
    "payout_top1_share",
    "payout_top10_share",
];

/// A money value as written by cpsim: an optional minus, digits, a point and exactly two digits.
fn is_money(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    match s.split_once('.') {
        Some((int, dec)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && dec.len() == 2
                && dec.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

#[test]
fn tiny_scenario_runs_and_writes_every_file() {
    let out = tmp();
    let res = cpsim().args(["run", TINY, "--quiet", "--out"]).arg(out.path()).output().unwrap();
    let err = stderr_of(&res, out.path());
    assert!(res.status.success(), "run failed: {:?}\nstderr:\n{err}", res.status);
    assert!(err.is_empty(), "--quiet run printed to stderr:\n{err}");
    assert!(res.stdout.is_empty(), "--quiet run printed to stdout:\n{}", text(&res.stdout));

    assert_eq!(entries(out.path()), ["tiny"], "the output folder holds exactly the scenario folder");
    let dir = out.path().join("tiny");
    for f in OUTPUT_FILES {
        let p = dir.join(f);
        let meta = fs::metadata(&p).unwrap_or_else(|e| panic!("{} is missing: {e}", p.display()));
        assert!(meta.len() > 0, "{} is empty", p.display());
    }
    for f in ["summary.json", "manifest.json"] {
        let s = fs::read_to_string(dir.join(f)).unwrap();
        serde_json::from_str::<serde_json::Value>(&s).unwrap_or_else(|e| panic!("{f} is not JSON: {e}\n{s}"));
    }

    let summary = fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    assert_eq!(lines.next(), Some("metric,unit,mean,sd,ci95_low,ci95_high"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    for row in &rows {
        assert_eq!(row.len(), 6, "summary.csv row with {} fields: {row:?}", row.len());
    }
    for name in SUMMARY_ROWS {
        assert!(rows.iter().any(|r| r[0] == name), "summary.csv has no row `{name}`:\n{summary}");
    }
    let money: Vec<&Vec<&str>> = rows.iter().filter(|r| r[1] == "RMB").collect();
    assert!(money.iter().any(|r| r[0] == "gmv"), "gmv is not in RMB:\n{summary}");
    for row in money {
        for v in &row[2..] {
            assert!(is_money(v), "money value `{v}` of `{}` has not exactly two decimals:\n{summary}", row[0]);
        }
    }
}

#[test]
fn check_accepts_tiny_scenario() {
    cpsim()
        .args(["check", TINY])
        .assert()
        .success()
        .stdout(predicates::str::contains("tests/fixtures/tiny.toml: ok"))
        .stdout(predicates::str::contains("200 creators, 12 titles, 10 days after a 60-day burn-in, 2 replications"));
}

/// A file with no burn-in says its days alone (the regional benchmark).
#[test]
fn check_says_no_burn_in() {
    cpsim()
        .args(["check", "scenarios/bench-regional.toml"])
        .assert()
        .success()
        .stdout(predicates::str::contains("2000 titles, 30 days, 1 replications"));
}

#[test]
fn results_do_not_depend_on_threads() {
    let out = tmp();
    for n in ["1", "2"] {
        cpsim().args(["run", TINY, "--quiet", "--threads", n, "--out"]).arg(out.path().join(n)).assert().success();
    }
    for f in ["summary.csv", "replications.csv", "daily.csv"] {
        let a = fs::read_to_string(out.path().join("1/tiny").join(f)).unwrap();
        let b = fs::read_to_string(out.path().join("2/tiny").join(f)).unwrap();
        assert!(a == b, "{f} differs between --threads 1 and --threads 2");
    }
}

#[test]
fn run_without_quiet_prints_a_headline() {
    let out = tmp();
    cpsim()
        .args(["run", TINY, "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicates::str::contains("GMV"))
        .stdout(predicates::str::contains("results in"));
}

// ---------------------------------------------------------------------------------------------
// 2. Bad scenario files: one per kind of error
// ---------------------------------------------------------------------------------------------

/// Runs `cpsim check` and `cpsim run --out <tmp>` on `tests/fixtures/bad/<case>.toml`: both must
/// exit with code 2 and the same message, which names the file, contains each of `must_contain`
/// and matches the snapshot `bad_<case>`; `run` must leave the output folder empty.
fn bad_case(case: &str, must_contain: &[&str]) {
    let file = format!("tests/fixtures/bad/{case}.toml");
    assert!(Path::new(ROOT).join(&file).is_file(), "fixture {file} is missing");

    let out = tmp();
    let check = cpsim().args(["check", &file]).output().unwrap();
    let err = expect_input_error(&check, out.path(), &format!("cpsim check {file}"));
    assert!(check.stdout.is_empty(), "check of a bad file printed to stdout:\n{}", text(&check.stdout));
    assert!(err.contains(&file), "the message does not name the file {file}:\n{err}");
    for s in must_contain {
        assert!(err.contains(s), "the message for {file} lacks `{s}`:\n{err}");
    }

    let run = cpsim().args(["run", &file, "--quiet", "--out"]).arg(out.path()).output().unwrap();
    let run_err = expect_input_error(&run, out.path(), &format!("cpsim run {file}"));
    assert_eq!(run_err, err, "run and check report {file} differently");
    assert!(entries(out.path()).is_empty(), "run of {file} wrote {:?}", entries(out.path()));

    // The list of valid keys after "expected one of" grows with the schema; it is serde's own
    // and always complete, so the snapshot does not pin it.
    let err = err
        .lines()
        .map(|l| match l.find(", expected one of `") {
            Some(i) => format!("{}, expected one of [the keys of this table]", &l[..i]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::with_settings!({
        description => format!("stderr of `cpsim check {file}` (and of `cpsim run`)"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(format!("bad_{case}"), err);
    });
}

#[test]
fn bad_toml_syntax() {
    bad_case("syntax", &["TOML", "line 3, column 16", "replications = 2 3"]);
}

#[test]
fn bad_duplicate_key() {
    bad_case("duplicate_key", &["duplicate key", "line 3"]);
}

#[test]
fn bad_unknown_key() {
    bad_case("unknown_key", &["unknown field `feed_suply`", "did you mean `feed_supply`", "line 5"]);
}

#[test]
fn bad_unknown_table() {
    bad_case(
        "unknown_table",
        &["`platfrom`", "expected one of `scenario`, `platform`", "did you mean `platform`", "line 4"],
    );
}

#[test]
fn bad_unknown_category() {
    bad_case("unknown_category", &["`categories.shortdrama`", "did you mean \"short_drama\"", "line 4"]);
}

#[test]
fn bad_category_list() {
    bad_case(
        "category_list",
        &[
            "line 3, column 27: `scenario.categories[1]`",
            "did you mean \"novel\"",
            "`scenario.categories[2]`: lists \"short_drama\" twice",
            "line 4, column 1: `categories.mini_game`: is not in the market",
        ],
    );
}

#[test]
fn bad_unknown_base_category() {
    bad_case("unknown_base", &["`categories.audio_books.base`", "did you mean \"novel\"", "line 5"]);
}

#[test]
fn bad_probability_out_of_range() {
    bad_case("probability_range", &["line 6, column 9: `categories.short_drama.p_pay`", "between 0 and 1", "1.5"]);
}

#[test]
fn bad_negative_count() {
    bad_case("negative_count", &["line 5, column 9: `creators.count`", "got -5"]);
}

/// A supply within its own range that grows past what the feed counts in 32 bits.
#[test]
fn bad_supply_past_32_bits() {
    bad_case("supply_32_bits", &["line 6, column 15: `platform.feed_supply`", "4294967295", "by day 365"]);
}

#[test]
fn bad_nan_float() {
    bad_case("nan_float", &["line 5, column 9: `feed.decay`", "finite"]);
}

#[test]
fn bad_wrong_type() {
    bad_case("wrong_type", &["line 5, column 15", "invalid type", "\"lots\""]);
}

#[test]
fn bad_float_for_integer() {
    bad_case("float_for_int", &["line 2, column 8", "invalid type", "10.5"]);
}

#[test]
fn bad_calendar_date() {
    bad_case("bad_date", &["line 2, column 14", "2024-02-30", "invalid date"]);
}

#[test]
fn bad_date_with_time() {
    bad_case("date_with_time", &["line 2, column 14: `scenario.start_date`", "2024-03-01T10:00:00"]);
}

#[test]
fn bad_date_as_string() {
    bad_case("date_as_string", &["line 2, column 14", "\"2024-03-01\""]);
}

#[test]
fn bad_enum_choice() {
    bad_case("bad_enum", &["line 5, column 14: `platform.settlement`", "\"weeky\"", "did you mean \"weekly\""]);
}

#[test]
fn bad_commission_order() {
    bad_case("commission_order", &["line 6, column 18: `categories.short_drama.commission_max`", "commission_min"]);
}

#[test]
fn bad_plan_days_order() {
    bad_case("plan_days_order", &["line 6, column 17: `operators.plan_days_max`", "plan_days_min"]);
}

#[test]
fn bad_subsidy_dates() {
    bad_case("subsidy_dates", &["line 7, column 6: `subsidies[0].to`", "2024-05-01"]);
}

#[test]
fn bad_subsidy_category() {
    bad_case(
        "subsidy_category",
        &["line 6, column 15: `subsidies[0].categories[0]`", "\"mini_gam\"", "did you mean \"mini_game\""],
    );
}

#[test]
fn bad_several_errors_all_reported() {
    bad_case(
        "many_errors",
        &[
            "5 invalid values",
            "line 2, column 8: `scenario.days`",
            "line 6, column 17: `platform.android_share`",
            "line 7, column 14: `platform.settlement`",
            "line 10, column 9: `creators.count`",
            "line 13, column 21: `categories.novel.prices_rmb[1]`",
        ],
    );
}

/// Every file in `tests/fixtures/bad/` has a test above (a new fixture needs one).
#[test]
fn every_bad_fixture_is_tested() {
    let tested = [
        "syntax",
        "duplicate_key",
        "unknown_key",
        "unknown_table",
        "unknown_category",
        "unknown_base",
        "probability_range",
        "negative_count",
        "nan_float",
        "wrong_type",
        "float_for_int",
        "bad_date",
        "date_with_time",
        "date_as_string",
        "bad_enum",
        "commission_order",
        "supply_32_bits",
        "plan_days_order",
        "subsidy_dates",
        "subsidy_category",
        "many_errors",
        "category_list",
    ];
    let mut untested = Vec::new();
    for name in entries(&Path::new(ROOT).join("tests/fixtures/bad")) {
        let stem = name.strip_suffix(".toml").unwrap_or(&name);
        if !tested.contains(&stem) {
            untested.push(name.clone());
        }
    }
    assert!(untested.is_empty(), "fixtures without a test in tests/cli.rs: {untested:?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Bad paths and flags
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_file() {
    let file = "tests/fixtures/does_not_exist.toml";
    let out = tmp();
    let check = cpsim().args(["check", file]).output().unwrap();
    let err = expect_input_error(&check, out.path(), "check of a missing file");
    assert!(err.contains(file), "the message does not name {file}:\n{err}");

    let run = cpsim().args(["run", file, "--quiet", "--out"]).arg(out.path()).output().unwrap();
    let err = expect_input_error(&run, out.path(), "run of a missing file");
    assert!(err.contains(file), "the message does not name {file}:\n{err}");
    assert!(entries(out.path()).is_empty(), "run of a missing file wrote {:?}", entries(out.path()));
}

#[test]
fn unwritable_output_folder() {
    let dir = tmp();
    let blocker = dir.path().join("f");
    fs::write(&blocker, b"").unwrap();
    let res = cpsim().args(["run", TINY, "--quiet", "--out"]).arg(blocker.join("sub")).output().unwrap();
    let err = expect_input_error(&res, dir.path(), "run with --out below a regular file");
    assert!(err.contains("[TMP]/f/sub"), "the message does not name the output folder:\n{err}");
    assert_eq!(entries(dir.path()), ["f"], "something was written next to the blocking file");
    assert!(blocker.is_file() && fs::read(&blocker).unwrap().is_empty(), "the blocking file was changed");
}

#[test]
fn zero_replications_flag() {
    let out = tmp();
    let res = cpsim().args(["run", TINY, "--quiet", "--reps", "0", "--out"]).arg(out.path()).output().unwrap();
    let err = expect_input_error(&res, out.path(), "--reps 0");
    assert!(err.contains("--reps"), "the message does not name --reps:\n{err}");
    assert!(entries(out.path()).is_empty(), "--reps 0 wrote {:?}", entries(out.path()));
}

#[test]
fn zero_threads_flag() {
    let out = tmp();
    let res = cpsim().args(["run", TINY, "--quiet", "--threads", "0", "--out"]).arg(out.path()).output().unwrap();
    let err = expect_input_error(&res, out.path(), "--threads 0");
    assert!(err.contains("--threads"), "the message does not name --threads:\n{err}");
    assert!(entries(out.path()).is_empty(), "--threads 0 wrote {:?}", entries(out.path()));
}

#[test]
fn malformed_flags() {
    let out = tmp();
    let cases: [&[&str]; 5] = [
        &["run", TINY, "--reps", "many"],
        &["run", TINY, "--threads", "-1"],
        &["run", TINY, "--seed", "x"],
        &["run", TINY, "--bogus"],
        &["run"],
    ];
    for args in cases {
        let res = cpsim().args(args).arg("--out").arg(out.path()).output().unwrap();
        expect_input_error(&res, out.path(), &format!("cpsim {}", args.join(" ")));
        assert!(entries(out.path()).is_empty(), "`cpsim {}` wrote {:?}", args.join(" "), entries(out.path()));
    }
    let res = cpsim().args(["check"]).output().unwrap();
    expect_input_error(&res, out.path(), "cpsim check without files");
    let res = cpsim().args(["frobnicate"]).output().unwrap();
    expect_input_error(&res, out.path(), "an unknown subcommand");
}

#[test]
fn two_files_with_the_same_stem() {
    let dir = tmp();
    let other = dir.path().join("tiny.toml");
    fs::copy(Path::new(ROOT).join(TINY), &other).unwrap();
    let out = dir.path().join("out");
    let res = cpsim().args(["run", TINY, "--quiet"]).arg(&other).arg("--out").arg(&out).output().unwrap();
    let err = expect_input_error(&res, dir.path(), "two files named tiny.toml");
    assert!(err.contains("`tiny`"), "the message does not name the clashing folder:\n{err}");
    assert!(entries(&out).is_empty(), "two files with the same stem wrote {:?}", entries(&out));
}

#[test]
fn files_named_after_folders_cpsim_writes() {
    for name in ["compare.toml", "tiny.shards.toml"] {
        let dir = tmp();
        let file = dir.path().join(name);
        fs::copy(Path::new(ROOT).join(TINY), &file).unwrap();
        let out = dir.path().join("out");
        let res = cpsim().args(["run", TINY, "--quiet"]).arg(&file).arg("--out").arg(&out).output().unwrap();
        let err = expect_input_error(&res, dir.path(), name);
        assert!(err.contains("rename the file"), "{name}: the message does not say what to do:\n{err}");
        assert!(entries(&out).is_empty(), "{name} wrote {:?}", entries(&out));
    }
}

// ---------------------------------------------------------------------------------------------
// 4. No partial output
// ---------------------------------------------------------------------------------------------

#[test]
fn one_bad_file_means_no_output_at_all() {
    let bad = "tests/fixtures/bad/nan_float.toml";
    for files in [[TINY, bad], [bad, TINY]] {
        let out = tmp();
        let res = cpsim().arg("run").args(files).args(["--quiet", "--out"]).arg(out.path()).output().unwrap();
        let err = expect_input_error(&res, out.path(), &format!("run {files:?}"));
        assert!(err.contains(bad), "the message does not name {bad}:\n{err}");
        assert!(entries(out.path()).is_empty(), "run {files:?} wrote {:?}", entries(out.path()));
    }
}

// ---------------------------------------------------------------------------------------------
// 5. init, schema, --help
// ---------------------------------------------------------------------------------------------

#[test]
fn init_prints_a_valid_scenario() {
    let res = cpsim().arg("init").output().unwrap();
    assert!(res.status.success(), "init failed: {}", text(&res.stderr));
    assert!(!res.stdout.is_empty(), "init printed nothing");
    let dir = tmp();
    let file = dir.path().join("starter.toml");
    fs::write(&file, &res.stdout).unwrap();
    cpsim().arg("check").arg(&file).assert().success().stdout(predicates::str::contains("starter.toml: ok"));
}

#[test]
fn schema_lists_keys() {
    let res = cpsim().arg("schema").output().unwrap();
    assert!(res.status.success(), "schema failed: {}", text(&res.stderr));
    let s = text(&res.stdout);
    for key in ["`platform.feed_supply`", "`categories.short_drama.p_pay`", "`scenario.days`", "`subsidies[].form`"] {
        assert!(s.contains(key), "schema lacks {key}");
    }
}

#[test]
fn help_works_for_every_subcommand() {
    cpsim().arg("--help").assert().success().stdout(predicates::str::contains("Usage"));
    for sub in ["run", "check", "init", "schema"] {
        cpsim()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicates::str::contains("Usage"))
            .stdout(predicates::str::contains(sub));
    }
}

// ---------------------------------------------------------------------------------------------
// 6. docs/SCHEMA.md is the committed output of `cpsim schema`
// ---------------------------------------------------------------------------------------------

#[test]
fn schema_doc_is_up_to_date() {
    let res = cpsim().arg("schema").output().unwrap();
    assert!(res.status.success(), "schema failed: {}", text(&res.stderr));
    let generated = text(&res.stdout);
    let path = Path::new(ROOT).join("docs/SCHEMA.md");
    let committed = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/SCHEMA.md is missing or differs from `cpsim schema`; regenerate it with\n\n    \
         cargo run -- schema > docs/SCHEMA.md\n"
    );
}
