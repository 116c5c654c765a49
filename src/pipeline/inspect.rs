//! `inspect` subcommand.

use super::Outcome;
use crate::cli::{InspectArgs, Printer};

/// Runs `inspect`.
pub fn run(_args: &InspectArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`inspect` is not wired yet")
}
