//! `export` subcommand.

use super::Outcome;
use crate::cli::{ExportArgs, Printer};

/// Runs `export`.
pub fn run(_args: &ExportArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`export` is not wired yet")
}
