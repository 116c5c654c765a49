//! Export: the original head and the fitted UE head as one ONNX file (CONTRACT §4).
//!
//! [`build_model`] turns an [`ExportSpec`] into an ONNX [`ModelProto`]
//! (opset 18, IR 8, every weight an initializer, no external data),
//! [`encode`] serialises it, and [`export`] writes it atomically. The same spec
//! always gives the same bytes: metadata comes from a `BTreeMap`, initializers
//! and nodes are added in a fixed order, and protobuf fields are encoded in
//! field-number order.
//!
//! [`threshold`] certifies the rejection threshold behind the `accept` output.

pub mod graft;
pub mod graph;
pub mod mahalanobis;
pub mod metadata;
pub mod model;
pub mod threshold;

use std::collections::BTreeMap;
use std::path::Path;

pub use mahalanobis::MahalanobisExport;
pub use model::build_model;
pub use threshold::{
    certify, certify_with_restarts, clopper_pearson_upper, restart_thresholds,
    smallest_certifiable_risk, CalibrationSet, CertifiedThreshold, ReferenceScores, ThresholdError,
};

use crate::head::{Head, UeHead};
use crate::onnx::pb::ModelProto;
use crate::output::{write_atomic, WriteError};

/// Everything that goes into one exported file.
#[derive(Debug, Clone)]
pub struct ExportSpec<'a> {
    /// The fine-tuned model's head: `logits` and `probabilities` come from it unchanged.
    pub original: &'a Head,
    /// The fitted UE head with λ, scale and clamp of `U`: `uncertainty` comes from it.
    pub ue: &'a UeHead,
    /// Adds the `mahalanobis` output when present.
    pub mahalanobis: Option<&'a MahalanobisExport>,
    /// Adds the `accept` output (`U ≤ τ`) and its guarantee when present.
    pub threshold: Option<&'a CertifiedThreshold>,
    /// Provenance for `metadata_props`: at least [`metadata::REQUIRED_PROVENANCE_KEYS`]
    /// and one `adue.sha256.<input>` entry; the keys of [`metadata::EXPORTER_KEYS`]
    /// are written by the exporter and may not appear here.
    pub metadata: BTreeMap<String, String>,
}

/// Why a model could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A tensor has the wrong shape.
    #[error("cannot export: tensor {tensor} has shape {got}, expected {expected}")]
    Shape {
        /// The tensor, e.g. `ue.out_proj.bias`.
        tensor: String,
        /// The expected shape.
        expected: String,
        /// The shape found.
        got: String,
    },
    /// A tensor holds NaN or ±inf.
    #[error("cannot export: tensor {tensor} contains a non-finite value")]
    NonFinite {
        /// The tensor.
        tensor: String,
    },
    /// The UE head does not have the original head's input width and class count.
    #[error("cannot export: the UE head is {ue} but the original head is {original}")]
    HeadMismatch {
        /// `[C, D]` of the original head.
        original: String,
        /// `[C, D]` of the UE head.
        ue: String,
    },
    /// A field of the [`UeSpec`](crate::head::UeSpec) is out of range.
    #[error("cannot export: UE spec field {field} = {got} is out of range")]
    UeSpec {
        /// `lambda`, `scale` or `eps`.
        field: &'static str,
        /// The value given.
        got: f64,
    },
    /// A metadata key the exporter writes itself was supplied by the caller.
    #[error(
        "cannot export: metadata key {key} is written by the exporter and may not be supplied"
    )]
    ReservedMetadataKey {
        /// The key.
        key: String,
    },
    /// A required provenance key is missing.
    #[error("cannot export: metadata key {key} is required (provenance of the model)")]
    MissingMetadata {
        /// The key.
        key: String,
    },
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Serialises a model to protobuf bytes.
pub fn encode(model: &ModelProto) -> Vec<u8> {
    crate::onnx::encode_model(model)
}

/// Builds, encodes and atomically writes the model to `out`.
pub fn export(spec: &ExportSpec, out: &Path) -> Result<(), ExportError> {
    let model = build_model(spec)?;
    write_atomic(out, &encode(&model))?;
    Ok(())
}
