//! The ONNX graph of an exported head.
//!
//! ```text
//! features ─┬─ original head ─ logits ─ Softmax ─ probabilities
//!           ├─ UE head ─ Softmax ─ SmoothMax ─ uncertainty ─┬─ (LessOrEqual τ) ─ accept
//!           └─ (whiten ─ min squared distance) ─ mahalanobis
//! ```
//! Opset 18 (Reduce ops take `axes` as an input; GELU is built from `Erf` since
//! the `Gelu` op only exists from opset 20), IR version 8.

use std::collections::BTreeMap;

use super::graph::{attr_int, Axes, Dim, GraphBuilder};
use super::mahalanobis::{to_vec, to_vec_2d};
use super::metadata::{self, exporter_entries};
use super::{ExportError, ExportSpec};
use crate::head::{Activation, Head, ShapeError};
use crate::onnx::pb::{DataType, ModelProto, OperatorSetIdProto, StringStringEntryProto};

/// ONNX IR version we write (ONNX 1.13, the first with opset 18).
pub const IR_VERSION: i64 = 8;
/// Default-domain opset we write.
pub const OPSET: i64 = 18;
/// Name of the graph input.
pub const INPUT: &str = "features";
/// Name of the symbolic batch dimension.
pub const BATCH_DIM: &str = "batch";
/// Output: logits of the original head, `[batch, C]`.
pub const LOGITS: &str = "logits";
/// Output: softmax of the original logits, `[batch, C]`.
pub const PROBABILITIES: &str = "probabilities";
/// Output: AdUE `U`, `[batch]`.
pub const UNCERTAINTY: &str = "uncertainty";
/// Optional output: Mahalanobis minimum squared distance, `[batch]`.
pub const MAHALANOBIS: &str = "mahalanobis";
/// Optional output: `U ≤ τ`, bool `[batch]`.
pub const ACCEPT: &str = "accept";

/// Fails with [`ExportError::NonFinite`] unless every value is finite.
pub(crate) fn check_finite<'a>(
    tensor: &str,
    mut values: impl Iterator<Item = &'a f32>,
) -> Result<(), ExportError> {
    if values.all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(ExportError::NonFinite {
            tensor: tensor.to_string(),
        })
    }
}

fn shape_err(tensor: String, expected: String, got: &[usize]) -> ExportError {
    ExportError::Shape {
        tensor,
        expected,
        got: format!("{got:?}"),
    }
}

/// Checks that a head's tensors agree in shape and are finite.
fn check_head(name: &str, head: &Head) -> Result<(), ExportError> {
    head.check_shapes().map_err(|e| {
        let (expected, got) = match &e {
            ShapeError::Bias { expected, got, .. } => (format!("[{expected}]"), got.clone()),
            ShapeError::Columns {
                expected, shape, ..
            } => (format!("[C, {expected}]"), shape.clone()),
            ShapeError::Layers { expected, got, .. } => (format!("{expected} layers"), vec![*got]),
        };
        shape_err(format!("{name}.{}", e.key()), expected, &got)
    })?;
    for (slot, values) in head.tensors() {
        check_finite(&format!("{name}.{}", slot.key), values.iter())?;
    }
    if head.input_dim() == 0 || head.num_classes() == 0 {
        return Err(shape_err(
            format!("{name} head"),
            "at least one input feature and one class".to_string(),
            &[head.num_classes(), head.input_dim()],
        ));
    }
    Ok(())
}

/// Checks the whole spec before anything is built.
pub(crate) fn check_spec(spec: &ExportSpec) -> Result<(), ExportError> {
    check_head("original", spec.original)?;
    check_head("ue", &spec.ue.head)?;
    let (o, u) = (spec.original, &spec.ue.head);
    if o.input_dim() != u.input_dim() || o.num_classes() != u.num_classes() {
        return Err(ExportError::HeadMismatch {
            original: format!("[C={}, D={}]", o.num_classes(), o.input_dim()),
            ue: format!("[C={}, D={}]", u.num_classes(), u.input_dim()),
        });
    }
    let s = &spec.ue.spec;
    if !(s.lambda.is_finite() && s.lambda > 0.0) {
        return Err(ExportError::UeSpec {
            field: "lambda",
            got: s.lambda,
        });
    }
    if !(s.scale.is_finite() && s.scale > 0.0) {
        return Err(ExportError::UeSpec {
            field: "scale",
            got: s.scale,
        });
    }
    if !(s.eps >= 0.0 && s.eps < 0.5) {
        return Err(ExportError::UeSpec {
            field: "eps",
            got: s.eps,
        });
    }
    if let Some(m) = spec.mahalanobis {
        m.check(o.input_dim())?;
    }
    if let Some(t) = spec.threshold {
        if !t.tau.is_finite() {
            return Err(ExportError::NonFinite {
                tensor: "threshold.tau".to_string(),
            });
        }
    }
    for key in spec.metadata.keys() {
        if metadata::EXPORTER_KEYS.contains(&key.as_str()) {
            return Err(ExportError::ReservedMetadataKey { key: key.clone() });
        }
    }
    for key in metadata::REQUIRED_PROVENANCE_KEYS {
        if !spec.metadata.contains_key(key) {
            return Err(ExportError::MissingMetadata {
                key: key.to_string(),
            });
        }
    }
    if !spec
        .metadata
        .keys()
        .any(|k| k.starts_with(metadata::SHA256_PREFIX))
    {
        return Err(ExportError::MissingMetadata {
            key: format!("{}<input>", metadata::SHA256_PREFIX),
        });
    }
    Ok(())
}

