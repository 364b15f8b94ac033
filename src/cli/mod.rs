//! The command line (`cpsim run | check | init | schema | compare | chart | sensitivity | optimize |
//! merge`),
//! dispatched to the library. Errors carry their exit code: 2 for bad input (a scenario, a path), 1 otherwise.

use crate::model::metrics::RepData;
use crate::report::output::{self, OutputError, Provenance};
use crate::scenario::{self, ScenarioError};
use crate::study::runner::{self, Unit};
use crate::study::shard::{self, ShardError, ShardManifest, ShardSpec};
use crate::study::sweep::{self, Overrides, Study};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

mod args;
mod calibrate;
mod optimize;

pub use args::{
    CalibrateArgs, Cli, Command, ForecastArgs, OptimizeArgs, RunArgs, RunOptions, SensitivityArgs, SynthesizeArgs,
};

/// Prints to stdout, ignoring a closed pipe (`cpsim schema | head` must not panic).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
pub(crate) use outln;
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

/// A starter scenario with every section, commented.
pub const STARTER: &str = include_str!("../starter.toml");

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error("cannot start the thread pool: {0}")]
    Threads(String),
    #[error(transparent)]
    Calibrate(#[from] crate::study::calibrate::CalibrateError),
    #[error("interrupted: finished results were kept, nothing half-written; run the same command again to resume")]
    Interrupted,
}

impl CliError {
    /// 2 for input the user can fix; 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Scenario(_) | CliError::Output(_) | CliError::Usage(_) | CliError::Shard(_) => 2,
            CliError::Threads(_) => 1,
            CliError::Calibrate(crate::study::calibrate::CalibrateError::Interrupted(_)) => 130,
            CliError::Calibrate(_) => 2,
            CliError::Interrupted => 130,
        }
    }
}

/// Runs a parsed command line; what it prints for the user goes to stdout/stderr here.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(args) => run_scenarios(&args),
        Command::Check { files } => {
            for f in &files {
                let st = sweep::load(f, Overrides::default())?;
                let s = &st.variants[0].scenario;
                let variants =
                    if st.is_sweep() { format!(", {} sweep variants", st.variants.len()) } else { String::new() };
                // The burn-in is said beside the days: by default it runs 60 days that `days`
                // does not count, which a file that names none does not show.
                let burn_in = match s.burn_in_days {
                    0 => String::new(),
                    b => format!(" after a {b}-day burn-in"),
                };
                outln!(
                    "{}: ok ({} categories, {} creators, {} titles, {} days{burn_in}, {} replications{variants})",
                    f.display(),
                    s.categories.len(),
                    s.creators.count,
                    s.operators.titles,
                    s.days,
                    s.replications
                );
            }
            Ok(())
        }
        Command::Init => {
            out!("{STARTER}");
            Ok(())
        }
        Command::Schema => {
            out!("{}{}", scenario::schema::reference(), crate::study::optimize::schema_section());
            Ok(())
        }
        Command::Calibrate(args) => calibrate::calibrate(&args),
        Command::Forecast(args) => calibrate::forecast(&args),
        Command::Synthesize(args) => calibrate::synthesize(&args),
        Command::Merge { dirs, out, quiet } => merge(&dirs, out.as_deref(), quiet),
        Command::Sensitivity(args) => sensitivity(&args),
        Command::Optimize(args) => optimize::optimize(&args),
        Command::Compare { a, b, out, run, quiet } => compare(&a, &b, &out, run, quiet),
        Command::Chart { dirs } => {
            for d in &dirs {
                let written = crate::report::charts::draw_scenario(d).map_err(OutputError::from)?;
                outln!("{}: {} files drawn", d.display(), written.len());
            }
            Ok(())
        }
    }
}

/// Set by Ctrl-C: units not yet started are skipped, finished variants stay written.
static STOP: AtomicBool = AtomicBool::new(false);

