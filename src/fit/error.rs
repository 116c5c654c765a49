//! Everything that can go wrong while fitting and selecting an AdUE head.

use std::path::PathBuf;

/// An error of the fit stage. Every message names the offending file, split, tensor or
/// parameter and what was expected, so a user can act on it without reading the code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// A hyperparameter is out of its domain (e.g. λ ≤ 0, a dropout of 1, batch size 0).
    #[error("invalid parameter `{name}` = {value}: expected {expected}")]
    InvalidParam {
        /// Parameter name as in the builder (`lambda`, `batch_size`, ...).
        name: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },

    /// A grid has an empty axis or an invalid value (lr ≤ 0, epochs 0, negative α/β, NaN,
    /// duplicates).
    #[error("invalid grid: {reason}")]
    InvalidGrid {
        /// What is wrong, naming the axis and the value.
        reason: String,
    },

    /// A grid file could not be read, parsed or validated.
    #[error("grid file {path}: {reason}")]
    GridFile {
        /// The JSON file given with `--grid`.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Two inputs that must agree in shape do not.
    #[error("{split} {tensor}: expected shape {expected}, got {got}")]
    Shape {
        /// `train` or `val`.
        split: &'static str,
        /// `features`, `labels` or `original_logits`.
        tensor: &'static str,
        /// The shape implied by the head or the other tensors.
        expected: String,
        /// The shape found.
        got: String,
    },

    /// A label is not a class of the head.
    #[error("{split} labels: row {row} has label {label}, but the head has {num_classes} classes")]
    LabelOutOfRange {
        /// `train` or `val`.
        split: &'static str,
        /// Row index.
        row: usize,
        /// The offending label.
        label: usize,
        /// Number of classes `C` of the head.
        num_classes: usize,
    },

    /// A NaN or infinite value in an input tensor.
    #[error("{split} {tensor}: non-finite value at row {row}")]
    NonFinite {
        /// `train` or `val`.
        split: &'static str,
        /// `features` or `original_logits`.
        tensor: &'static str,
        /// First row holding a NaN or ±inf.
        row: usize,
    },

    /// The original head is right on every row, or wrong on every row, of a split, so the
    /// error indicator `e` has a single value: nothing can be learned (train) or the error
    /// ROC-AUC used for selection is undefined (val).
    #[error(
        "{split} split: the original head is wrong on {errors} of {rows} rows; AdUE needs both \
         errors and correct predictions in every split"
    )]
    SingleOutcome {
        /// `train` or `val`.
        split: &'static str,
        /// Rows where the original head is wrong.
        errors: usize,
        /// Rows in the split.
        rows: usize,
    },

    /// A hold-out split cannot be drawn: the data has too few rows, or a class too few rows
    /// to appear on both sides.
    #[error("cannot split the rows in two: {reason}")]
    Holdout {
        /// What is missing, with counts.
        reason: String,
    },

    /// Cross-validated selection cannot run on these rows (too few errors or correct rows
    /// for the number of folds).
    #[error("cannot cross-validate on the training rows: {reason}")]
    CrossValidation {
        /// What is missing, with counts and what to do.
        reason: String,
    },

    /// No grid configuration produced a defined validation ROC-AUC (every run diverged to
    /// non-finite uncertainties).
    #[error("all {configurations} grid configurations diverged (no finite validation ROC-AUC)")]
    AllDiverged {
        /// Number of configurations tried.
        configurations: usize,
    },

    /// The local thread pool could not be built.
    #[error("cannot start {threads} worker threads: {reason}")]
    ThreadPool {
        /// Requested number of threads.
        threads: usize,
        /// The error from rayon.
        reason: String,
    },
}
