//! Command line: parse flags, resolve them into [`crate::settings`], run one pipeline
//! stage, map the outcome to an exit code.
//!
//! Exit codes (CONTRACT §3): 0 success, 1 a `validate` check failed, 2 bad input,
//! usage, I/O, export or ONNX Runtime error. A closed stdout (`| head`) is not an error.

mod args;
mod resolve;

pub use args::{
    ActivationArg, Cli, Command, ExportArgs, FeaturesArgs, FitArgs, InspectArgs, ReportArgs,
    ValidateArgs,
};

use std::process::ExitCode;

use clap::Parser;

use crate::pipeline::{self, Outcome};
use crate::settings::Printer;

/// Entry point used by `main`: parses the flags and runs the subcommand.
pub fn main() -> ExitCode {
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    match run(&cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::ChecksFailed) => ExitCode::from(1),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", render(&err));
            ExitCode::from(2)
        }
    }
}

/// Runs one parsed command line.
pub fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let printer = Printer::new(cli.quiet);
    match &cli.command {
        Command::Inspect(a) => pipeline::inspect::run(&a.settings(), &printer),
        Command::Features(a) => pipeline::features::run(&a.settings(), &printer),
        Command::Fit(a) => pipeline::fit::run(&a.settings()?, &printer),
        Command::Export(a) => pipeline::export::run(&a.settings(), &printer),
        Command::Validate(a) => pipeline::validate::run(&a.settings(), &printer),
        Command::Report(a) => pipeline::report::run(&a.settings(), &printer),
    }
}

/// The error and its causes on one line, `outer: inner`. Many of our error messages
/// already quote their source (so that they read well alone); a cause whose text is
/// already in the line is not repeated.
fn render(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