/// Adds `head` reading `input`; its logits are named `output`. Layer by layer from its
/// [`HeadLayout`](crate::head::HeadLayout): `{prefix}.{key}` initializers (all of them first),
/// then a `Gemm` per layer with a bias and a `MatMul` against the transposed weight
/// (`{prefix}.{key}_t`) per layer without, each followed by its activation.
pub(crate) fn add_head(g: &mut GraphBuilder, prefix: &str, head: &Head, input: &str, output: &str) {
    let layers = head.layers();
    let weights: Vec<(String, Option<String>)> = head
        .layout()
        .layers()
        .zip(&layers)
        .map(|(l, (w, b))| match b {
            // No bias: `x · Wᵀ` as a MatMul against the transposed weight, which ONNX
            // Runtime runs faster than a Gemm with transB for a handful of classes.
            None => {
                let name = format!("{prefix}.{}_t", l.weight_key);
                (
                    g.weight(&name, &[w.ncols(), w.nrows()], &to_vec_2d(w.t())),
                    None,
                )
            }
            Some(b) => {
                let name = format!("{prefix}.{}", l.weight_key);
                let w = g.weight(&name, &[w.nrows(), w.ncols()], &to_vec_2d(w.view()));
                let bias = format!("{prefix}.{}", l.bias_key);
                (w, Some(g.weight(&bias, &[b.len()], &to_vec(b))))
            }
        })
        .collect();
    let mut x = input.to_string();
    let count = weights.len();
    for (i, (layer, (w, b))) in head.layout().layers().zip(&weights).enumerate() {
        let out = if i + 1 == count {
            output.to_string()
        } else {
            format!("{prefix}/{}", layer.name())
        };
        x = match b {
            Some(b) => g.node("Gemm", &[&x, w, b], &out, vec![attr_int("transB", 1)]),
            None => g.node("MatMul", &[&x, w], &out, vec![]),
        };
        x = match layer.activation {
            None => x,
            Some(Activation::Tanh) => g.node("Tanh", &[&x], &format!("{prefix}/tanh"), vec![]),
            Some(Activation::Gelu) => add_gelu(g, prefix, &x),
        };
    }
}

/// `GELU(x) = 0.5·x·(1 + erf(x/√2))` (exact, erf form), written as
/// `Div → Erf → Add → Mul → Mul`: the pattern ONNX Runtime fuses into one `Gelu`
/// kernel (a `Mul` by 1/√2 is not recognised and runs as five element-wise ops).
fn add_gelu(g: &mut GraphBuilder, prefix: &str, x: &str) -> String {
    let sqrt2 = g.scalar(&format!("{prefix}.gelu.sqrt2"), std::f32::consts::SQRT_2);
    let one = g.scalar(&format!("{prefix}.gelu.one"), 1.0);
    let half = g.scalar(&format!("{prefix}.gelu.half"), 0.5);
    let s = g.node(
        "Div",
        &[x, &sqrt2],
        &format!("{prefix}/gelu/scaled"),
        vec![],
    );
    let e = g.node("Erf", &[&s], &format!("{prefix}/gelu/erf"), vec![]);
    let e1 = g.node(
        "Add",
        &[&e, &one],
        &format!("{prefix}/gelu/one_plus_erf"),
        vec![],
    );
    let xe = g.node("Mul", &[x, &e1], &format!("{prefix}/gelu/x_times"), vec![]);
    g.node("Mul", &[&xe, &half], &format!("{prefix}/gelu"), vec![])
}

