//! Parity: ONNX Runtime against the Rust reference on every row.
//!
//! Tolerances (CONTRACT §4): `probabilities` and `uncertainty` within [`ABS_TOL`]
//! absolute; `logits` and `mahalanobis` within [`REL_TOL`] relative, where the
//! relative difference is `|onnx − ref| / max(|ref|, 1)` (a unit floor, so that
//! values near zero are not judged by the rounding of a cancellation). `accept`
//! must equal `U_ref ≤ τ` except on rows whose `U_ref` lies within [`ABS_TOL`] of
//! `τ`, where the two runtimes may legitimately round to different sides.

use std::collections::BTreeMap;

use ndarray::Array2;

use super::ort_run::{run_model, OutputValues, RunFailure};
use super::provenance::{metadata_map, recorded_threshold};
use super::{Check, ValidateError, ValidateInputs};
use crate::export::model::{ACCEPT, LOGITS, MAHALANOBIS, PROBABILITIES, UNCERTAINTY};
use crate::onnx::pb::ModelProto;

/// Absolute tolerance for `probabilities` and `uncertainty`.
pub const ABS_TOL: f64 = 1e-5;
/// Relative tolerance (unit floor) for `logits` and `mahalanobis`.
pub const REL_TOL: f64 = 1e-4;

/// Largest differences between two equally long slices (computed in f64).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffStats {
    /// Values compared.
    pub count: usize,
    /// `max |got − want|`; NaN when any value is NaN.
    pub max_abs: f64,
    /// `max |got − want| / max(|want|, 1)`; NaN when any value is NaN.
    pub max_rel: f64,
    /// Flat index of the largest absolute difference.
    pub worst_index: usize,
}

/// Differences of `got` against the reference `want`.
pub fn diff_stats(got: &[f32], want: &[f32]) -> DiffStats {
    let mut s = DiffStats {
        count: got.len().min(want.len()),
        max_abs: 0.0,
        max_rel: 0.0,
        worst_index: 0,
    };
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (f64::from(g), f64::from(w));
        let abs = (g - w).abs();
        let rel = abs / w.abs().max(1.0);
        if abs.is_nan() {
            s.max_abs = f64::NAN;
            s.max_rel = f64::NAN;
            s.worst_index = i;
            return s;
        }
        if abs > s.max_abs {
            s.max_abs = abs;
            s.worst_index = i;
        }
        s.max_rel = s.max_rel.max(rel);
    }
    s
}

/// Which tolerance an output is judged by.
#[derive(Debug, Clone, Copy)]
enum Tolerance {
    Absolute(f64),
    Relative(f64),
}

fn compare(
    name: &str,
    got: Option<&OutputValues>,
    want: &[f32],
    want_shape: &[usize],
    tol: Tolerance,
) -> Check {
    let key = format!("parity.{name}");
    let (shape, values) = match got {
        Some(OutputValues::Float { shape, values }) => (shape, values),
        Some(OutputValues::Bool { .. }) => return Check::fail(key, "bool output, expected float"),
        None => return Check::fail(key, "ONNX Runtime produced no such output"),
    };
    if shape.as_slice() != want_shape {
        return Check::fail(key, format!("shape {shape:?}, reference {want_shape:?}"));
    }
    let s = diff_stats(values, want);
    let row_len = want_shape.get(1).copied().unwrap_or(1).max(1);
    let (passed, rule) = match tol {
        Tolerance::Absolute(t) => (s.max_abs <= t, format!("abs <= {t:e}")),
        Tolerance::Relative(t) => (s.max_rel <= t, format!("rel <= {t:e}")),
    };
    Check::new(
        key,
        passed,
        format!(
            "{} values: max abs {:.3e}, max rel {:.3e} (worst row {}); need {rule}",
            s.count,
            s.max_abs,
            s.max_rel,
            s.worst_index / row_len
        ),
    )
}

fn flat(a: Array2<f32>) -> Vec<f32> {
    a.iter().copied().collect()
}