/// The stem a scenario's results are written under; two files with the same stem would
/// overwrite each other, so that is refused.
fn stems(files: &[PathBuf]) -> Result<Vec<String>, CliError> {
    let mut out: Vec<String> = Vec::new();
    for f in files {
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if stem.is_empty() || stem.starts_with('.') {
            return Err(CliError::Usage(format!("{}: cannot name an output folder after this file", f.display())));
        }
        // Folders the run itself writes beside the scenarios' own: a scenario named after one
        // would be overwritten by it, or mixed into it.
        if stem == "compare" || stem.ends_with(".shards") {
            return Err(CliError::Usage(format!(
                "{}: `{stem}` is the name of a folder cpsim writes (`compare/` compares several \
                 scenarios, `<stem>.shards/` holds the shards of `<stem>`): rename the file",
                f.display()
            )));
        }
        if out.contains(&stem) {
            return Err(CliError::Usage(format!(
                "two scenarios would write to the same folder `{stem}`: rename one file"
            )));
        }
        out.push(stem);
    }
    Ok(out)
}

/// Where a variant's results go: `OUT/<stem>/` for a plain scenario, `OUT/<stem>/<variant>/`
/// for a point of a sweep.
fn target(out: &Path, st: &Study, v: usize) -> PathBuf {
    let name = &st.variants[v].name;
    if name.is_empty() {
        out.join(&st.stem)
    } else {
        out.join(&st.stem).join(name)
    }
}

fn provenance(st: &Study, v: usize, file: &str) -> Provenance {
    let var = &st.variants[v];
    let params = var
        .params
        .iter()
        .map(|(k, val)| {
            (
                k.clone(),
                match val {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            )
        })
        .collect();
    Provenance { file: file.to_owned(), hash: var.hash.clone(), params }
}

/// A sweep variant whose folder already holds the results of exactly this input is skipped.
fn up_to_date(dir: &Path, st: &Study, v: usize) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("manifest.json")) else { return false };
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else { return false };
    let s = &st.variants[v].scenario;
    m["scenario_hash"] == st.variants[v].hash.as_str()
        && m["cpsim_version"] == env!("CARGO_PKG_VERSION")
        && m["seed"] == s.seed
        && m["replications"] == s.replications
        && dir.join("summary.csv").is_file()
}

/// A bar over simulated days (every replication's), with the replications done in its message.
fn day_progress(days: u64, replications: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(days);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {percent:>3}% of simulated days, {msg}, {elapsed} elapsed, ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar.set_message(format!("0/{replications} replications"));
    bar
}

