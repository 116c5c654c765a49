//! What the extract stage needs from, and changes in, the user's model: no external data,
//! inputs that text can feed, and the head input exposed as a graph output.

use std::path::Path;

use super::error::ExtractError;
use super::locate::FloatType;
use crate::onnx::pb::{type_proto, DataType, GraphProto, ModelProto, TypeProto, ValueInfoProto};
use crate::onnx::query::is_external;

/// The graph inputs a tokenizer's output can feed.
pub const TEXT_INPUTS: [&str; 3] = ["input_ids", "attention_mask", "token_type_ids"];

/// Integer type of a text input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdType {
    /// `int64`, what torch exports.
    I64,
    /// `int32`.
    I32,
}

/// The text inputs the graph declares (by name, in [`TEXT_INPUTS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextInputs {
    /// `input_ids` (required).
    pub input_ids: IdType,
    /// `attention_mask`, when the graph takes it.
    pub attention_mask: Option<IdType>,
    /// `token_type_ids`, when the graph takes it.
    pub token_type_ids: Option<IdType>,
}

/// Refuses a model that keeps any tensor in a side file, naming the first one.
pub fn check_inline(model: &ModelProto, path: &Path) -> Result<(), ExtractError> {
    match crate::onnx::tensors(model)
        .into_iter()
        .find(|t| is_external(t))
    {
        None => Ok(()),
        Some(t) => Err(ExtractError::ExternalData {
            path: path.to_path_buf(),
            tensor: t.name().to_string(),
            location: t.external_location().unwrap_or("?").to_string(),
        }),
    }
}

/// The graph's required inputs as text inputs; any other required input (one without an
/// initializer of the same name to default to) is an error naming it.
pub fn text_inputs(graph: &GraphProto, path: &Path) -> Result<TextInputs, ExtractError> {
    let bad = |reason: String| ExtractError::Inputs {
        path: path.to_path_buf(),
        reason,
    };
    let required: Vec<&ValueInfoProto> = (graph.input.iter())
        .filter(|i| graph.find_initializer(i.name()).is_none())
        .collect();
    let expected = TEXT_INPUTS.map(|n| format!("`{n}`")).join(", ");
    let mut found: [Option<IdType>; 3] = [None; 3];
    for input in required {
        let Some(k) = TEXT_INPUTS.iter().position(|n| *n == input.name()) else {
            return Err(bad(format!(
                "graph input `{}` cannot be fed from text: the tool gives {expected} (from the \
                 tokenizer) and nothing else; re-export the model with only these inputs",
                input.name()
            )));
        };
        let code = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(type_proto::Value::TensorType(t)) => t.elem_type,
            _ => None,
        };
        found[k] = Some(match code.map(DataType::try_from) {
            Some(Ok(DataType::Int64)) => IdType::I64,
            Some(Ok(DataType::Int32)) => IdType::I32,
            _ => {
                return Err(bad(format!(
                    "graph input `{}` has element type {}, expected an int64 or int32 tensor",
                    input.name(),
                    code.map_or("(none)".to_string(), |c| c.to_string())
                )))
            }
        });
    }
    let [ids, mask, types] = found;
    let input_ids = ids.ok_or_else(|| {
        bad(format!(
            "the graph has no `input_ids` input (its inputs: {}); the tool feeds {expected}",
            names(&graph.input)
        ))
    })?;
    Ok(TextInputs {
        input_ids,
        attention_mask: mask,
        token_type_ids: types,
    })
}