/// Runs the model in ONNX Runtime and appends `ort.*` and `parity.*` checks.
pub fn check(
    bytes: &[u8],
    model: &ModelProto,
    inputs: &ValidateInputs,
    checks: &mut Vec<Check>,
) -> Result<(), ValidateError> {
    let x = inputs.features;
    let outputs = match run_model(bytes, x)? {
        Ok(o) => {
            checks.push(Check::pass(
                "ort.run",
                format!(
                    "ONNX Runtime {} ran {} rows, outputs: {}",
                    crate::runtime::ORT_VERSION,
                    x.nrows(),
                    o.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
            o
        }
        Err(RunFailure::Load(e)) => {
            checks.push(Check::fail("ort.load", e));
            return Ok(());
        }
        Err(RunFailure::Run(e)) => {
            checks.push(Check::fail("ort.run", e));
            return Ok(());
        }
    };
    compare_outputs(&outputs, LOGITS, model, inputs, checks);
    Ok(())
}

/// Appends the `parity.*` checks of `outputs` (ONNX Runtime's, rows in the order of
/// `inputs.features`) against the reference on `inputs.features`; `logits` names the
/// output holding the original logits.
pub(crate) fn compare_outputs(
    outputs: &BTreeMap<String, OutputValues>,
    logits: &str,
    model: &ModelProto,
    inputs: &ValidateInputs,
    checks: &mut Vec<Check>,
) {
    let x = inputs.features;
    let r = &inputs.reference;
    let (n, c) = (x.nrows(), r.original.num_classes());
    checks.push(compare(
        logits,
        outputs.get(logits),
        &flat(r.original.logits(x)),
        &[n, c],
        Tolerance::Relative(REL_TOL),
    ));
    checks.push(compare(
        PROBABILITIES,
        outputs.get(PROBABILITIES),
        &flat(r.original.probabilities(x)),
        &[n, c],
        Tolerance::Absolute(ABS_TOL),
    ));
    let u = r.ue.uncertainty(x).to_vec();
    checks.push(compare(
        UNCERTAINTY,
        outputs.get(UNCERTAINTY),
        &u,
        &[n],
        Tolerance::Absolute(ABS_TOL),
    ));
    match (r.mahalanobis, outputs.get(MAHALANOBIS)) {
        (Some(m), got) => checks.push(compare(
            MAHALANOBIS,
            got,
            &m.min_sq_distance(x).to_vec(),
            &[n],
            Tolerance::Relative(REL_TOL),
        )),
        (None, Some(_)) => checks.push(Check::fail(
            format!("parity.{MAHALANOBIS}"),
            "the model has a mahalanobis output but no Mahalanobis reference was given",
        )),
        (None, None) => {}
    }
    let meta = metadata_map(model);
    if let (Ok(Some(tau)), got) = (recorded_threshold(&meta), outputs.get(ACCEPT)) {
        checks.push(accept_check(got, &u, tau));
    }
}

fn accept_check(got: Option<&OutputValues>, u: &[f32], tau: f32) -> Check {
    let key = format!("parity.{ACCEPT}");
    let values = match got {
        Some(OutputValues::Bool { shape, values }) if shape.as_slice() == [u.len()] => values,
        Some(o) => {
            return Check::fail(
                key,
                format!("shape {:?} / type, expected bool [{}]", o.shape(), u.len()),
            )
        }
        None => return Check::fail(key, "ONNX Runtime produced no such output"),
    };
    let (mut hard, mut borderline) = (0usize, 0usize);
    for (&a, &ur) in values.iter().zip(u) {
        if a != (ur <= tau) {
            if (f64::from(ur) - f64::from(tau)).abs() <= ABS_TOL {
                borderline += 1;
            } else {
                hard += 1;
            }
        }
    }
    let accepted = values.iter().filter(|&&a| a).count();
    Check::new(
        key,
        hard == 0,
        format!(
            "tau = {tau}: {accepted}/{} accepted; {hard} disagreements with U_ref <= tau, \
             {borderline} within {ABS_TOL:e} of tau",
            values.len()
        ),
    )
}
