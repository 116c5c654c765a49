//! Validating a grafted model (`export --graft`) on texts: the original and the grafted
//! graph in ONNX Runtime on the same tokenized batches.
//!
//! Checks: [`structure`] (the original's inputs, outputs, nodes, initializers, opset
//! imports and IR version kept, every name unique), `graft.sha256` (the original file is
//! the one recorded), `graft.original.<output>` (every original output bit-identical, max
//! abs diff reported), then the provenance checks and the `parity.*` checks of a standalone
//! head against the Rust reference on the features the original graph computes (pooled by
//! `features`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ndarray::ArrayView2;

use super::ort_run::OutputValues;
use super::parity::{compare_outputs, diff_stats};
use super::texts::{run_on_texts, TextBatches};
use super::{provenance, Check, Reference, ValidateError, ValidateInputs};
use crate::export::graft::{LOGITS_OUTPUT, ORIGINAL_SHA256};
use crate::onnx::pb::ModelProto;

/// A model file: its path, bytes and decoded message.
#[derive(Debug, Clone, Copy)]
pub struct ModelFile<'a> {
    /// Where it was read from.
    pub path: &'a Path,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// The decoded model.
    pub model: &'a ModelProto,
}

/// Everything [`validate_grafted`] needs.
#[derive(Debug, Clone, Copy)]
pub struct GraftedInputs<'a> {
    /// The grafted model.
    pub grafted: ModelFile<'a>,
    /// The user's original model.
    pub original: ModelFile<'a>,
    /// The tokenized texts and their batching.
    pub texts: TextBatches<'a>,
    /// ONNX Runtime intra-op threads (its default when `None`).
    pub threads: Option<usize>,
    /// `[N, D]` the head input the original graph computes on the texts, pooled, rows in
    /// file order.
    pub features: ArrayView2<'a, f32>,
    /// The Rust reference.
    pub reference: Reference<'a>,
    /// `(name, file)` of inputs whose recorded SHA-256 must match.
    pub hashed_inputs: &'a [(String, PathBuf)],
}

/// Runs every check (see the module documentation). `Err` only for bad input: the
/// original model cannot run, or a hashed input cannot be read.
pub fn validate_grafted(inputs: &GraftedInputs) -> Result<Vec<Check>, ValidateError> {
    let (g, o) = (inputs.grafted.model, inputs.original.model);
    let mut checks = structure(o, g);
    checks.push(sha256_check(inputs)?);
    let want = run_on_texts(
        inputs.original.bytes,
        inputs.original.path,
        inputs.threads,
        &inputs.texts,
    )?;
    let got = match run_on_texts(
        inputs.grafted.bytes,
        inputs.grafted.path,
        inputs.threads,
        &inputs.texts,
    ) {
        Ok(got) => got,
        Err(e) => {
            checks.push(Check::fail("ort.run", e.to_string()));
            return Ok(checks);
        }
    };
    checks.push(Check::pass(
        "ort.run",
        format!(
            "ONNX Runtime {} ran {} texts through both models",
            crate::runtime::ORT_VERSION,
            inputs.texts.tokens.len()
        ),
    ));
    for out in &o.graph.as_ref().map_or(vec![], |gr| gr.output.clone()) {
        checks.push(bit_equal(
            out.name(),
            want.get(out.name()),
            got.get(out.name()),
        ));
    }
    provenance::check(g, &inputs.reference, inputs.hashed_inputs, &mut checks)?;
    let meta = provenance::metadata_map(g);
    let logits = meta.get(LOGITS_OUTPUT).copied().unwrap_or("logits");
    let standalone = ValidateInputs {
        onnx: inputs.grafted.path,
        features: inputs.features,
        reference: inputs.reference,
        hashed_inputs: inputs.hashed_inputs,
    };
    compare_outputs(&got, logits, g, &standalone, &mut checks);
    Ok(checks)
}

/// The recorded SHA-256 of the original model against the file given.
fn sha256_check(inputs: &GraftedInputs) -> Result<Check, ValidateError> {
    let actual = crate::load::sha256_file(inputs.original.path)?;
    let meta = provenance::metadata_map(inputs.grafted.model);
    let path = inputs.original.path.display();
    Ok(match meta.get(ORIGINAL_SHA256) {
        None => Check::fail("graft.sha256", format!("{ORIGINAL_SHA256} is not recorded")),
        Some(&r) if r == actual => Check::pass("graft.sha256", format!("{path} matches {actual}")),
        Some(r) => Check::fail(
            "graft.sha256",
            format!("{path} has SHA-256 {actual} but the model records {r} (another model)"),
        ),
    })
}

