//! A small, explicit builder for ONNX graphs.
//!
//! [`GraphBuilder`] collects nodes (in the order they are added, which must be
//! topological), initializers and the IO signature; free functions build the
//! individual protobuf messages ([`crate::onnx::pb`]). Nothing here knows about heads:
//! that is [`super::model`].
//!
//! Callers name values locally (`ue/lambda_p`); the builder writes each local name with
//! its prefix (empty for a standalone head, e.g. `adue/` for a fragment grafted onto a
//! user's graph), except the *external* names it was given: values of the surrounding
//! graph the fragment reads, and the public outputs it writes. The builder also knows the
//! opset it writes for, so that [`GraphBuilder::reduce`] picks the node form valid there.

use std::collections::BTreeSet;

use crate::onnx::pb::{
    tensor_shape_proto::dimension, tensor_shape_proto::Dimension, type_proto, AttributeProto,
    AttributeType, DataType, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};

/// First ai.onnx opset whose `Reduce*` operators (other than `ReduceSum`) take `axes` as
/// an input rather than an attribute.
pub const REDUCE_AXES_INPUT_OPSET: i64 = 18;

/// One dimension of a declared graph input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A symbolic size, e.g. `batch`.
    Symbolic(String),
}

/// A float32 initializer `name` of shape `dims`, stored little-endian in `raw_data`.
pub fn initializer_f32(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    let raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: Some(DataType::Float as i32),
        raw_data: Some(raw_data),
        ..Default::default()
    }
}

/// An int64 initializer of shape `dims` (e.g. `[1]` for the `axes` input of a Reduce op,
/// `[]` for a scalar index).
pub fn initializer_i64(name: &str, dims: &[usize], values: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: Some(DataType::Int64 as i32),
        raw_data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

/// An integer attribute.
pub fn attr_int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(value),
        ..Default::default()
    }
}

/// An integer-list attribute.
pub fn attr_ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        r#type: Some(AttributeType::Ints as i32),
        ints: values.to_vec(),
        ..Default::default()
    }
}

/// A float attribute.
pub fn attr_float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(value),
        ..Default::default()
    }
}

/// A tensor type with element type `elem` and shape `dims`.
pub fn tensor_type(elem: DataType, dims: &[Dim]) -> TypeProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
                Dim::Symbolic(s) => dimension::Value::DimParam(s.clone()),
            }),
            denotation: None,
        })
        .collect();
    TypeProto {
        value: Some(type_proto::Value::TensorType(type_proto::Tensor {
            elem_type: Some(elem as i32),
            shape: Some(TensorShapeProto { dim }),
        })),
        denotation: None,
    }
}

/// A graph input or output declaration.
pub fn value_info(name: &str, elem: DataType, dims: &[Dim]) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(tensor_type(elem, dims)),
        ..Default::default()
    }
}

/// An int64 `[k]` initializer holding reduction axes, made by [`GraphBuilder::axes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axes {
    /// Its local name.
    pub name: String,
    /// The axes.
    pub values: Vec<i64>,
}

/// Accumulates a graph. Local names are chosen by the caller and must be unique;
/// [`GraphBuilder::node`] returns the (local) output name so calls chain.
#[derive(Debug)]
pub struct GraphBuilder {
    graph: GraphProto,
    prefix: String,
    external: BTreeSet<String>,
    opset: i64,
}

impl GraphBuilder {
    /// An empty standalone graph called `name`, for ai.onnx `opset`: names are written as
    /// given.
    pub fn new(name: &str, opset: i64) -> Self {
        GraphBuilder {
            graph: GraphProto {
                name: Some(name.to_string()),
                ..Default::default()
            },
            prefix: String::new(),
            external: BTreeSet::new(),
            opset,
        }
    }

    /// An empty fragment for a graph of ai.onnx `opset`: every local name is written as
    /// `prefix` + name, except the names in `external` (values of the surrounding graph the
    /// fragment reads, and the outputs it makes public), which are written as given.
    pub fn fragment(prefix: &str, opset: i64, external: &[&str]) -> Self {
        GraphBuilder {
            graph: GraphProto::default(),
            prefix: prefix.to_string(),
            external: external.iter().map(|s| s.to_string()).collect(),
            opset,
        }
    }

    /// The ai.onnx opset the graph is written for.
    pub fn opset(&self) -> i64 {
        self.opset
    }

    /// The name written for local name `local` (the empty name, an omitted optional
    /// input, stays empty).
    pub fn global(&self, local: &str) -> String {
        if local.is_empty() || self.external.contains(local) {
            local.to_string()
        } else {
            format!("{}{local}", self.prefix)
        }
    }

    /// Adds an initializer (named locally) and returns its local name.
    pub fn initializer(&mut self, mut tensor: TensorProto) -> String {
        let local = tensor.name().to_string();
        tensor.name = Some(self.global(&local));
        self.graph.initializer.push(tensor);
        local
    }

    /// Adds a float32 initializer and returns its name.
    pub fn weight(&mut self, name: &str, dims: &[usize], data: &[f32]) -> String {
        self.initializer(initializer_f32(name, dims, data))
    }