/// `U = clamp(scale·(1 − SmoothMax_λ(p)), eps, 1 − eps)`, `[batch]`, with the
/// max-shifted SmoothMax of `crate::head::uncertainty_from_probs`:
/// `t = λ·SmoothMax(p) = λm + log Σ exp(λp − λm)`, `m = max p`. The shift makes
/// every exponent ≤ 0 (so the sum lies in `[1, C]` and cannot overflow, whatever
/// the runtime's `ReduceLogSumExp` does). Then `scale·(1 − t/λ) = scale − (scale/λ)·t`
/// is one `[batch, 1] × [1, 1] + [1]` Gemm. Eight nodes: at batch 1 the per-node
/// overhead is most of the cost.
fn add_uncertainty(g: &mut GraphBuilder, spec: &ExportSpec, p: &str, axes: &Axes) -> String {
    let s = &spec.ue.spec;
    let lambda = g.scalar("ue.lambda", s.lambda as f32);
    let slope = g.weight(
        "ue.minus_scale_over_lambda",
        &[1, 1],
        &[(-s.scale / s.lambda) as f32],
    );
    let scale = g.weight("ue.scale", &[1], &[s.scale as f32]);
    let lo = g.scalar("ue.eps", s.eps as f32);
    let hi = g.scalar("ue.one_minus_eps", (1.0 - s.eps) as f32);
    let lp = g.node("Mul", &[p, &lambda], "ue/lambda_p", vec![]);
    let lm = g.reduce("ReduceMax", &lp, axes, true, "ue/lambda_max_p");
    let shifted = g.node("Sub", &[&lp, &lm], "ue/shifted", vec![]);
    let lse = g.reduce("ReduceLogSumExp", &shifted, axes, true, "ue/log_sum_exp");
    let t = g.node("Add", &[&lm, &lse], "ue/lambda_smooth_max", vec![]);
    let raw = g.node("Gemm", &[&t, &slope, &scale], "ue/unclamped", vec![]);
    let clipped = g.node("Clip", &[&raw, &lo, &hi], "ue/clipped", vec![]);
    g.node("Squeeze", &[&clipped, &axes.name], UNCERTAINTY, vec![])
}

/// Adds the UE head reading `features` (`[batch, D]`) and the outputs computed from it:
/// `uncertainty`, then `mahalanobis` and `accept` when the spec asks for them. Returns
/// each output added with its element type and dims, in order.
pub(crate) fn add_ue_outputs(
    g: &mut GraphBuilder,
    spec: &ExportSpec,
    features: &str,
    axes: &Axes,
    batch: &Dim,
) -> Vec<(&'static str, DataType, Vec<Dim>)> {
    add_head(g, "ue", &spec.ue.head, features, "ue/logits");
    let ue_p = g.node(
        "Softmax",
        &["ue/logits"],
        "ue/probabilities",
        vec![attr_int("axis", 1)],
    );
    let u = add_uncertainty(g, spec, &ue_p, axes);
    let mut outputs = vec![(UNCERTAINTY, DataType::Float, vec![batch.clone()])];
    if let Some(m) = spec.mahalanobis {
        m.add_to_graph(g, features, axes, MAHALANOBIS);
        outputs.push((MAHALANOBIS, DataType::Float, vec![batch.clone()]));
    }
    if let Some(t) = spec.threshold {
        let tau = g.scalar("threshold.tau", t.tau);
        g.node("LessOrEqual", &[&u, &tau], ACCEPT, vec![]);
        outputs.push((ACCEPT, DataType::Bool, vec![batch.clone()]));
    }
    outputs
}

/// Builds the model (see the module docs). Deterministic: the same spec gives the
/// same message, and [`super::encode`] the same bytes.
pub fn build_model(spec: &ExportSpec) -> Result<ModelProto, ExportError> {
    check_spec(spec)?;
    let (d, c) = (spec.original.input_dim(), spec.original.num_classes());
    let batch = Dim::Symbolic(BATCH_DIM.to_string());
    let mut g = GraphBuilder::new("adue_head", OPSET);
    g.input(INPUT, DataType::Float, &[batch.clone(), Dim::Fixed(d)]);
    let axes = g.axes("axes.class", &[1]);

    add_head(&mut g, "original", spec.original, INPUT, LOGITS);
    g.node(
        "Softmax",
        &[LOGITS],
        PROBABILITIES,
        vec![attr_int("axis", 1)],
    );
    let mut outputs = vec![
        (LOGITS, DataType::Float, vec![batch.clone(), Dim::Fixed(c)]),
        (
            PROBABILITIES,
            DataType::Float,
            vec![batch.clone(), Dim::Fixed(c)],
        ),
    ];
    outputs.extend(add_ue_outputs(&mut g, spec, INPUT, &axes, &batch));
    for (name, elem, dims) in &outputs {
        g.output(name, *elem, dims);
    }

    let names: Vec<&str> = outputs.iter().map(|o| o.0).collect();
    let mut props: BTreeMap<String, String> = spec.metadata.clone();
    props.extend(exporter_entries(spec, &names));
    Ok(ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        producer_name: Some("adue-compile".to_string()),
        producer_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        domain: Some("ai.adue".to_string()),
        model_version: Some(1),
        doc_string: Some(
            "AdUE uncertainty head (Zabolotnyi et al., 2025, arXiv 2505.15443) \
             next to the original classification head"
                .to_string(),
        ),
        graph: Some(g.finish()),
        metadata_props: metadata_entries(props),
        ..Default::default()
    })
}

/// `metadata_props` entries, in the map's (sorted) order.
pub(crate) fn metadata_entries(props: BTreeMap<String, String>) -> Vec<StringStringEntryProto> {
    props
        .into_iter()
        .map(|(key, value)| StringStringEntryProto {
            key: Some(key),
            value: Some(value),
        })
        .collect()
}