/// An original output, grafted against original: equal bytes.
fn bit_equal(name: &str, want: Option<&OutputValues>, got: Option<&OutputValues>) -> Check {
    let key = format!("graft.original.{name}");
    match (want, got) {
        (
            Some(OutputValues::Float {
                shape: ws,
                values: w,
            }),
            Some(OutputValues::Float {
                shape: gs,
                values: v,
            }),
        ) => {
            if ws != gs {
                return Check::fail(key, format!("shape {gs:?}, original {ws:?}"));
            }
            let s = diff_stats(v, w);
            let same = w.iter().zip(v).all(|(a, b)| a.to_bits() == b.to_bits());
            Check::new(
                key,
                same,
                format!(
                    "{} values: max abs diff {:.3e}; {}",
                    s.count,
                    s.max_abs,
                    if same {
                        "bit-identical"
                    } else {
                        "NOT bit-identical"
                    }
                ),
            )
        }
        (Some(w), Some(v)) => Check::new(key, w == v, "non-float output compared for equality"),
        (None, _) => Check::pass(key, "not a float32 or bool output; not compared"),
        (Some(_), None) => Check::fail(key, "the grafted model does not produce it"),
    }
}

/// `graft.structure.*`: what the graft must have left alone, and unique names.
pub fn structure(original: &ModelProto, grafted: &ModelProto) -> Vec<Check> {
    let mut checks = Vec::new();
    let (Some(o), Some(g)) = (original.graph.as_ref(), grafted.graph.as_ref()) else {
        checks.push(Check::fail("graft.structure", "a model has no graph"));
        return checks;
    };
    let kept = |name: &str, same: bool, what: &str| {
        Check::new(
            format!("graft.structure.{name}"),
            same,
            if same {
                format!("{what}: as in the original")
            } else {
                format!("{what}: changed by the graft")
            },
        )
    };
    checks.push(kept("inputs", g.input == o.input, "graph inputs"));
    let first_outputs = g.output.get(..o.output.len()) == Some(&o.output[..]);
    checks.push(kept(
        "outputs",
        first_outputs,
        "original outputs (first, in order)",
    ));
    let nodes = g.node.get(..o.node.len()) == Some(&o.node[..]);
    checks.push(kept("nodes", nodes, "original nodes (first, in order)"));
    let inits = g.initializer.get(..o.initializer.len()) == Some(&o.initializer[..]);
    checks.push(kept("initializers", inits, "original initializers"));
    let opset =
        grafted.opset_import == original.opset_import && grafted.ir_version == original.ir_version;
    checks.push(kept(
        "opset",
        opset,
        &format!(
            "opset imports and IR version (ai.onnx {}, IR {})",
            grafted
                .opset_version("")
                .map_or("none".to_string(), |v| v.to_string()),
            grafted.ir_version()
        ),
    ));
    checks.push(unique_names(g));
    checks
}

/// Every value produced once (by one node or one initializer), node names unique.
fn unique_names(g: &crate::onnx::pb::GraphProto) -> Check {
    let mut seen = BTreeSet::new();
    let mut dup = Vec::new();
    let produced = (g
        .node
        .iter()
        .flat_map(|n| n.output.iter().map(String::as_str)))
    .chain(g.initializer.iter().map(|t| t.name()))
    .filter(|s| !s.is_empty());
    for name in produced {
        if !seen.insert(name) {
            dup.push(name.to_string());
        }
    }
    let mut nodes = BTreeMap::new();
    for n in g.node.iter().filter(|n| !n.name().is_empty()) {
        *nodes.entry(n.name()).or_insert(0) += 1;
    }
    dup.extend(
        nodes
            .into_iter()
            .filter(|(_, c)| *c > 1)
            .map(|(n, _)| format!("node {n}")),
    );
    Check::new(
        "graft.structure.names",
        dup.is_empty(),
        if dup.is_empty() {
            format!(
                "{} values and {} nodes, every name unique",
                seen.len(),
                g.node.len()
            )
        } else {
            format!("names used twice: {}", dup.join(", "))
        },
    )
}
