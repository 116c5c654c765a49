//! Keys of the ONNX `metadata_props` and the provenance hashes.
//!
//! The exporter writes the keys it can derive from the heads and the threshold
//! ([`EXPORTER_KEYS`]); the caller supplies the provenance it alone knows (the
//! seed, the selected hyper-parameters, label names, metric conventions and the
//! SHA-256 of every input file) under the keys of [`REQUIRED_PROVENANCE_KEYS`]
//! and [`SHA256_PREFIX`] (digests from `crate::load::sha256_file`). The validator
//! checks that all of them are present.

use std::collections::BTreeMap;

use super::threshold::CertifiedThreshold;
use super::ExportSpec;

/// Prefix of every key we write.
pub const PREFIX: &str = "adue.";
/// `adue.sha256.<input name>` = lowercase hex SHA-256 of that input file.
pub const SHA256_PREFIX: &str = "adue.sha256.";
/// Producer name and version, e.g. `adue-compile 0.1.0`.
pub const PRODUCER: &str = "adue.producer";
/// SmoothMax sharpness λ.
pub const LAMBDA: &str = "adue.lambda";
/// Rescaling factor of `U`.
pub const SCALE: &str = "adue.scale";
/// Clamp margin of `U`.
pub const EPS: &str = "adue.eps";
/// Number of classes `C`.
pub const NUM_CLASSES: &str = "adue.num_classes";
/// Feature width `D`.
pub const INPUT_DIM: &str = "adue.input_dim";
/// Kind of the original head (`linear` | `dense`), plus `/<activation>` for dense heads.
pub const ORIGINAL_HEAD: &str = "adue.original_head";
/// Kind of the UE head, same format.
pub const UE_HEAD: &str = "adue.ue_head";
/// Comma-separated graph outputs, in order.
pub const OUTPUTS: &str = "adue.outputs";
/// Certified threshold `τ` (`none` when not requested).
pub const THRESHOLD_TAU: &str = "adue.threshold.tau";
/// One-sentence statement of the threshold's guarantee.
pub const THRESHOLD_GUARANTEE: &str = "adue.threshold.guarantee";
/// Target risk `R` of the threshold.
pub const THRESHOLD_TARGET_RISK: &str = "adue.threshold.target_risk";
/// δ of the threshold.
pub const THRESHOLD_DELTA: &str = "adue.threshold.delta";
/// Calibration split of the threshold.
pub const THRESHOLD_SPLIT: &str = "adue.threshold.calibration_split";
/// Rows / accepted / errors / upper bound on the calibration split.
pub const THRESHOLD_EVIDENCE: &str = "adue.threshold.evidence";

/// Keys the caller must supply (the exporter cannot know them).
pub const REQUIRED_PROVENANCE_KEYS: [&str; 7] = [
    "adue.seed",
    "adue.selected.alpha",
    "adue.selected.beta",
    "adue.selected.lr",
    "adue.selected.epochs",
    "adue.label_names",
    "adue.metric_conventions",
];

/// Every key the exporter writes itself (callers may not supply these).
pub const EXPORTER_KEYS: [&str; 15] = [
    PRODUCER,
    LAMBDA,
    SCALE,
    EPS,
    NUM_CLASSES,
    INPUT_DIM,
    ORIGINAL_HEAD,
    UE_HEAD,
    OUTPUTS,
    THRESHOLD_TAU,
    THRESHOLD_GUARANTEE,
    THRESHOLD_TARGET_RISK,
    THRESHOLD_DELTA,
    THRESHOLD_SPLIT,
    THRESHOLD_EVIDENCE,
];

/// The key under which the hash of input `name` is recorded.
pub fn sha256_key(name: &str) -> String {
    format!("{SHA256_PREFIX}{name}")
}

/// `linear`, `dense/tanh` or `dense/gelu`.
pub(crate) fn head_description(head: &crate::head::Head) -> String {
    match head.activation() {
        None => head.kind().as_str().to_string(),
        Some(a) => format!("{}/{}", head.kind().as_str(), a.as_str()),
    }
}

/// The entries the exporter derives from the spec; `outputs` lists the graph outputs.
pub(crate) fn exporter_entries(spec: &ExportSpec, outputs: &[&str]) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_string(), v);
    };
    put(
        PRODUCER,
        format!("adue-compile {}", env!("CARGO_PKG_VERSION")),
    );
    put(LAMBDA, spec.ue.spec.lambda.to_string());
    put(SCALE, spec.ue.spec.scale.to_string());
    put(EPS, spec.ue.spec.eps.to_string());
    put(NUM_CLASSES, spec.original.num_classes().to_string());
    put(INPUT_DIM, spec.original.input_dim().to_string());
    put(ORIGINAL_HEAD, head_description(spec.original));
    put(UE_HEAD, head_description(&spec.ue.head));
    put(OUTPUTS, outputs.join(","));
    match spec.threshold {
        None => {
            put(THRESHOLD_TAU, "none".to_string());
            put(
                THRESHOLD_GUARANTEE,
                "none: no certified threshold was requested; the model has no `accept` output"
                    .to_string(),
            );
        }
        Some(t) => threshold_entries(t, &mut put),
    }
    m
}

fn threshold_entries(t: &CertifiedThreshold, put: &mut impl FnMut(&str, String)) {
    put(THRESHOLD_TAU, t.tau.to_string());
    put(THRESHOLD_GUARANTEE, t.guarantee());
    put(THRESHOLD_TARGET_RISK, t.target_risk.to_string());
    put(THRESHOLD_DELTA, t.delta.to_string());
    put(THRESHOLD_SPLIT, t.calibration_split.clone());
    put(
        THRESHOLD_EVIDENCE,
        format!(
            "rows={} accepted={} errors={} upper_bound={} level={} candidates_certified={} \
             restarts={:?} restart_source={}",
            t.calibration_rows,
            t.accepted,
            t.errors,
            t.risk_upper_bound,
            t.level,
            t.candidates_certified,
            t.restarts,
            t.restart_source
        ),
    );
}
