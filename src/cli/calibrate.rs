//! The commands of calibration: `cpsim calibrate`, `cpsim forecast` and `cpsim synthesize`
//! (synthetic observed data made by the simulator itself).

use super::args::{pool, CalibrateArgs, ForecastArgs, SynthesizeArgs};
use super::{CliError, STOP};
use crate::model::series::SeriesKey;
use crate::report::output::{self, OutputError};
use crate::study::calibrate::{self as cal, observed::Observed};
use crate::study::forecast;
use crate::study::shard::ShardSpec;
use std::path::Path;
use std::sync::atomic::Ordering;

fn stem_of(file: &Path) -> Result<String, CliError> {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem.is_empty() || stem.starts_with('.') {
        return Err(CliError::Usage(format!("{}: cannot name an output folder after this file", file.display())));
    }
    Ok(stem)
}

pub(super) fn calibrate(a: &CalibrateArgs) -> Result<(), CliError> {
    let stem = stem_of(&a.file)?;
    let c = cal::load(&a.file, &a.observed, a.seed)?;
    output::check_writable(&a.out)?;
    let pool = pool(a.threads)?;
    let state_path = a.out.join(format!("calibrate-{stem}.state.json"));
    if let Some(spec) = a.shard {
        // Shards of one batch run side by side in one folder: they only read the state, so they
        // take no lock.
        return pool.install(|| shard(a, &c, &state_path, spec));
    }
    let _lock = crate::report::lock::OutLock::acquire(&a.out).map_err(|e| CliError::Usage(e.to_string()))?;
    if a.merge {
        return merge(a, &c, &stem, &state_path);
    }
    if a.fresh {
        let _ = std::fs::remove_file(&state_path);
    }
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    let started = std::time::Instant::now();
    let quiet = a.quiet;
    let progress = move |g: u32, sims: u64| {
        if !quiet {
            eprintln!("generation {g} done, {sims} simulations so far");
        }
    };
    let before = cal::state::load(&state_path, &c.hash).map_or(0, |s| s.simulations);
    let st = pool.install(|| cal::run(&c, &state_path, &STOP, &progress))?;
    let secs = started.elapsed().as_secs_f64();
    finish(a, &c, &stem, &st)?;
    if !quiet {
        let run_now = st.simulations - before;
        eprintln!(
            "{} generations, {} simulations ({run_now} in this run, {:.1} s, {:.1} simulations a second)",
            st.generations.len(),
            st.simulations,
            secs,
            run_now as f64 / secs.max(1e-9)
        );
    }
    Ok(())
}

/// Writes a finished calibration's folder and prints its summary.
fn finish(a: &CalibrateArgs, c: &cal::Calibration, stem: &str, st: &cal::state::State) -> Result<(), CliError> {
    let report = cal::outputs::report(c, st, &a.observed.display().to_string());
    let dir = a.out.join(format!("calibrate-{stem}"));
    crate::report::calibrate::write(&dir, &report)?;
    if !a.quiet {
        println!("{:<44} {:>14} {:>14} {:>14} {:>10}", "parameter", "median", "90% low", "90% high", "width");
        for p in &report.params {
            println!("{:<44} {:>14.6} {:>14.6} {:>14.6} {:>10.3}", p.key, p.median, p.lo, p.hi, p.width_ratio);
        }
        if let Some(why) = &st.ended {
            println!("ended early: {why}");
        }
        println!("results in {}", dir.display());
    }
    Ok(())
}

/// The saved state of this calibration, or a new one.
fn state_of(c: &cal::Calibration, state_path: &Path) -> cal::state::State {
    cal::state::load(state_path, &c.hash).unwrap_or_else(|| cal::state::State::new(&c.hash))
}

/// `--shard K/N`: shard K's share of the next batch, from the saved state.
fn shard(a: &CalibrateArgs, c: &cal::Calibration, state_path: &Path, spec: ShardSpec) -> Result<(), CliError> {
    let mut st = state_of(c, state_path);
    let Some((g, batch)) = cal::next_batch(c, &mut st) else {
        if !a.quiet {
            println!(
                "the calibration is finished: nothing for shard {}/{} to simulate; `--merge` writes its results",
                spec.k, spec.n
            );
        }
        return Ok(());
    };
    let results = cal::simulate_batch(c, &st, g, batch, Some(spec)).map_err(cal::CalibrateError::from)?;
    let part = cal::shards::Part {
        cpsim_version: env!("CARGO_PKG_VERSION").into(),
        input_hash: c.hash.clone(),
        generation: g,
        batch,
        shard: spec.k,
        of: spec.n,
        results,
    };
    let path = cal::shards::write_part(&cal::shards::root(&a.out, &stem_of(&a.file)?), &part)?;
    if !a.quiet {
        println!("generation {g} batch {batch}: shard {}/{} written to {}", spec.k, spec.n, path.display());
    }
    Ok(())
}

