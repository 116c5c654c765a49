//! Errors of the scoring stage.

/// Why scoring could not produce a result. Degenerate but valid data (no errors, one
/// class, constant scores) is *not* an error: it yields metrics that are `null` with a reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScoreError {
    /// Two arrays that describe the same rows disagree on the number of rows.
    #[error(
        "split `{split}`: `{tensor}` has {got} rows, expected {expected} (the rows of `labels`)"
    )]
    RowMismatch {
        /// Split being scored (`train`, `val`, `test`, ...).
        split: String,
        /// The array with the wrong length.
        tensor: &'static str,
        /// Number of labels.
        expected: usize,
        /// Number of rows found.
        got: usize,
    },
    /// An array has the wrong number of columns.
    #[error("split `{split}`: `{tensor}` has {got} columns, expected {expected}")]
    ColumnMismatch {
        /// Split being scored.
        split: String,
        /// The array with the wrong width.
        tensor: &'static str,
        /// Expected width (classes for logits, the fitted dimension for features).
        expected: usize,
        /// Width found.
        got: usize,
    },
    /// A gold label is not a class index of the head.
    #[error("split `{split}`: label {label} at row {row} is outside 0..{classes}")]
    LabelOutOfRange {
        /// Split being scored.
        split: String,
        /// First offending row.
        row: usize,
        /// The label found there.
        label: usize,
        /// Number of classes `C`.
        classes: usize,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("split `{split}`: `{tensor}` holds a non-finite value at row {row}")]
    NonFinite {
        /// Split being scored.
        split: String,
        /// The array holding the value.
        tensor: &'static str,
        /// First offending row.
        row: usize,
    },
    /// A split has no rows, so no metric exists.
    #[error("split `{split}` has no rows")]
    EmptySplit {
        /// The empty split.
        split: String,
    },
    /// A split that the evaluation needs was not given.
    #[error("split `{split}` is required ({purpose}) but was not given")]
    MissingSplit {
        /// The split name that was looked for.
        split: String,
        /// What it is needed for.
        purpose: &'static str,
    },
    /// Two splits were given the same name.
    #[error("split `{split}` is given twice")]
    DuplicateSplit {
        /// The repeated name.
        split: String,
    },
    /// The covariance stayed numerically singular even with the largest jitter tried.
    #[error(
        "{what}: the {dim}×{dim} covariance is not positive definite (or has condition number \
         above {max_condition:e}) even with jitter {jitter:e}; are the features constant?"
    )]
    NotPositiveDefinite {
        /// Which covariance (`mahalanobis within-class`, `mahalanobis background`, ...).
        what: String,
        /// Its dimension.
        dim: usize,
        /// The largest jitter tried.
        jitter: f64,
        /// The accepted condition-number bound.
        max_condition: f64,
    },
    /// A hyperparameter is outside its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The score file could not be parsed or has an unexpected layout.
    #[error("scores file: {0}")]
    ScoresFile(String),
    /// An error raised by linfa (dataset handling).
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}
