//! `inspect` subcommand.

use crate::cli::{Printer, InspectArgs};
use super::Outcome;

/// Runs `inspect`.
pub fn run(_args: &InspectArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`inspect` is not wired yet")
}
