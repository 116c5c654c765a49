//! Structural checks: the file parses with our protobuf types and honours the IO
//! contract of CONTRACT §4.

use std::collections::BTreeSet;

use prost::Message;

use super::{Check, Reference};
use crate::export::model::{
    ACCEPT, INPUT, IR_VERSION, LOGITS, MAHALANOBIS, OPSET, PROBABILITIES, UNCERTAINTY,
};
use crate::onnx::pb::{
    tensor_shape_proto::dimension, type_proto, DataType, ModelProto, ValueInfoProto,
};
use crate::onnx::query::is_external;

/// Operators an exported head may contain (all in the default ONNX domain).
pub const ALLOWED_OPS: [&str; 17] = [
    "Add",
    "Clip",
    "Div",
    "Erf",
    "Gemm",
    "LessOrEqual",
    "MatMul",
    "Mul",
    "ReduceLogSumExp",
    "ReduceMax",
    "ReduceMin",
    "ReduceSumSquare",
    "Relu",
    "Softmax",
    "Squeeze",
    "Sub",
    "Tanh",
];

/// A declared dimension, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dim {
    Fixed(i64),
    Symbolic(String),
    Unknown,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbolic(s) => write!(f, "{s}"),
            Dim::Unknown => write!(f, "?"),
        }
    }
}

/// Element type and shape of a tensor-typed value, `None` when it is not a tensor
/// or has no shape.
fn signature(v: &ValueInfoProto) -> Option<(i32, Vec<Dim>)> {
    let type_proto::Value::TensorType(t) = v.r#type.as_ref()?.value.as_ref()? else {
        return None;
    };
    let dims = t
        .shape
        .as_ref()?
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(dimension::Value::DimValue(n)) => Dim::Fixed(*n),
            Some(dimension::Value::DimParam(s)) if !s.is_empty() => Dim::Symbolic(s.clone()),
            _ => Dim::Unknown,
        })
        .collect();
    Some((t.elem_type?, dims))
}

fn describe(sig: &Option<(i32, Vec<Dim>)>) -> String {
    match sig {
        None => "no tensor type/shape".to_string(),
        Some((elem, dims)) => {
            let elem = DataType::try_from(*elem)
                .map(|d| format!("{d:?}"))
                .unwrap_or_else(|_| format!("type {elem}"));
            let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
            format!("{elem} [{}]", dims.join(", "))
        }
    }
}

