//! `validate`: the CI gate. Structure, provenance and ONNX Runtime parity checks from
//! [`crate::validate`], plus the checks that need the fit directory's report: the
//! features are among the hashed inputs, the report matches its schema, and (with
//! `--baseline`) AdUE's test error ROC-AUC has not dropped beyond the margin
//! ([`super::baseline`]). Every input is read first: a
//! missing or unreadable file, an ONNX file that does not decode, features that do not fit
//! the head, or malformed JSON is bad input (exit 2) before ONNX Runtime is loaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use super::baseline::{gate_check, GateRun};
use super::Outcome;
use crate::export::model;
use crate::fit_dir::{FitDir, REPORT};
use crate::load::{read_capped, read_features, MAX_JSON_BYTES, MAX_MODEL_BYTES};
use crate::onnx::pb;
use crate::report::InputFile;
use crate::settings::{Printer, ValidateInput, ValidateSettings};
use crate::validate::{all_passed, validate_bytes, Check, Reference, ValidateInputs};

/// Runs `validate`; prints one line per check; exit 1 when any fails.
pub fn run(args: &ValidateSettings, printer: &Printer) -> anyhow::Result<Outcome> {
    let dir = FitDir::new(&args.fit);
    let heads = dir.heads()?;
    let recorded = dir.recorded_inputs()?;
    let (bytes, onnx) = read_onnx(&args.onnx)?;
    // The Mahalanobis reference is needed only when the model has that output.
    let has_mahalanobis = (onnx.graph.as_ref())
        .is_some_and(|g| g.output.iter().any(|o| o.name() == model::MAHALANOBIS));
    let mahalanobis = if has_mahalanobis {
        Some(dir.mahalanobis()?)
    } else {
        None
    };
    let reference = Reference {
        original: &heads.original,
        ue: &heads.ue,
        mahalanobis: mahalanobis.as_ref(),
    };
    let hashed = hashed_inputs(&recorded);
    // Every input is read before the model runs: bad input fails fast, with exit 2.
    let report_path = args.report.clone().unwrap_or_else(|| dir.path(REPORT));
    let report = read_json(&report_path)?;
    let gate = match &args.baseline {
        Some(old) => {
            let old = GateRun::read("baseline", old)?;
            let new = GateRun::read("new", &args.fit)?;
            Some(gate_check(&old, &new, args.margin)?)
        }
        None => None,
    };
    let mut checks = match &args.input {
        ValidateInput::Features(path) => {
            let features = read_features(path)?;
            features.check_against(&heads.original)?;
            let inputs = ValidateInputs {
                onnx: &args.onnx,
                features: features.features.view(),
                reference,
                hashed_inputs: &hashed,
            };
            printer.stage(format!(
                "validate: {} rows of {} through ONNX Runtime",
                features.rows(),
                path.display()
            ));
            let mut checks = validate_bytes(&bytes, &inputs)?;
            checks.push(features_hashed(&recorded, &features.sha256, path));
            checks
        }
        ValidateInput::Texts(t) => {
            let model = crate::validate::graft::ModelFile {
                path: &args.onnx,
                bytes: &bytes,
                model: &onnx,
            };
            super::validate_texts::checks(t, model, reference, &hashed, printer)?
        }
    };
    checks.push(report_schema(&report, &report_path));
    checks.extend(gate);
    print_table(&checks);
    Ok(if all_passed(&checks) {
        Outcome::Success
    } else {
        Outcome::ChecksFailed
    })
}

/// Reads and decodes the ONNX file. A file that is not an ONNX protobuf at all is bad
/// input (exit 2), like a missing one; a model that decodes but breaks the contract is a
/// failed check (exit 1).
fn read_onnx(path: &Path) -> anyhow::Result<(Vec<u8>, pb::ModelProto)> {
    use prost::Message;
    let bytes = read_capped(path, MAX_MODEL_BYTES)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let model = pb::ModelProto::decode(bytes.as_slice()).with_context(|| {
        format!(
            "{}: not an ONNX model (the protobuf does not decode)",
            path.display()
        )
    })?;
    Ok((bytes, model))
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = read_capped(path, MAX_JSON_BYTES)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{}: not valid JSON", path.display()))
}

/// `(name, path)` of every recorded input file that is still where it was: their hashes
/// in the ONNX metadata must match the files.
fn hashed_inputs(recorded: &BTreeMap<String, InputFile>) -> Vec<(String, PathBuf)> {
    recorded
        .iter()
        .filter_map(|(name, f)| {
            let p = PathBuf::from(&f.path);
            p.is_file().then(|| (name.clone(), p))
        })
        .collect()
}

/// The features given to `validate` must be one of the feature files the fit recorded.
fn features_hashed(recorded: &BTreeMap<String, InputFile>, sha: &str, path: &Path) -> Check {
    match recorded.iter().find(|(_, f)| f.sha256 == sha) {
        Some((name, _)) => Check::pass(
            "features.hashed",
            format!("{} is the recorded input `{name}`", path.display()),
        ),
        None => Check::fail(
            "features.hashed",
            format!(
                "{} (sha256 {sha}) is none of the inputs recorded in the report",
                path.display()
            ),
        ),
    }
}

/// The report validates against `schemas/report.schema.json`.
fn report_schema(report: &Value, path: &Path) -> Check {
    match crate::report::schema::validate_value(report) {
        Ok(()) => Check::pass("report.schema", format!("{} is valid", path.display())),
        Err(e) => Check::fail("report.schema", format!("{}: {e}", path.display())),
    }
}

fn print_table(checks: &[Check]) {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in checks {
        println!(
            "{}  {:width$}  {}",
            if c.passed { "PASS" } else { "FAIL" },
            c.name,
            c.detail
        );
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    println!("{} checks, {failed} failed", checks.len());
}
