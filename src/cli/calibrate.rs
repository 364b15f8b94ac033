//! The commands of calibration: `cpsim calibrate`, `cpsim forecast` and `cpsim synthesize`
//! (synthetic observed data made by the simulator itself).

use super::args::{pool, CalibrateArgs, ForecastArgs, SynthesizeArgs};
use super::{CliError, STOP};
use crate::model::series::SeriesKey;
use crate::report::output::{self, OutputError};
use crate::study::calibrate::{self as cal, observed::Observed};
use crate::study::forecast;
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
    let _lock = crate::report::lock::OutLock::acquire(&a.out).map_err(|e| CliError::Usage(e.to_string()))?;
    let state_path = a.out.join(format!("calibrate-{stem}.state.json"));
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
    let before = crate::study::calibrate::state::load(&state_path, &c.hash).map_or(0, |s| s.simulations);
    let st = pool.install(|| cal::run(&c, &state_path, &STOP, &progress))?;
    let secs = started.elapsed().as_secs_f64();
    let report = cal::outputs::report(&c, &st, &a.observed.display().to_string());
    let dir = a.out.join(format!("calibrate-{stem}"));
    crate::report::calibrate::write(&dir, &report)?;
    if !quiet {
        println!("{:<44} {:>14} {:>14} {:>14} {:>10}", "parameter", "median", "90% low", "90% high", "width");
        for p in &report.params {
            println!("{:<44} {:>14.6} {:>14.6} {:>14.6} {:>10.3}", p.key, p.median, p.lo, p.hi, p.width_ratio);
        }
        if let Some(why) = &st.ended {
            println!("ended early: {why}");
        }
        println!("results in {}", dir.display());
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
