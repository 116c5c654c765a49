//! Metadata checks: required keys, the UE spec and the SHA-256 of the inputs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Check, Reference, ValidateError};
use crate::export::metadata::{self as keys, head_description, sha256_key};
use crate::export::model::ACCEPT;
use crate::load::sha256_file;
use crate::onnx::pb::ModelProto;

/// `metadata_props` as a map (the last value wins for a repeated key, which the
/// `metadata.keys` check reports).
pub fn metadata_map(model: &ModelProto) -> BTreeMap<&str, &str> {
    model
        .metadata_props
        .iter()
        .map(|e| (e.key(), e.value()))
        .collect()
}

/// The certified threshold recorded in the metadata: `Ok(None)` for `none`,
/// `Err(text)` when the key is missing or does not parse as a finite f32.
pub fn recorded_threshold(meta: &BTreeMap<&str, &str>) -> Result<Option<f32>, String> {
    match meta.get(keys::THRESHOLD_TAU) {
        None => Err(format!("{} is missing", keys::THRESHOLD_TAU)),
        Some(&"none") => Ok(None),
        Some(v) => match v.parse::<f32>() {
            Ok(t) if t.is_finite() => Ok(Some(t)),
            _ => Err(format!(
                "{} = {v:?} is not a finite number",
                keys::THRESHOLD_TAU
            )),
        },
    }
}

/// Appends the metadata checks.
pub fn check(
    model: &ModelProto,
    reference: &Reference,
    hashed_inputs: &[(String, PathBuf)],
    checks: &mut Vec<Check>,
) -> Result<(), ValidateError> {
    let meta = metadata_map(model);
    key_check(model, &meta, checks);
    spec_check(&meta, reference, checks);
    threshold_check(model, &meta, checks);
    for (name, path) in hashed_inputs {
        let actual = sha256_file(path)?;
        let key = sha256_key(name);
        let check_name = format!("metadata.sha256.{name}");
        checks.push(match meta.get(key.as_str()) {
            None => Check::fail(check_name, format!("{key} is not recorded")),
            Some(&recorded) if recorded == actual => {
                Check::pass(check_name, format!("{} matches {actual}", path.display()))
            }
            Some(recorded) => Check::fail(
                check_name,
                format!(
                    "{} has SHA-256 {actual} but the model records {recorded}",
                    path.display()
                ),
            ),
        });
    }
    Ok(())
}

fn key_check(model: &ModelProto, meta: &BTreeMap<&str, &str>, checks: &mut Vec<Check>) {
    let thresholded = !matches!(meta.get(keys::THRESHOLD_TAU), Some(&"none"));
    let threshold_only = [
        keys::THRESHOLD_TARGET_RISK,
        keys::THRESHOLD_DELTA,
        keys::THRESHOLD_SPLIT,
        keys::THRESHOLD_EVIDENCE,
    ];
    let mut missing: Vec<String> = keys::EXPORTER_KEYS
        .iter()
        .filter(|k| thresholded || !threshold_only.contains(k))
        .chain(keys::REQUIRED_PROVENANCE_KEYS.iter())
        .filter(|k| !meta.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    let hashes = meta
        .keys()
        .filter(|k| k.starts_with(keys::SHA256_PREFIX))
        .count();
    if hashes == 0 {
        missing.push(format!("{}<input>", keys::SHA256_PREFIX));
    }
    let repeated = model.metadata_props.len() - meta.len();
    checks.push(if missing.is_empty() && repeated == 0 {
        Check::pass(
            "metadata.keys",
            format!(
                "{} entries, {hashes} input hashes, producer {}",
                meta.len(),
                meta.get(keys::PRODUCER).unwrap_or(&"?")
            ),
        )
    } else if !missing.is_empty() {
        Check::fail("metadata.keys", format!("missing: {}", missing.join(", ")))
    } else {
        Check::fail("metadata.keys", format!("{repeated} repeated keys"))
    });
}

fn spec_check(meta: &BTreeMap<&str, &str>, reference: &Reference, checks: &mut Vec<Check>) {
    let s = &reference.ue.spec;
    let numbers = [
        (keys::LAMBDA, s.lambda),
        (keys::SCALE, s.scale),
        (keys::EPS, s.eps),
        (keys::NUM_CLASSES, reference.original.num_classes() as f64),
        (keys::INPUT_DIM, reference.original.input_dim() as f64),
    ];
    let mut bad = Vec::new();
    for (key, want) in numbers {
        match meta.get(key).map(|v| v.parse::<f64>()) {
            Some(Ok(got)) if got == want => {}
            Some(Ok(got)) => bad.push(format!("{key} = {got}, reference {want}")),
            Some(Err(_)) | None => bad.push(format!("{key} missing or not a number")),
        }
    }
    for (key, head) in [
        (keys::ORIGINAL_HEAD, reference.original),
        (keys::UE_HEAD, &reference.ue.head),
    ] {
        let want = head_description(head);
        if meta.get(key).copied() != Some(want.as_str()) {
            bad.push(format!("{key} = {:?}, reference {want:?}", meta.get(key)));
        }
    }
    checks.push(if bad.is_empty() {
        Check::pass(
            "metadata.ue_spec",
            format!(
                "lambda {} scale {} eps {}, C = {}, D = {}",
                s.lambda,
                s.scale,
                s.eps,
                reference.original.num_classes(),
                reference.original.input_dim()
            ),
        )
    } else {
        Check::fail("metadata.ue_spec", bad.join("; "))
    });
}

fn threshold_check(model: &ModelProto, meta: &BTreeMap<&str, &str>, checks: &mut Vec<Check>) {
    let has_accept = model
        .graph
        .as_ref()
        .is_some_and(|g| g.output.iter().any(|o| o.name() == ACCEPT));
    checks.push(match (recorded_threshold(meta), has_accept) {
        (Err(e), _) => Check::fail("metadata.threshold", e),
        (Ok(Some(t)), true) => Check::pass(
            "metadata.threshold",
            format!(
                "tau = {t}; {}",
                meta.get(keys::THRESHOLD_GUARANTEE)
                    .unwrap_or(&"no guarantee recorded")
            ),
        ),
        (Ok(None), false) => Check::pass("metadata.threshold", "no threshold, no accept output"),
        (Ok(Some(t)), false) => Check::fail(
            "metadata.threshold",
            format!("tau = {t} is recorded but the model has no {ACCEPT} output"),
        ),
        (Ok(None), true) => Check::fail(
            "metadata.threshold",
            format!("the model has an {ACCEPT} output but records no threshold"),
        ),
    });
}
