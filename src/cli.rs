//! The command line: `cpsim run | check | init | schema`, parsed with clap, dispatched to the
//! library. Errors carry their exit code: 2 for bad input (a scenario, a path), 1 otherwise.

use crate::output::{self, OutputError, Provenance};
use crate::runner;
use crate::scenario::{self, Scenario, ScenarioError};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

/// A starter scenario with every section, commented.
pub const STARTER: &str = include_str!("starter.toml");

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
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files (TOML)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output folder; each scenario goes to OUT/<file stem>/
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Override the number of replications
    #[arg(long)]
    pub reps: Option<u32>,
    /// Override the master seed
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores); results do not depend on it
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print nothing but errors
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot start the thread pool: {0}")]
    Threads(String),
}

impl CliError {
    /// 2 for input the user can fix; 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Scenario(_) | CliError::Output(_) | CliError::Usage(_) => 2,
            CliError::Threads(_) => 1,
        }
    }
}

/// Runs a parsed command line; what it prints for the user goes to stdout/stderr here.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(args) => run_scenarios(&args),
        Command::Check { files } => {
            for f in &files {
                let s = scenario::load(f)?;
                println!(
                    "{}: ok ({} categories, {} creators, {} titles, {} days, {} replications)",
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
            print!("{STARTER}");
            Ok(())
        }
        Command::Schema => {
            print!("{}", scenario::schema::reference());
            Ok(())
        }
    }
}

/// The stem a scenario's results are written under; two files with the same stem would
/// overwrite each other, so that is refused.
fn stems(files: &[PathBuf]) -> Result<Vec<String>, CliError> {
    let mut out: Vec<String> = Vec::new();
    for f in files {
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if stem.is_empty() || stem.starts_with('.') {
            return Err(CliError::Usage(format!("{}: cannot name an output folder after this file", f.display())));
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

fn load_all(args: &RunArgs) -> Result<Vec<(Scenario, Provenance)>, CliError> {
    let mut out = Vec::new();
    for f in &args.files {
        let mut s = scenario::load(f)?;
        if let Some(r) = args.reps {
            if r == 0 {
                return Err(CliError::Usage("--reps must be at least 1".into()));
            }
            s.replications = r;
        }
        if let Some(seed) = args.seed {
            s.seed = seed;
        }
        let bytes = std::fs::read(f).map_err(|source| ScenarioError::Read { path: f.clone(), source })?;
        out.push((s, Provenance { file: f.display().to_string(), hash: output::file_hash(&bytes) }));
    }
    Ok(out)
}

fn run_scenarios(args: &RunArgs) -> Result<(), CliError> {
    // Every input is checked before any work starts, so a bad file leaves no output at all.
    let stems = stems(&args.files)?;
    let loaded = load_all(args)?;
    output::check_writable(&args.out)?;
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.threads {
        if n == 0 {
            return Err(CliError::Usage("--threads must be at least 1".into()));
        }
        builder = builder.num_threads(n);
    }
    let pool = builder.build().map_err(|e| CliError::Threads(e.to_string()))?;
    let scenarios: Vec<Scenario> = loaded.iter().map(|(s, _)| s.clone()).collect();
    let total: u32 = scenarios.iter().map(|s| s.replications).sum();
    let done = std::sync::atomic::AtomicU32::new(0);
    let quiet = args.quiet;
    let started = std::time::Instant::now();
    let results = pool.install(|| {
        runner::run_all(&scenarios, &|| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if !quiet {
                eprint!("\r{n}/{total} replications");
            }
        })
    });
    if !quiet {
        eprintln!(" in {:.1} s", started.elapsed().as_secs_f64());
    }
    for (((s, prov), res), stem) in loaded.iter().zip(&results).zip(&stems) {
        let dir = output::write_scenario(&args.out, stem, s, res, prov)?;
        if !quiet {
            print_headline(s, &dir, res);
        }
    }
    Ok(())
}

fn print_headline(s: &Scenario, dir: &Path, res: &runner::ScenarioResult) {
    use crate::metrics::{metric_index, stat};
    let get = |name: &str| {
        let k = metric_index(name).expect("known metric");
        stat(&res.reps.iter().map(|r| r.metrics()[k]).collect::<Vec<_>>())
    };
    let (gmv, paid, creators) = (get("gmv"), get("commission_settled"), get("creators_paid"));
    println!(
        "{}: GMV {:.0} RMB (95% CI {:.0} to {:.0}), payouts settled {:.0} RMB, creators paid {:.0}; results in {}",
        s.name,
        gmv.mean,
        gmv.lo,
        gmv.hi,
        paid.mean,
        creators.mean,
        dir.display()
    );
}
