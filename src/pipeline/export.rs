//! `export` subcommand.

use crate::cli::{Printer, ExportArgs};
use super::Outcome;

/// Runs `export`.
pub fn run(_args: &ExportArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`export` is not wired yet")
}