    /// Adds a float32 scalar (shape `[]`) initializer and returns its name.
    pub fn scalar(&mut self, name: &str, value: f32) -> String {
        self.initializer(initializer_f32(name, &[], &[value]))
    }

    /// Adds an int64 `[k]` initializer `name` holding `values`, for [`GraphBuilder::reduce`]
    /// and `Squeeze`.
    pub fn axes(&mut self, name: &str, values: &[i64]) -> Axes {
        let name = self.initializer(initializer_i64(name, &[values.len()], values));
        Axes {
            name,
            values: values.to_vec(),
        }
    }

    /// Adds the node `op(inputs) -> output` named `output` and returns `output`.
    /// An empty input name skips an optional input.
    pub fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        output: &str,
        attributes: Vec<AttributeProto>,
    ) -> String {
        let global = self.global(output);
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| self.global(s)).collect(),
            output: vec![global.clone()],
            name: Some(global),
            op_type: Some(op.to_string()),
            attribute: attributes,
            ..Default::default()
        });
        output.to_string()
    }

    /// Adds a `Reduce*` node over `axes`, in the form valid at the builder's opset: `axes`
    /// as an input from [`REDUCE_AXES_INPUT_OPSET`] on, as an attribute before.
    pub fn reduce(
        &mut self,
        op: &str,
        input: &str,
        axes: &Axes,
        keepdims: bool,
        output: &str,
    ) -> String {
        let keep = attr_int("keepdims", i64::from(keepdims));
        if self.opset >= REDUCE_AXES_INPUT_OPSET {
            self.node(op, &[input, &axes.name], output, vec![keep])
        } else {
            let attrs = vec![attr_ints("axes", &axes.values), keep];
            self.node(op, &[input], output, attrs)
        }
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem: DataType, dims: &[Dim]) {
        let v = value_info(&self.global(name), elem, dims);
        self.graph.input.push(v);
    }

    /// Declares a graph output.
    pub fn output(&mut self, name: &str, elem: DataType, dims: &[Dim]) {
        let v = value_info(&self.global(name), elem, dims);
        self.graph.output.push(v);
    }

    /// The finished graph (for a fragment: its nodes, initializers and outputs, to splice).
    pub fn finish(self) -> GraphProto {
        self.graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_initializer_is_little_endian_raw_data() {
        let t = initializer_f32("w", &[2], &[1.0, -2.5]);
        assert_eq!(t.dims, vec![2]);
        assert_eq!(t.data_type, Some(DataType::Float as i32));
        assert_eq!(
            t.raw_data.as_deref(),
            Some(&[1.0f32.to_le_bytes(), (-2.5f32).to_le_bytes()].concat()[..])
        );
        assert!(t.float_data.is_empty());
    }

    #[test]
    fn zero_int_attribute_is_still_encoded() {
        use prost::Message;
        let a = attr_int("keepdims", 0);
        let bytes = a.encode_to_vec();
        let back = AttributeProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(back.i, Some(0));
    }

    #[test]
    fn symbolic_and_fixed_dims_round_trip() {
        use prost::Message;
        let v = value_info(
            "x",
            DataType::Float,
            &[Dim::Symbolic("batch".into()), Dim::Fixed(3)],
        );
        let back = ValueInfoProto::decode(v.encode_to_vec().as_slice()).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn fragment_prefixes_local_names_but_not_external_ones() {
        let mut g = GraphBuilder::fragment("adue/", 18, &["h", "uncertainty"]);
        let w = g.weight("ue.w", &[1], &[2.0]);
        let x = g.node("Mul", &["h", &w], "ue/x", vec![]);
        g.node("Relu", &[&x, ""], "uncertainty", vec![]);
        let graph = g.finish();
        assert_eq!(graph.initializer[0].name(), "adue/ue.w");
        assert_eq!(graph.node[0].input, ["h", "adue/ue.w"]);
        assert_eq!(graph.node[0].output, ["adue/ue/x"]);
        assert_eq!(graph.node[0].name(), "adue/ue/x");
        assert_eq!(graph.node[1].input, ["adue/ue/x", ""]);
        assert_eq!(graph.node[1].output, ["uncertainty"]);
    }

    #[test]
    fn reduce_takes_axes_as_input_from_opset_18_and_as_attribute_before() {
        for (opset, inputs, attrs) in [(18, 2, 1), (21, 2, 1), (17, 1, 2), (13, 1, 2)] {
            let mut g = GraphBuilder::new("g", opset);
            let axes = g.axes("axes", &[1]);
            g.reduce("ReduceMax", "x", &axes, true, "y");
            let graph = g.finish();
            let n = &graph.node[0];
            assert_eq!(
                (n.input.len(), n.attribute.len()),
                (inputs, attrs),
                "{opset}"
            );
            if opset < REDUCE_AXES_INPUT_OPSET {
                assert_eq!(n.attribute[0].name(), "axes");
                assert_eq!(n.attribute[0].ints, [1]);
            } else {
                assert_eq!(n.input[1], "axes");
            }
            assert_eq!(n.attribute.last().unwrap().i, Some(1));
        }
    }
}
