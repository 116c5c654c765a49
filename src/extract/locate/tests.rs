//! The locator on small graphs built here, one per way an exporter writes a head.

use half::f16;
use ndarray::{Array1, Array2};

use super::*;
use crate::head::Activation;
use crate::onnx::pb::tensor_shape_proto::{dimension, Dimension};
use crate::onnx::pb::{type_proto, AttributeProto, NodeProto, TensorShapeProto, TypeProto};
use crate::onnx::tensor_data::{f16_tensor, f32_tensor};

/// A deterministic, non-symmetric [rows, cols] matrix.
fn matrix(rows: usize, cols: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * 31 + j * 17 + seed * 7) % 23) as f32 / 23.0 - 0.4
    })
}

fn linear(c: usize, d: usize) -> Head {
    Head::Linear {
        weight: matrix(c, d, 1),
        bias: None,
    }
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    output: &str,
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(name.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attrs,
        ..NodeProto::default()
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        i: Some(v),
        ..AttributeProto::default()
    }
}

/// A value info of element type FLOAT with the given dims (`-1` = symbolic).
fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| Dimension {
            value: Some(if d < 0 {
                dimension::Value::DimParam("batch".into())
            } else {
                dimension::Value::DimValue(d)
            }),
            denotation: None,
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto { dim }),
            })),
            denotation: None,
        }),
        ..ValueInfoProto::default()
    }
}

fn values(m: &Array2<f32>) -> Vec<f32> {
    m.iter().copied().collect()
}

fn model(
    nodes: Vec<NodeProto>,
    inits: Vec<crate::onnx::pb::TensorProto>,
    outputs: Vec<ValueInfoProto>,
    infos: Vec<ValueInfoProto>,
) -> ModelProto {
    ModelProto {
        ir_version: Some(8),
        graph: Some(GraphProto {
            node: nodes,
            initializer: inits,
            output: outputs,
            value_info: infos,
            ..GraphProto::default()
        }),
        ..ModelProto::default()
    }
}

#[test]
fn gemm_with_the_weight_as_stored() {
    let head = linear(3, 8);
    let Head::Linear { weight, .. } = &head else {
        unreachable!()
    };
    let m = model(
        vec![node(
            "Gemm",
            "cls",
            &["pooled", "classifier.weight"],
            "logits",
            vec![int("transB", 1)],
        )],
        vec![f32_tensor("classifier.weight", &[3, 8], &values(weight))],
        vec![value("logits", &[-1, 3])],
        vec![],
    );
    let got = locate_head(&m, &head, false).unwrap();
    assert_eq!(got.head_input, "pooled");
    assert_eq!(
        (got.head_input_rank, got.pooling()),
        (Some(2), Some(Pooling::AsIs))
    );
    assert_eq!(
        (got.head_input_type, got.logits_output.as_str()),
        (FloatType::F32, "logits")
    );
    let w = &got.weights[0];
    assert_eq!(
        (w.role.as_str(), w.tensor.as_str(), w.transposed),
        ("classifier.weight", "classifier.weight", false)
    );
    assert_eq!(
        (w.layer.op.as_str(), w.layer.node.as_str(), w.max_abs_diff),
        ("Gemm", "cls", 0.0)
    );
}

#[test]
fn matmul_with_an_anonymous_transposed_weight_on_hidden_states() {
    let head = linear(4, 6);
    let Head::Linear { weight, .. } = &head else {
        unreachable!()
    };
    let m = model(
        vec![node("MatMul", "", &["hidden", "val_9"], "scores", vec![])],
        vec![f32_tensor(
            "val_9",
            &[6, 4],
            &values(&weight.t().to_owned()),
        )],
        vec![value("out", &[-1, 4])],
        vec![value("hidden", &[-1, -1, 6])],
    );
    let got = locate_head(&m, &head, true).unwrap();
    assert_eq!(
        (got.head_input.as_str(), got.head_input_rank),
        ("hidden", Some(3))
    );
    assert_eq!(got.pooling(), Some(Pooling::LastToken));
    assert_eq!(got.logits_output, "out", "the one output of width C");
    assert_eq!(
        (got.weights[0].role.as_str(), got.weights[0].transposed),
        ("score.weight", true)
    );
    assert_eq!(got.weights[0].layer.node, "#0");
    // The same graph for a `classifier` head reads token 0.
    assert_eq!(
        locate_head(&m, &head, false).unwrap().pooling(),
        Some(Pooling::FirstToken)
    );
}

