//! The command line's grammar: commands, their arguments and help texts (clap derive), and the
//! options shared by every command that runs scenarios.

use super::CliError;
use crate::study::shard::ShardSpec;
use crate::study::sweep::Overrides;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "cpsim",
    version,
    about = "Simulates creator promotion (CPS) marketplaces of mini-programs: scenario in, payouts out"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenarios and write their results to OUT/<file stem>/
    Run(RunArgs),
    /// Validate scenarios without running them
    Check {
        /// Scenario files (TOML)
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a commented starter scenario
    Init,
    /// Print the reference of every scenario key (Markdown)
    Schema,
    /// Paired comparison of two scenarios with common random numbers: A, B, B - A and the 95%
    /// interval of the difference, per headline metric; B runs with A's replications and seed
    Compare {
        /// Scenario A (the reference)
        a: PathBuf,
        /// Scenario B (the change)
        b: PathBuf,
        /// Output folder; the comparison goes to OUT/compare-<a>-vs-<b>/paired.csv
        #[arg(long, default_value = "output")]
        out: PathBuf,
        #[command(flatten)]
        run: RunOptions,
        /// Print nothing but errors
        #[arg(long)]
        quiet: bool,
    },
    /// Redraw the charts and report of a result folder from its saved files, without re-running
    Chart {
        /// Result folders (OUT/<stem>, or OUT/<stem>/<variant> of a sweep)
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// One-at-a-time sensitivity: elasticities of GMV, commission settled and creators paid to
    /// each numeric parameter (paired replications), a ranking and a tornado chart in
    /// OUT/sensitivity-<stem>/
    Sensitivity(SensitivityArgs),
    /// The best decision of a file's [optimize] table (decision variables, objective,
    /// constraints, budget of runs): coarse-to-fine grids raced on paired intervals with common
    /// random numbers; results in OUT/optimize-<stem>/, resumable after an interruption
    Optimize(OptimizeArgs),
    /// Fit the parameters of a scenario's [calibrate] table to observed daily data by ABC-SMC;
    /// the posterior, fit charts and a calibrated scenario go to OUT/calibrate-<stem>/
    Calibrate(CalibrateArgs),
    /// Run posterior draws of a calibration forward past the observed window under the
    /// decisions of its [forecast] table, paired on the same draws and seeds; results go to
    /// OUT/forecast-<stem>/
    Forecast(ForecastArgs),
    /// Print replication 0 of a scenario as an observed-data CSV (synthetic data for
    /// calibration tests and examples)
    Synthesize(SynthesizeArgs),
    /// Join the shards of a run (OUT/<stem>.shards) into the results of the run without shards
    Merge {
        /// Shard folders, each `<stem>.shards` as written by `run --shard`
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder (default: the folder holding each `<stem>.shards`)
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors
        #[arg(long)]
        quiet: bool,
    },
}

/// What every command that runs scenarios takes: replications, seed and threads.
#[derive(Args, Debug, Clone, Copy)]
pub struct RunOptions {
    /// Override the number of replications
    #[arg(long)]
    pub reps: Option<u32>,
    /// Override the master seed
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores); results do not depend on it
    #[arg(long)]
    pub threads: Option<usize>,
}

impl RunOptions {
    pub(super) fn check(&self) -> Result<(), CliError> {
        for (name, zero) in [("--reps", self.reps == Some(0)), ("--threads", self.threads == Some(0))] {
            if zero {
                return Err(CliError::Usage(format!("{name} must be at least 1")));
            }
        }
        Ok(())
    }

    pub(super) fn overrides(&self) -> Overrides {
        Overrides { replications: self.reps, seed: self.seed }
    }

    /// The threads the run will have: the memory guard reckons with one replication on each.
    pub(super) fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    pub(super) fn pool(&self) -> Result<rayon::ThreadPool, CliError> {
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(n) = self.threads {
            builder = builder.num_threads(n);
        }
        builder.build().map_err(|e| CliError::Threads(e.to_string()))
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files (TOML)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output folder; each scenario goes to OUT/<file stem>/
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: RunOptions,
    /// Print nothing but errors
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard K of N (1-based) of the units (variant x replication), for a batch engine;
    /// join the shards with `cpsim merge`
    #[arg(long, value_name = "K/N")]
    pub shard: Option<ShardSpec>,
    /// Run even when the estimate of memory or work exceeds the machine's limits
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct SensitivityArgs {
    /// Scenario file (TOML, without [sweep])
    pub file: PathBuf,
    /// Output folder; results go to OUT/sensitivity-<file stem>/
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: RunOptions,
    /// Relative change of each parameter, down and up (0.1 = ±10%)
    #[arg(long, default_value_t = 0.1)]
    pub step: f64,
    /// Parameters to vary, comma-separated key paths; `*` matches any part of a key
    /// (`categories.*.p_pay` varies every category's p_pay together). Default: a curated list
    #[arg(long, value_delimiter = ',')]
    pub params: Vec<String>,
    /// Print nothing but errors
    #[arg(long)]
    pub quiet: bool,
    /// Run even when the estimate of memory or work exceeds the machine's limits
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct OptimizeArgs {
    /// Scenario file (TOML) with an [optimize] table
    pub file: PathBuf,
    /// Output folder; results go to OUT/optimize-<file stem>/
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: RunOptions,
    /// Print nothing but errors
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Scenario file (TOML) with a [calibrate] table
    pub file: PathBuf,
    /// Observed daily data (CSV: date, then one column per series)
    #[arg(long)]
    pub observed: PathBuf,
    /// Output folder; results go to OUT/calibrate-<file stem>/, the saved state beside it
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Override the master seed every particle's seed derives from
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores); results do not depend on it
    #[arg(long)]
    pub threads: Option<usize>,
    /// Start again, ignoring a saved state of an earlier run of the same inputs
    #[arg(long, conflicts_with_all = ["shard", "merge"])]
    pub fresh: bool,
    /// Simulate only shard K of N (1-based) of the next batch of the generation being filled,
    /// into OUT/calibrate-<stem>.shards/, for a batch engine; then join the shards with --merge
    #[arg(long, value_name = "K/N", conflicts_with = "merge")]
    pub shard: Option<ShardSpec>,
    /// Join the shards of the next batch into the saved state, exactly as a run without shards
    /// would; writes the results once the calibration is finished
    #[arg(long)]
    pub merge: bool,
    /// Print nothing but errors
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// A calibration's result folder (OUT/calibrate-<stem>)
    pub dir: PathBuf,
    /// Days to forecast past the observed window (default: [forecast] days, else 30)
    #[arg(long)]
    pub days: Option<u32>,
    /// Posterior draws (default: [forecast] draws, else 50)
    #[arg(long)]
    pub draws: Option<u32>,
    /// Output folder (default: the folder holding the calibration)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores); results do not depend on it
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print nothing but errors
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct SynthesizeArgs {
    /// Scenario file (TOML)
    pub file: PathBuf,
    /// Series to write, comma-separated (market.gmv, category.short_drama.opens, ...)
    #[arg(long, value_delimiter = ',', required = true)]
    pub series: Vec<String>,
    /// Days to write from day 0 (default: the scenario's days)
    #[arg(long)]
    pub days: Option<u32>,
    /// Override the master seed
    #[arg(long)]
    pub seed: Option<u64>,
}

/// A rayon pool of `threads` workers (default: all cores).
pub(super) fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, CliError> {
    if threads == Some(0) {
        return Err(CliError::Usage("--threads must be at least 1".into()));
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    builder.build().map_err(|e| CliError::Threads(e.to_string()))
}
