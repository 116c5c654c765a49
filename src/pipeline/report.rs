//! `report` subcommand.

use super::Outcome;
use crate::cli::{Printer, ReportArgs};

/// Runs `report`.
pub fn run(_args: &ReportArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`report` is not wired yet")
}
