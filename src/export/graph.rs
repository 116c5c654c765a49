//! A small, explicit builder for ONNX graphs.
//!
//! [`GraphBuilder`] collects nodes (in the order they are added, which must be
//! topological), initializers and the IO signature; free functions build the
//! individual protobuf messages. Nothing here knows about heads: that is
//! [`super::model`].

use super::pb::{
    self, tensor_shape_proto::dimension, tensor_shape_proto::Dimension, type_proto, AttributeProto,
    AttributeType, DataType, NodeProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

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
        name: name.to_string(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data,
        ..Default::default()
    }
}

/// An int64 initializer of shape `[values.len()]` (e.g. the `axes` input of a Reduce op).
pub fn initializer_i64(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: vec![values.len() as i64],
        data_type: DataType::Int64 as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// An integer attribute.
pub fn attr_int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Int as i32,
        i: Some(value),
        ..Default::default()
    }
}

/// A float attribute.
pub fn attr_float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Float as i32,
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
            denotation: String::new(),
        })
        .collect();
    TypeProto {
        value: Some(type_proto::Value::TensorType(type_proto::Tensor {
            elem_type: elem as i32,
            shape: Some(TensorShapeProto { dim }),
        })),
        denotation: String::new(),
    }
}

/// A graph input or output declaration.
pub fn value_info(name: &str, elem: DataType, dims: &[Dim]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(tensor_type(elem, dims)),
        doc_string: String::new(),
    }
}

/// Accumulates a graph. Node and value names are chosen by the caller and must be
/// unique; [`GraphBuilder::node`] returns the output name so calls chain.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    graph: pb::GraphProto,
}

impl GraphBuilder {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> Self {
        GraphBuilder {
            graph: pb::GraphProto {
                name: name.to_string(),
                ..Default::default()
            },
        }
    }

    /// Adds an initializer and returns its name.
    pub fn initializer(&mut self, tensor: TensorProto) -> String {
        let name = tensor.name.clone();
        self.graph.initializer.push(tensor);
        name
    }

    /// Adds a float32 initializer and returns its name.
    pub fn weight(&mut self, name: &str, dims: &[usize], data: &[f32]) -> String {
        self.initializer(initializer_f32(name, dims, data))
    }

    /// Adds a float32 scalar (shape `[]`) initializer and returns its name.
    pub fn scalar(&mut self, name: &str, value: f32) -> String {
        self.initializer(initializer_f32(name, &[], &[value]))
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
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: output.to_string(),
            op_type: op.to_string(),
            attribute: attributes,
            ..Default::default()
        });
        output.to_string()
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem: DataType, dims: &[Dim]) {
        self.graph.input.push(value_info(name, elem, dims));
    }

    /// Declares a graph output.
    pub fn output(&mut self, name: &str, elem: DataType, dims: &[Dim]) {
        self.graph.output.push(value_info(name, elem, dims));
    }

    /// The finished graph.
    pub fn finish(self) -> pb::GraphProto {
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
        assert_eq!(t.data_type, DataType::Float as i32);
        assert_eq!(
            t.raw_data,
            [1.0f32.to_le_bytes(), (-2.5f32).to_le_bytes()].concat()
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
}