#[test]
fn constant_through_transpose_and_f16_through_cast_are_followed() {
    let head = linear(2, 5);
    let Head::Linear { weight, .. } = &head else {
        unreachable!()
    };
    // Constant W [2, 5] → Transpose → MatMul: the constant holds W as stored.
    let constant = NodeProto {
        attribute: vec![AttributeProto {
            name: Some("value".into()),
            t: Some(f32_tensor("", &[2, 5], &values(weight))),
            ..AttributeProto::default()
        }],
        ..node("Constant", "c", &[], "w_const", vec![])
    };
    let m = model(
        vec![
            constant,
            node("Transpose", "t", &["w_const"], "w_t", vec![]),
            node("MatMul", "mm", &["x", "w_t"], "logits", vec![]),
        ],
        vec![],
        vec![value("logits", &[-1, 2])],
        vec![],
    );
    let got = locate_head(&m, &head, false).unwrap();
    assert_eq!(
        (got.head_input.as_str(), got.weights[0].tensor.as_str()),
        ("x", "w_const")
    );
    assert!(!got.weights[0].transposed);
    assert_eq!(got.head_input_rank, None, "MatMul does not fix the rank");
    // f16 Wᵀ [5, 2] → Cast(to float) → MatMul: the data input is float32.
    let h: Vec<f16> = weight.t().iter().map(|&v| f16::from_f32(v)).collect();
    let m = model(
        vec![
            node("Cast", "cast", &["w16"], "w32", vec![int("to", 1)]),
            node("MatMul", "mm", &["x", "w32"], "logits", vec![]),
        ],
        vec![f16_tensor("w16", &[5, 2], &h)],
        vec![value("logits", &[-1, 2])],
        vec![],
    );
    let got = locate_head(&m, &head, false).unwrap();
    let w = &got.weights[0];
    assert_eq!(
        (w.dtype, w.transposed, got.head_input_type),
        (FloatType::F16, true, FloatType::F32)
    );
    assert!(
        w.max_abs_diff > 0.0 && w.max_abs_diff <= w.tolerance,
        "{w:?}"
    );
}

