//! The stages wired together, one file per subcommand:
//! `inspect` (load), `features` (texts → features with the user's ONNX model),
//! `fit` (load → fit → score → report.json), `export` (standalone, or grafted onto the
//! user's model by [`graft`]),
//! `validate` (with its `--baseline` gate in [`baseline`]) and `report`. Each returns an
//! [`Outcome`] or an error (exit 2).

pub mod baseline;
pub mod export;
pub mod features;
pub mod fit;
pub mod graft;
pub mod inputs;
pub mod inspect;
pub mod report;
pub mod validate;
pub mod validate_texts;

/// How a successful run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything ran and every check passed (exit 0).
    Success,
    /// `validate` ran and at least one check failed (exit 1).
    ChecksFailed,
}
