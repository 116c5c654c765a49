//! Errors of the report stage.

use std::path::PathBuf;

/// Why a report could not be built, validated, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A number that the report requires to be finite is NaN or infinite.
    #[error("report field `{field}` is not finite: {value}")]
    NonFinite {
        /// Path of the field in the report (e.g. `fit.grid[3].alpha`).
        field: String,
        /// The offending value.
        value: f64,
    },
    /// `fit.selected` points outside the grid.
    #[error("fit.selected: index {index} is outside the grid of {len} configurations")]
    SelectionOutOfGrid {
        /// The selected index.
        index: usize,
        /// Configurations in the grid.
        len: usize,
    },
    /// The report does not conform to `schemas/report.schema.json`.
    #[error("report does not match its JSON Schema:\n{}", errors.join("\n"))]
    Schema {
        /// One message per violation, each naming the JSON path.
        errors: Vec<String>,
    },
    /// A `report.json` could not be parsed.
    #[error("cannot parse report {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The report could not be read.
    #[error("cannot read report {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Serialisation failed (cannot happen for a well-formed [`super::Report`]).
    #[error("cannot serialise the report: {0}")]
    Serialize(#[from] serde_json::Error),
    /// Writing the output failed.
    #[error(transparent)]
    Write(#[from] crate::output::WriteError),
}
