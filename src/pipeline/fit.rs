//! `fit` subcommand.

use crate::cli::{Printer, FitArgs};
use super::Outcome;

/// Runs `fit`.
pub fn run(_args: &FitArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`fit` is not wired yet")
}