fn progress(total: u64, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    // indicatif draws only when stderr is a terminal.
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} replications, {elapsed} elapsed, ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn run_scenarios(args: &RunArgs) -> Result<(), CliError> {
    // Every input is checked before any work starts, so a bad file leaves no output at all.
    let stems = stems(&args.files)?;
    args.run.check()?;
    let studies: Vec<Study> =
        args.files.iter().map(|f| sweep::load(f, args.run.overrides())).collect::<Result<_, _>>()?;
    debug_assert_eq!(stems, studies.iter().map(|s| s.stem.clone()).collect::<Vec<_>>());
    output::check_writable(&args.out)?;
    // Before any allocation in proportion to the run: refuse absurd sizes (see guard.rs).
    crate::study::guard::guard(&studies, args.run.threads(), args.force).map_err(|r| CliError::Usage(r.to_string()))?;
    // One run at a time per output folder (shards of one run share it, so they do not lock).
    let _lock = match args.shard {
        None => Some(crate::report::lock::OutLock::acquire(&args.out).map_err(|e| CliError::Usage(e.to_string()))?),
        Some(_) => None,
    };
    if args.shard.is_none() {
        output::remove_stale_temps(&args.out, &stems);
    }
    let pool = args.run.pool()?;
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    let files: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let all = runner::units(&studies);
    if let Some(spec) = args.shard {
        return run_shard(args, &studies, &files, &all, spec, &pool);
    }
    let todo: Vec<Unit> = all
        .into_iter()
        .filter(|u| {
            let st = &studies[u.study];
            !(st.is_sweep() && up_to_date(&target(&args.out, st, u.variant), st, u.variant))
        })
        .collect();
    let bar = day_progress(runner::days(&studies, &todo), todo.len(), args.quiet);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();
    pool.install(|| {
        runner::run_units_by_day(
            &studies,
            &todo,
            &STOP,
            &|| bar.inc(1),
            &|_, _| {
                let k = done.fetch_add(1, Ordering::Relaxed) + 1;
                bar.set_message(format!("{k}/{} replications", todo.len()));
                Ok::<(), CliError>(())
            },
            &|k, v, reps| {
                let st = &studies[k];
                output::write_variant(
                    &target(&args.out, st, v),
                    &st.variants[v].scenario,
                    &reps,
                    &provenance(st, v, &files[k]),
                )?;
                Ok(())
            },
        )
    })?;
    bar.finish_and_clear();
    if STOP.load(Ordering::SeqCst) {
        return Err(CliError::Interrupted);
    }
    for st in &studies {
        finish_study(&args.out, st, args.quiet)?;
    }
    // Several plain scenarios in one command: a comparison of their headline metrics.
    let plain: Vec<PathBuf> = studies.iter().filter(|st| !st.is_sweep()).map(|st| target(&args.out, st, 0)).collect();
    if plain.len() > 1 {
        let dir = args.out.join("compare");
        crate::report::charts::draw_compare(&plain, &dir).map_err(OutputError::from)?;
        if !args.quiet {
            outln!("comparison of {} scenarios in {}", plain.len(), dir.display());
        }
    }
    if !args.quiet {
        let n = todo.len();
        eprintln!("{n} replication{} run in {:.1} s", if n == 1 { "" } else { "s" }, started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// After its variants are written: a sweep's `sweep.csv` (and no folders of variants the file no
/// longer has), and one line for the user.
fn finish_study(out: &Path, st: &Study, quiet: bool) -> Result<(), CliError> {
    if st.is_sweep() {
        let variants: Vec<_> = st.variants.iter().map(|v| (v.name.as_str(), v.params.as_slice())).collect();
        output::write_sweep(&out.join(&st.stem), &st.param_names, &variants)?;
        crate::report::charts::draw_sweep(&out.join(&st.stem)).map_err(OutputError::from)?;
        if !quiet {
            outln!(
                "{}: {} variants, results in {}",
                st.stem,
                st.variants.len(),
                out.join(&st.stem).join("sweep.csv").display()
            );
        }
    } else if !quiet {
        let dir = target(out, st, 0);
        outln!("{}: {}", printable(&st.variants[0].scenario.name), output::headline(&dir).unwrap_or_default());
        outln!("  results in {}", dir.display());
    }
    Ok(())
}

/// A name from a scenario file, safe to print on a terminal: control characters (an escape
/// sequence that would recolour or clear the screen, a carriage return that would hide what came
/// before) are shown escaped, `\u{1b}`, instead of acting.
fn printable(name: &str) -> String {
    let mut shown = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

fn run_shard(
    args: &RunArgs,
    studies: &[Study],
    files: &[String],
    all: &[Unit],
    spec: ShardSpec,
    pool: &rayon::ThreadPool,
) -> Result<(), CliError> {
    let mine: Vec<Unit> = all.iter().enumerate().filter(|(i, _)| spec.owns(*i)).map(|(_, u)| *u).collect();
    let collected: Mutex<Vec<(Unit, RepData)>> = Mutex::new(Vec::new());
    let bar = day_progress(runner::days(studies, &mine), mine.len(), args.quiet);
    pool.install(|| {
        runner::run_units_by_day(
            studies,
            &mine,
            &STOP,
            &|| bar.inc(1),
            &|u, d| {
                let mut c = collected.lock().unwrap_or_else(|e| e.into_inner());
                c.push((u, d.clone()));
                bar.set_message(format!("{}/{} replications", c.len(), mine.len()));
                Ok::<(), CliError>(())
            },
            &|_, _, _| Ok(()),
        )
    })?;
    bar.finish_and_clear();
    if STOP.load(Ordering::SeqCst) {
        return Err(CliError::Interrupted);
    }
    // A test hook: a forced failure of one shard, to check that a merge refuses a missing shard.
    if std::env::var("CPSIM_FAIL_SHARD").ok().and_then(|v| v.parse::<u32>().ok()) == Some(spec.k) {
        return Err(CliError::Usage(format!("shard {}/{} failed on purpose (CPSIM_FAIL_SHARD)", spec.k, spec.n)));
    }
    let mut data = collected.into_inner().unwrap_or_else(|e| e.into_inner());
    data.sort_by_key(|(u, _)| *u);
    for (k, st) in studies.iter().enumerate() {
        let units: Vec<(Unit, RepData)> =
            data.iter().filter(|(u, _)| u.study == k).map(|(u, d)| (Unit { study: 0, ..*u }, d.clone())).collect();
        let manifest = ShardManifest {
            cpsim_version: env!("CARGO_PKG_VERSION").into(),
            scenario_file: files[k].clone(),
            stem: st.stem.clone(),
            replications: args.run.reps,
            seed: args.run.seed,
            study_hash: output::file_hash(format!("{:?}{:?}{}", args.run.reps, args.run.seed, st.text).as_bytes()),
            shard: spec.k,
            of: spec.n,
            units: units.iter().map(|(u, _)| *u).collect(),
        };
        let dir = shard::write_shard(&shard::shards_root(&args.out, &st.stem), &st.text, &manifest, &units)?;
        if !args.quiet {
            outln!(
                "{}: shard {}/{} ({} replications) written to {}",
                st.stem,
                spec.k,
                spec.n,
                units.len(),
                dir.display()
            );
        }
    }
    Ok(())
}

fn merge(dirs: &[PathBuf], out: Option<&Path>, quiet: bool) -> Result<(), CliError> {
    for root in dirs {
        let m = shard::read_shards(root)?;
        let out_dir =
            out.map(Path::to_path_buf).unwrap_or_else(|| root.parent().map(Path::to_path_buf).unwrap_or_default());
        let st =
            sweep::load_text(m.text.clone(), &m.manifest.stem, Path::new(&m.manifest.scenario_file), m.overrides())?;
        let studies = vec![st];
        let expected = runner::units(&studies);
        let got: Vec<Unit> = m.data.iter().map(|(u, _)| *u).collect();
        if got != expected {
            return Err(CliError::Usage(format!(
                "{}: the shards hold {} of the {} replications this scenario needs; was a shard run with other arguments?",
                root.display(),
                got.len(),
                expected.len()
            )));
        }
        let st = &studies[0];
        let mut data = m.data.into_iter().peekable();
        for v in 0..st.variants.len() {
            let mut reps = Vec::new();
            while let Some((_, d)) = data.next_if(|(u, _)| u.variant == v) {
                reps.push(d);
            }
            output::write_variant(
                &target(&out_dir, st, v),
                &st.variants[v].scenario,
                &reps,
                &provenance(st, v, &m.manifest.scenario_file),
            )?;
        }
        finish_study(&out_dir, st, quiet)?;
    }
    Ok(())
}

fn compare(a: &Path, b: &Path, out: &Path, run: RunOptions, quiet: bool) -> Result<(), CliError> {
    run.check()?;
    let sa = sweep::load(a, run.overrides())?;
    // B runs with A's replications and seed: the same streams for the same entities.
    let base = &sa.variants[0].scenario;
    let ov = Overrides { replications: Some(base.replications), seed: Some(base.seed) };
    let sb = sweep::load(b, ov)?;
    if sa.is_sweep() || sb.is_sweep() {
        return Err(CliError::Usage("compare takes two plain scenarios, not sweeps".into()));
    }
    let dir = out.join(format!("compare-{}-vs-{}", sa.stem, sb.stem));
    output::check_writable(out)?;
    let pool = run.pool()?;
    let studies = vec![sa, sb];
    let units = runner::units(&studies);
    let data: Mutex<Vec<(Unit, RepData)>> = Mutex::new(Vec::new());
    let bar = day_progress(runner::days(&studies, &units), units.len(), quiet);
    let done = std::sync::atomic::AtomicUsize::new(0);
    pool.install(|| {
        runner::run_units_by_day(
            &studies,
            &units,
            &STOP,
            &|| bar.inc(1),
            &|u, d| {
                data.lock().unwrap_or_else(|e| e.into_inner()).push((u, d.clone()));
                let k = done.fetch_add(1, Ordering::Relaxed) + 1;
                bar.set_message(format!("{k}/{} replications (A and B)", units.len()));
                Ok::<(), CliError>(())
            },
            &|_, _, _| Ok(()),
        )
    })?;
    bar.finish_and_clear();
    let mut data = data.into_inner().unwrap_or_else(|e| e.into_inner());
    data.sort_by_key(|(u, _)| *u);
    let side = |k: usize| data.iter().filter(|(u, _)| u.study == k).map(|(_, d)| d.clone()).collect::<Vec<_>>();
    let rows = crate::study::compare::paired(&side(0), &side(1));
    // The episode metrics (docs/VALIDATION.md): per category, per landing, attempts, titles.
    let (sa, sb) = (&studies[0].variants[0].scenario, &studies[1].variants[0].scenario);
    let ep_rows = crate::study::episodes::paired(sa, &side(0), sb, &side(1));
    let title = format!("B = {}  vs  A = {}", sb.name, sa.name);
    let changes = crate::report::charts::paired::ordered(&crate::study::compare::series(sa, &side(0), sb, &side(1)));
    // Written whole or not at all, like a run's result folder.
    output::write_atomically(&dir, |tmp| {
        output::put(tmp, "paired.csv", &crate::study::compare::csv(&rows))?;
        output::put(tmp, "episode.csv", &crate::study::episodes::csv(&ep_rows))?;
        crate::report::charts::paired::draw(&changes, &title, &tmp.join("compare.png"))?;
        crate::report::charts::write_paired_page(
            &sa.name,
            &sb.name,
            &changes,
            &tmp.join("compare.png"),
            &tmp.join("compare.html"),
        )?;
        crate::report::charts::draw_levels(&ep_rows, &title, &tmp.join("episode_levels.png"))?;
        Ok(())
    })?;
    let path = dir.join("paired.csv");
    if quiet {
        return Ok(());
    }
    print_changes(&changes);
    outln!(
        "written to {}, episode.csv, compare.png, compare.html and episode_levels.png in {}",
        path.display(),
        dir.display()
    );
    Ok(())
}

/// The terminal table of a comparison: the reader's name of each metric, A, B and the change with
/// its interval (paired), labelled and formatted by `report::labels`; no "NaN" ever.
fn print_changes(changes: &[crate::report::charts::paired::Change]) {
    use crate::report::labels;
    let n = changes.iter().map(|c| c.n).min().unwrap_or(0);
    if n < 2 {
        outln!("{}", labels::one_replication_wording());
    } else {
        outln!("change of B from A with its {} (paired)", labels::interval_wording(n));
    }
    outln!("{:<44} {:>18} {:>18}  {}", "metric", "A", "B", "change of B from A");
    let mut group = "";
    for c in changes {
        if c.group != group {
            group = &c.group;
            outln!("{group}");
        }
        let name: String = labels::short_label(&c.metric).chars().take(42).collect();
        outln!(
            "  {:<42} {:>18} {:>18}  {}",
            name,
            labels::format_metric(&c.metric, c.unit, c.a_mean, n > 1),
            labels::format_metric(&c.metric, c.unit, c.b_mean, n > 1),
            c.text()
        );
    }
}

fn sensitivity(a: &SensitivityArgs) -> Result<(), CliError> {
    use crate::study::sensitivity::{self as sens, SensitivityError};
    let err = |e: SensitivityError| match e {
        SensitivityError::Scenario(e) => CliError::Scenario(e),
        SensitivityError::Usage(m) => CliError::Usage(m),
        SensitivityError::Output(e) => CliError::Output(e),
        SensitivityError::Interrupted => CliError::Interrupted,
    };
    a.run.check()?;
    let opts = sens::Options {
        step: a.step,
        params: (!a.params.is_empty()).then(|| a.params.clone()),
        overrides: a.run.overrides(),
    };
    let plan = sens::plan(&a.file, &opts).map_err(err)?;
    output::check_writable(&a.out)?;
    crate::study::guard::guard(&plan.studies, a.run.threads(), a.force).map_err(|r| CliError::Usage(r.to_string()))?;
    let _lock = crate::report::lock::OutLock::acquire(&a.out).map_err(|e| CliError::Usage(e.to_string()))?;
    output::remove_stale_temps(&a.out, &[]);
    let pool = a.run.pool()?;
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    let bar = progress(plan.units() as u64, a.quiet);
    let started = std::time::Instant::now();
    let rows = pool.install(|| sens::run(&plan, &STOP, &|| bar.inc(1))).map_err(err)?;
    bar.finish_and_clear();
    let dir = a.out.join(format!("sensitivity-{}", plan.stem));
    sens::write(&dir, &plan, &rows, &a.file.display().to_string())?;
    if !a.quiet {
        out!("{}", sens::table(&plan, &rows, 20));
        outln!("results in {}", dir.display());
        eprintln!("{} replications run in {:.1} s", plan.units(), started.elapsed().as_secs_f64());
    }
    Ok(())
}
