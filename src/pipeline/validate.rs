//! `validate` subcommand.

use crate::cli::{Printer, ValidateArgs};
use super::Outcome;

/// Runs `validate`.
pub fn run(_args: &ValidateArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("`validate` is not wired yet")
}
