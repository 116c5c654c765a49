//! Validate: prove that an exported ONNX head does what the Rust reference does.
//!
//! [`validate`] returns a list of named [`Check`]s (the CLI prints them as a table
//! and exits 0 when all pass, 1 otherwise); it returns [`ValidateError`] only for
//! bad input (exit 2): unreadable files, a feature matrix of the wrong width, or
//! an ONNX Runtime that cannot be loaded. A model that does not parse, has the
//! wrong structure, fails to load in ONNX Runtime or disagrees with the reference
//! is a failed check, not an error.
//!
//! The checks, in order: [`structure`] (protobuf, IR, opset, operators, no
//! external data, IO names / types / shapes), [`provenance`] (metadata keys, UE
//! spec, SHA-256 of the input files), then [`parity`] (every row through ONNX
//! Runtime against `Head::logits / probabilities / uncertainty`, the
//! Mahalanobis reference and `U ≤ τ`, within the tolerances of CONTRACT §4).
//! The list is a plain `Vec<Check>` so later stages can append their own. [`gate`] is the
//! non-inferiority test behind `validate --baseline`.

pub mod check;
pub mod gate;
pub mod graft;
pub mod ort_run;
pub mod parity;
pub mod provenance;
pub mod structure;
pub mod texts;

use std::path::{Path, PathBuf};

use ndarray::ArrayView2;

pub use check::{all_passed, Check};

use crate::export::MahalanobisExport;
use crate::head::{Head, UeHead};

/// What the model is compared against.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    /// The original head (`logits`, `probabilities`).
    pub original: &'a Head,
    /// The fitted UE head and the spec of its `U` (`uncertainty`).
    pub ue: &'a UeHead,
    /// The Mahalanobis scorer, required when the model has a `mahalanobis` output.
    pub mahalanobis: Option<&'a MahalanobisExport>,
}

/// Everything [`validate`] needs.
#[derive(Debug, Clone, Copy)]
pub struct ValidateInputs<'a> {
    /// The ONNX file.
    pub onnx: &'a Path,
    /// `[N, D]` rows to run through both implementations.
    pub features: ArrayView2<'a, f32>,
    /// The Rust reference.
    pub reference: Reference<'a>,
    /// `(name, file)` of inputs whose recorded `adue.sha256.<name>` must match
    /// `crate::load::sha256_file(file)` (files, not directories: record and check the
    /// files of a directory input one by one).
    pub hashed_inputs: &'a [(String, PathBuf)],
}

/// Bad input: validation could not be attempted (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The feature matrix does not fit the heads.
    #[error("features have shape [{rows}, {got}] but the head expects [N >= 1, {expected}]")]
    Features {
        /// Rows given.
        rows: usize,
        /// Width given.
        got: usize,
        /// Width `D` of the heads.
        expected: usize,
    },
    /// ONNX Runtime could not be loaded.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    /// An input file to check against its recorded SHA-256 could not be read.
    #[error(transparent)]
    Input(#[from] crate::load::LoadError),
    /// The original model of a grafted one could not be run on the texts.
    #[error(transparent)]
    Original(#[from] crate::extract::ExtractError),
}

/// Runs every check on the file named in `inputs`.
pub fn validate(inputs: &ValidateInputs) -> Result<Vec<Check>, ValidateError> {
    let bytes = std::fs::read(inputs.onnx).map_err(|source| ValidateError::Read {
        path: inputs.onnx.to_path_buf(),
        source,
    })?;
    validate_bytes(&bytes, inputs)
}

/// Runs every check on `bytes` (the contents of `inputs.onnx`).
pub fn validate_bytes(bytes: &[u8], inputs: &ValidateInputs) -> Result<Vec<Check>, ValidateError> {
    let d = inputs.reference.original.input_dim();
    let (rows, got) = inputs.features.dim();
    if rows == 0 || got != d {
        return Err(ValidateError::Features {
            rows,
            got,
            expected: d,
        });
    }
    let mut checks = Vec::new();
    let Some(model) = structure::check(bytes, &inputs.reference, &mut checks) else {
        return Ok(checks);
    };
    provenance::check(&model, &inputs.reference, inputs.hashed_inputs, &mut checks)?;
    parity::check(bytes, &model, inputs, &mut checks)?;
    Ok(checks)
}
