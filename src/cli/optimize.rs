//! `cpsim optimize FILE`: the best decision of a file's `[optimize]` table, searched with common
//! random numbers (`study::optimize`), resumable from `OUT/optimize-<stem>.state.json`.

use super::{progress, CliError, OptimizeArgs, STOP};
use crate::report::output::{self, OutputError};
use crate::study::optimize::search::{OptimizeError, Search};
use crate::study::optimize::state::State;
use crate::study::optimize::{summary, Optimization};
use std::sync::atomic::{AtomicUsize, Ordering};

fn err(e: OptimizeError) -> CliError {
    match e {
        OptimizeError::Scenario(e) => CliError::Scenario(e),
        OptimizeError::Usage(m) => CliError::Usage(m),
        OptimizeError::Save(path, source) => CliError::Output(OutputError::Io { path: path.into(), source }),
        OptimizeError::Interrupted => CliError::Interrupted,
    }
}

pub(super) fn optimize(a: &OptimizeArgs) -> Result<(), CliError> {
    a.run.check()?;
    if a.run.reps.is_some() {
        return Err(CliError::Usage(
            "optimize chooses the replications itself: set `first_replications` and `max_replications` in [optimize]"
                .into(),
        ));
    }
    let opt = Optimization::load(&a.file, a.run.seed).map_err(CliError::Scenario)?;
    let stem = opt.stem.clone();
    let first = opt.scenario(&opt_first_point(&opt)).map_err(CliError::Scenario)?;
    output::check_writable(&a.out)?;
    let _lock = crate::report::lock::OutLock::acquire(&a.out).map_err(|e| CliError::Usage(e.to_string()))?;
    let dir = a.out.join(format!("optimize-{stem}"));
    output::remove_stale_temps(&a.out, &[format!("optimize-{stem}")]);
    let state_path = a.out.join(format!("optimize-{stem}.state.json"));
    let mut state = State::load(&state_path, &opt.hash()).unwrap_or_else(|| State::new(&opt.hash()));
    let resumed = state.runs();
    let pool = a.run.pool()?;
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    let bar = progress(opt.spec.runs, a.quiet);
    bar.set_position(resumed);
    // A test hook: stop after this many rounds that ran something, as Ctrl-C would.
    let stop_after: Option<usize> = std::env::var("CPSIM_OPTIMIZE_STOP_AFTER").ok().and_then(|v| v.parse().ok());
    let rounds = AtomicUsize::new(0);
    let started = std::time::Instant::now();
    let mut saved = |s: &State| {
        s.save(&state_path).map_err(|e| OptimizeError::Save(state_path.display().to_string(), e))?;
        let n = rounds.fetch_add(1, Ordering::SeqCst) + 1;
        if stop_after == Some(n) {
            STOP.store(true, Ordering::SeqCst);
        }
        Ok(())
    };
    let tick = || bar.inc(1);
    let outcome = pool.install(|| {
        Search { opt: &opt, state: &mut state, stop: &STOP, tick: &tick, saved: &mut saved, model: None }.run()
    });
    bar.finish_and_clear();
    let outcome = outcome.map_err(err)?;
    let report = summary::summarize(&opt, &state, &outcome, first.seed, &first.name);
    crate::report::optimize::write(&dir, &report)?;
    let _ = std::fs::remove_file(&state_path);
    if !a.quiet {
        super::outln!("{}", crate::report::optimize::headline(&report).trim_end());
        super::outln!("  results in {}", dir.display());
        eprintln!(
            "{} replications run in {:.1} s{}",
            state.runs() - resumed,
            started.elapsed().as_secs_f64(),
            if resumed > 0 { format!(" ({resumed} resumed from {})", state_path.display()) } else { String::new() }
        );
    }
    Ok(())
}

/// Any candidate: the seed and name are the same for all.
fn opt_first_point(opt: &Optimization) -> Vec<toml::Value> {
    opt.corners().into_iter().next().unwrap_or_default()
}
