//! The `cpsim` binary: parse the command line, run it, print the error chain, exit.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cpsim::cli::Cli::parse();
    match cpsim::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let err = anyhow::Error::new(e);
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            let code = err.downcast_ref::<cpsim::cli::CliError>().map(|e| e.exit_code()).unwrap_or(1);
            ExitCode::from(code as u8)
        }
    }
}
