//! `validate` subcommand.

use super::Outcome;
use crate::cli::{Printer, ValidateArgs};

/// Runs `validate`.
pub fn run(_args: &ValidateArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`validate` is not wired yet")
}