/// Decodes the model and appends the structural checks; `None` when it does not parse.
pub fn check(bytes: &[u8], reference: &Reference, checks: &mut Vec<Check>) -> Option<ModelProto> {
    let model = match ModelProto::decode(bytes) {
        Ok(m) => m,
        Err(e) => {
            checks.push(Check::fail(
                "onnx.decode",
                format!("not an ONNX model protobuf ({} bytes): {e}", bytes.len()),
            ));
            return None;
        }
    };
    let Some(graph) = model.graph.as_ref() else {
        checks.push(Check::fail("onnx.decode", "the model has no graph"));
        return None;
    };
    checks.push(Check::pass(
        "onnx.decode",
        format!(
            "{} bytes, producer {} {}, {} nodes, {} initializers",
            bytes.len(),
            model.producer_name(),
            model.producer_version(),
            graph.node.len(),
            graph.initializer.len()
        ),
    ));
    checks.push(Check::new(
        "onnx.ir_version",
        model.ir_version() >= IR_VERSION,
        format!("IR version {} (need >= {IR_VERSION})", model.ir_version()),
    ));
    let default_opset = model
        .opset_import
        .iter()
        .filter(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
        .map(|o| o.version())
        .max();
    checks.push(match default_opset {
        Some(v) if v >= OPSET => Check::pass("onnx.opset", format!("ai.onnx opset {v}")),
        Some(v) => Check::fail("onnx.opset", format!("ai.onnx opset {v}, need >= {OPSET}")),
        None => Check::fail("onnx.opset", "no ai.onnx opset import"),
    });
    let bad_ops: BTreeSet<String> = graph
        .node
        .iter()
        .filter(|n| {
            !(n.domain().is_empty() || n.domain() == "ai.onnx")
                || !ALLOWED_OPS.contains(&n.op_type())
        })
        .map(|n| format!("{}:{}", n.domain(), n.op_type()))
        .collect();
    checks.push(if bad_ops.is_empty() {
        let ops: BTreeSet<&str> = graph.node.iter().map(|n| n.op_type()).collect();
        Check::pass(
            "onnx.operators",
            ops.into_iter().collect::<Vec<_>>().join(" "),
        )
    } else {
        Check::fail(
            "onnx.operators",
            format!(
                "unexpected operators (domain:op): {}",
                bad_ops.into_iter().collect::<Vec<_>>().join(" ")
            ),
        )
    });
    let external: Vec<&str> = crate::onnx::tensors(&model)
        .into_iter()
        .filter(|t| is_external(t))
        .map(|t| t.name())
        .collect();
    checks.push(if external.is_empty() {
        Check::pass("onnx.external_data", "every tensor is stored in the file")
    } else {
        Check::fail(
            "onnx.external_data",
            format!("tensors stored outside the file: {}", external.join(", ")),
        )
    });
    io_checks(&model, reference, checks);
    Some(model)
}

/// Input and output names, element types and shapes.
fn io_checks(model: &ModelProto, reference: &Reference, checks: &mut Vec<Check>) {
    let Some(graph) = model.graph.as_ref() else {
        return;
    };
    let (d, c) = (
        reference.original.input_dim() as i64,
        reference.original.num_classes() as i64,
    );
    let initializers: BTreeSet<&str> = graph.initializer.iter().map(|t| t.name()).collect();
    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|v| !initializers.contains(v.name()))
        .collect();
    let batch = match inputs.as_slice() {
        [only] if only.name() == INPUT => {
            let sig = signature(only);
            match &sig {
                Some((elem, dims))
                    if *elem == DataType::Float as i32
                        && dims.len() == 2
                        && matches!(dims[0], Dim::Symbolic(_))
                        && dims[1] == Dim::Fixed(d) =>
                {
                    checks.push(Check::pass(
                        "io.input",
                        format!("{INPUT}: {}", describe(&sig)),
                    ));
                    Some(dims[0].clone())
                }
                _ => {
                    checks.push(Check::fail(
                        "io.input",
                        format!(
                            "{INPUT} is {}, expected Float [batch (symbolic), {d}]",
                            describe(&sig)
                        ),
                    ));
                    None
                }
            }
        }
        _ => {
            let names: Vec<&str> = inputs.iter().map(|v| v.name()).collect();
            checks.push(Check::fail(
                "io.input",
                format!(
                    "inputs are [{}], expected exactly [{INPUT}]",
                    names.join(", ")
                ),
            ));
            None
        }
    };
    // A symbolic batch dimension, the same as the input's when that one is valid.
    let batch_ok = |dim: &Dim| match (&batch, dim) {
        (Some(b), d) => b == d,
        (None, d) => matches!(d, Dim::Symbolic(_)),
    };
    let expected: [(&str, DataType, Option<i64>, bool); 5] = [
        (LOGITS, DataType::Float, Some(c), true),
        (PROBABILITIES, DataType::Float, Some(c), true),
        (UNCERTAINTY, DataType::Float, None, true),
        (MAHALANOBIS, DataType::Float, None, false),
        (ACCEPT, DataType::Bool, None, false),
    ];
    for (name, elem, width, required) in expected {
        let name_key = format!("io.output.{name}");
        let Some(v) = graph.output.iter().find(|v| v.name() == name) else {
            if required {
                checks.push(Check::fail(name_key, "missing"));
            }
            continue;
        };
        let sig = signature(v);
        let ok = match &sig {
            Some((e, dims)) if *e == elem as i32 => match (width, dims.as_slice()) {
                (Some(w), [b, cdim]) => batch_ok(b) && *cdim == Dim::Fixed(w),
                (None, [b]) => batch_ok(b),
                _ => false,
            },
            _ => false,
        };
        let want = match width {
            Some(w) => format!("{elem:?} [batch, {w}]"),
            None => format!("{elem:?} [batch]"),
        };
        checks.push(Check::new(
            name_key,
            ok,
            format!("{} (expected {want})", describe(&sig)),
        ));
    }
    let known: [&str; 5] = [LOGITS, PROBABILITIES, UNCERTAINTY, MAHALANOBIS, ACCEPT];
    let unknown: Vec<&str> = graph
        .output
        .iter()
        .map(|v| v.name())
        .filter(|n| !known.contains(n))
        .collect();
    let names: Vec<&str> = graph.output.iter().map(|v| v.name()).collect();
    checks.push(if unknown.is_empty() {
        Check::pass("io.outputs", names.join(", "))
    } else {
        Check::fail(
            "io.outputs",
            format!("unexpected outputs: {}", unknown.join(", ")),
        )
    });
}
