//! `fit` subcommand.

use super::Outcome;
use crate::cli::{FitArgs, Printer};

/// Runs `fit`.
pub fn run(_args: &FitArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`fit` is not wired yet")
}