#[test]
fn dense_head_needs_both_layers() {
    let (dense, out) = (matrix(4, 4, 2), matrix(3, 4, 3));
    let head = Head::Dense {
        dense_weight: dense.clone(),
        dense_bias: Array1::zeros(4),
        activation: Activation::Tanh,
        out_weight: out.clone(),
        out_bias: Array1::zeros(3),
    };
    let nodes = vec![
        node(
            "Gemm",
            "dense",
            &["cls", "d.w"],
            "z",
            vec![int("transB", 1)],
        ),
        node("Tanh", "act", &["z"], "a", vec![]),
        node(
            "Gemm",
            "out",
            &["a", "o.w"],
            "logits",
            vec![int("transB", 1)],
        ),
    ];
    let outputs = vec![value("logits", &[-1, 3])];
    let m = model(
        nodes.clone(),
        vec![
            f32_tensor("d.w", &[4, 4], &values(&dense)),
            f32_tensor("o.w", &[3, 4], &values(&out)),
        ],
        outputs.clone(),
        vec![],
    );
    let got = locate_head(&m, &head, false).unwrap();
    assert_eq!(got.head_input, "cls");
    let roles: Vec<(&str, &str)> = got
        .weights
        .iter()
        .map(|w| (w.role.as_str(), w.tensor.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("classifier.dense.weight", "d.w"),
            ("classifier.out_proj.weight", "o.w")
        ]
    );
    // Without out_proj: the error names what was sought and the nearest tensor.
    let wrong = out.mapv(|v| v + 0.5);
    let m = model(
        nodes.clone(),
        vec![
            f32_tensor("d.w", &[4, 4], &values(&dense)),
            f32_tensor("o.w", &[3, 4], &values(&wrong)),
        ],
        outputs.clone(),
        vec![],
    );
    let e = locate_head(&m, &head, false).unwrap_err().to_string();
    assert!(e.contains("head weight `classifier.out_proj.weight` [3, 4] (and `classifier.dense.weight` [4, 4])"), "{e}");
    assert!(
        e.contains("closest: `o.w` [3, 4] f32: max abs diff 5.000e-1"),
        "{e}"
    );
    // A square weight stored transposed under transB = 1 computes x W, not x Wᵀ.
    let m = model(
        nodes,
        vec![
            f32_tensor("d.w", &[4, 4], &values(&dense.t().to_owned())),
            f32_tensor("o.w", &[3, 4], &values(&out)),
        ],
        outputs,
        vec![],
    );
    let e = locate_head(&m, &head, false).unwrap_err().to_string();
    assert!(e.contains("initializer `d.w` equals the checkpoint's `classifier.dense.weight` but no Gemm / MatMul applies it"), "{e}");
    assert!(
        e.contains("its uses: Gemm `dense`, which multiplies by it as W [out, in]"),
        "{e}"
    );
}

#[test]
fn no_match_ambiguity_scaled_gemm_and_missing_logits_are_errors() {
    let head = linear(3, 4);
    let Head::Linear { weight, .. } = &head else {
        unreachable!()
    };
    let w = f32_tensor("w", &[3, 4], &values(weight));
    let out = vec![value("logits", &[-1, 3])];
    // No tensor of the shape at all.
    let m = model(
        vec![],
        vec![f32_tensor("other", &[4, 7], &[0.0; 28])],
        out.clone(),
        vec![],
    );
    let e = locate_head(&m, &head, true).unwrap_err().to_string();
    assert!(e.contains("`score.weight` [3, 4]"), "{e}");
    assert!(
        e.contains("with a dimension in common: `other` [4, 7] f32"),
        "{e}"
    );
    // Applied to two different tensors.
    let m = model(
        vec![
            node("Gemm", "a", &["x1", "w"], "y1", vec![int("transB", 1)]),
            node("Gemm", "b", &["x2", "w"], "logits", vec![int("transB", 1)]),
        ],
        vec![w.clone()],
        out.clone(),
        vec![],
    );
    let e = locate_head(&m, &head, false).unwrap_err().to_string();
    assert!(e.contains("applied to several tensors (`x1`, `x2`)"), "{e}");
    // A Gemm with alpha ≠ 1 is not `x Wᵀ`.
    let alpha = AttributeProto {
        name: Some("alpha".into()),
        f: Some(2.0),
        ..AttributeProto::default()
    };
    let m = model(
        vec![node(
            "Gemm",
            "g",
            &["x", "w"],
            "logits",
            vec![int("transB", 1), alpha],
        )],
        vec![w.clone()],
        out,
        vec![],
    );
    assert!(matches!(
        locate_head(&m, &head, false),
        Err(LocateError::Unused { .. })
    ));
    // Two outputs of width C, neither named `logits`.
    let m = model(
        vec![node("Gemm", "g", &["x", "w"], "y", vec![int("transB", 1)])],
        vec![w],
        vec![value("y", &[-1, 3]), value("z", &[-1, 3])],
        vec![],
    );
    let e = locate_head(&m, &head, false).unwrap_err().to_string();
    assert!(
        e.contains("none is named `logits` and 2 have last dimension 3"),
        "{e}"
    );
    assert!(e.contains("outputs: `y` [batch, 3], `z` [batch, 3]"), "{e}");
}
