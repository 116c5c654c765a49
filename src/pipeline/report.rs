//! `report` subcommand.

use crate::cli::{Printer, ReportArgs};
use super::Outcome;

/// Runs `report`.
pub fn run(_args: &ReportArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`report` is not wired yet")
}