/// `--merge`: the shards of the next batch into the state; the results once it is finished.
fn merge(a: &CalibrateArgs, c: &cal::Calibration, stem: &str, state_path: &Path) -> Result<(), CliError> {
    let mut st = state_of(c, state_path);
    let root = cal::shards::root(&a.out, stem);
    if let Some((g, batch)) = cal::next_batch(c, &mut st) {
        let results = cal::shards::read_parts(&root, &c.hash, g, batch, c.config.particles)?;
        let filled = cal::absorb(c, &mut st, g, batch, results);
        // The budget may end the calibration here, as it would at the next batch of a run
        // without shards.
        let more = cal::next_batch(c, &mut st).is_some();
        cal::state::save(state_path, &st).map_err(cal::CalibrateError::from)?;
        cal::shards::remove_parts(&root);
        if more {
            if !a.quiet {
                match (&st.pending, filled) {
                    (Some(p), _) => println!(
                        "generation {g}: {} of {} particles accepted after {} batch(es); run the shards again \
                         (batch {}), then merge",
                        p.accepted.len(),
                        c.config.particles,
                        p.batches,
                        p.batches
                    ),
                    _ => println!(
                        "generation {g} done ({} simulations so far); run the shards again (generation {}), then merge",
                        st.simulations,
                        g + 1
                    ),
                }
            }
            return Ok(());
        }
    }
    cal::check_started(c, &st)?;
    if !a.quiet {
        println!("the calibration is finished: {} generations, {} simulations", st.generations.len(), st.simulations);
    }
    finish(a, c, stem, &st)
}

pub(super) fn forecast(a: &ForecastArgs) -> Result<(), CliError> {
    let f = forecast::load(&a.dir, a.days, a.draws)?;
    let out = a.out.clone().unwrap_or_else(|| a.dir.parent().map(Path::to_path_buf).unwrap_or_default());
    output::check_writable(&out)?;
    let pool = pool(a.threads)?;
    let started = std::time::Instant::now();
    let runs = pool.install(|| forecast::run(&f))?;
    let report = forecast::report(&f, &runs);
    let dir = out.join(format!("forecast-{}", f.stem));
    crate::report::forecast::write(&dir, &report)?;
    if !a.quiet {
        print!("{}", forecast::table(&report));
        println!("results in {}", dir.display());
        eprintln!(
            "{} draws x {} decisions run in {:.1} s",
            f.draws.len(),
            f.decisions.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

pub(super) fn synthesize(a: &SynthesizeArgs) -> Result<(), CliError> {
    let mut s = crate::scenario::load(&a.file)?;
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    if let Some(d) = a.days {
        if d == 0 {
            return Err(CliError::Usage("--days must be at least 1".into()));
        }
        s.days = d;
    }
    let keys: Vec<SeriesKey> = a
        .series
        .iter()
        .map(|n| SeriesKey::parse(n).and_then(|k| k.check(&s).map(|()| k)))
        .collect::<Result<_, _>>()
        .map_err(|m| CliError::Usage(format!("--series: {m}")))?;
    let series = cal::run_series(&s, &keys);
    let obs = Observed {
        names: a.series.clone(),
        keys,
        days: (0..s.days).collect(),
        values: series.iter().map(|v| v.iter().map(|x| Some(*x)).collect()).collect(),
    };
    let mut text = format!(
        "# SYNTHETIC DATA, not observed: replication 0 of {} (seed {}), {} days, made by\n\
         # `cpsim synthesize {} --series {}{}{}`. Money in RMB a day, other series counts a day.\n",
        a.file.display(),
        s.seed,
        s.days,
        a.file.display(),
        a.series.join(","),
        a.days.map(|d| format!(" --days {d}")).unwrap_or_default(),
        a.seed.map(|d| format!(" --seed {d}")).unwrap_or_default()
    );
    text.push_str(&obs.to_csv(&s));
    use std::io::Write as _;
    std::io::stdout().write_all(text.as_bytes()).map_err(|e| OutputError::Io { path: "stdout".into(), source: e })?;
    Ok(())
}