fn names(values: &[ValueInfoProto]) -> String {
    if values.is_empty() {
        return "none".to_string();
    }
    (values.iter().map(|v| format!("`{}`", v.name())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Makes `tensor` (a value computed by a node of the main graph) a graph output of type
/// `ty`, unless it already is one. The value keeps its name, so nothing new is named.
pub fn expose(
    model: &mut ModelProto,
    tensor: &str,
    ty: FloatType,
    path: &Path,
) -> Result<(), ExtractError> {
    let Some(graph) = model.graph.as_mut() else {
        return Err(ExtractError::Inputs {
            path: path.to_path_buf(),
            reason: "the model has no graph".to_string(),
        });
    };
    let produced = graph
        .node
        .iter()
        .any(|n| n.output.iter().any(|o| o == tensor));
    if !produced {
        return Err(ExtractError::Inputs {
            path: path.to_path_buf(),
            reason: format!(
                "the head input `{tensor}` is not computed by the graph (a graph input or a \
                 constant): `features` needs the whole classifier, not a head-only model"
            ),
        });
    }
    if graph.output.iter().any(|o| o.name() == tensor) {
        return Ok(());
    }
    graph.output.push(tensor_value(tensor, ty.code()));
    Ok(())
}

/// A value info `name`: a tensor of ONNX element type `elem_type`, shape not declared.
pub fn tensor_value(name: &str, elem_type: i32) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem_type),
                shape: None,
            })),
            denotation: None,
        }),
        ..ValueInfoProto::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::pb::{NodeProto, StringStringEntryProto, TensorProto};
    use crate::onnx::tensor_data::f32_tensor;

    fn input(name: &str, elem: i32) -> ValueInfoProto {
        tensor_value(name, elem)
    }

    fn graph(inputs: Vec<ValueInfoProto>, inits: Vec<TensorProto>) -> GraphProto {
        GraphProto {
            input: inputs,
            initializer: inits,
            node: vec![NodeProto {
                op_type: Some("Relu".into()),
                input: vec!["input_ids".into()],
                output: vec!["h".into()],
                ..NodeProto::default()
            }],
            ..GraphProto::default()
        }
    }

    #[test]
    fn text_inputs_by_name_and_type() {
        let p = Path::new("m.onnx");
        let g = graph(
            vec![input("input_ids", 7), input("attention_mask", 6)],
            vec![],
        );
        let t = text_inputs(&g, p).unwrap();
        assert_eq!(
            (t.input_ids, t.attention_mask, t.token_type_ids),
            (IdType::I64, Some(IdType::I32), None)
        );
        // An input with an initializer of the same name has a default: not required.
        let g = graph(
            vec![input("input_ids", 7), input("scale", 1)],
            vec![f32_tensor("scale", &[], &[1.0])],
        );
        assert!(text_inputs(&g, p).is_ok());
        let g = graph(
            vec![input("input_ids", 7), input("position_ids", 7)],
            vec![],
        );
        let e = text_inputs(&g, p).unwrap_err().to_string();
        assert!(
            e.starts_with("m.onnx: graph input `position_ids` cannot be fed from text"),
            "{e}"
        );
        let e = text_inputs(&graph(vec![input("input_ids", 1)], vec![]), p).unwrap_err();
        assert!(
            e.to_string()
                .contains("element type 1, expected an int64 or int32"),
            "{e}"
        );
        let e = text_inputs(&graph(vec![input("attention_mask", 7)], vec![]), p).unwrap_err();
        assert!(
            e.to_string()
                .contains("no `input_ids` input (its inputs: `attention_mask`)"),
            "{e}"
        );
    }

    #[test]
    fn expose_adds_a_typed_output_once_and_only_for_computed_values() {
        let p = Path::new("m.onnx");
        let mut m = ModelProto {
            graph: Some(graph(vec![input("input_ids", 7)], vec![])),
            ..ModelProto::default()
        };
        expose(&mut m, "h", FloatType::F16, p).unwrap();
        expose(&mut m, "h", FloatType::F16, p).unwrap();
        let outs = &m.graph.as_ref().unwrap().output;
        assert_eq!(outs.len(), 1);
        let Some(type_proto::Value::TensorType(t)) =
            outs[0].r#type.as_ref().unwrap().value.as_ref()
        else {
            panic!("not a tensor type")
        };
        assert_eq!((t.elem_type, t.shape.is_none()), (Some(10), true));
        let e = expose(&mut m, "input_ids", FloatType::F32, p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`input_ids` is not computed by the graph"),
            "{e}"
        );
    }

    #[test]
    fn external_data_is_refused_naming_tensor_and_location() {
        let mut t = f32_tensor("w", &[1], &[1.0]);
        t.external_data = vec![StringStringEntryProto {
            key: Some("location".into()),
            value: Some("w.bin".into()),
        }];
        let m = ModelProto {
            graph: Some(graph(vec![], vec![t])),
            ..ModelProto::default()
        };
        let e = check_inline(&m, Path::new("m.onnx"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("m.onnx: external data is not supported: tensor `w` references `w.bin`"),
            "{e}"
        );
    }
}
