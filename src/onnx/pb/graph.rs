//! Graphs, nodes, attributes and value descriptions.

use super::{
    NodeDeviceConfigurationProto, SparseTensorProto, StringStringEntryProto, TensorProto, TypeProto,
};

/// `GraphProto`: nodes in topological order, weights and the IO signature.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphProto {
    /// Nodes, topologically sorted (field 1).
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// Graph name (field 2).
    #[prost(string, optional, tag = "2")]
    pub name: Option<String>,
    /// Constant tensors (weights) (field 5).
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// Free text (field 10).
    #[prost(string, optional, tag = "10")]
    pub doc_string: Option<String>,
    /// Graph inputs (field 11).
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// Graph outputs (field 12).
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
    /// Types of intermediate values (field 13).
    #[prost(message, repeated, tag = "13")]
    pub value_info: Vec<ValueInfoProto>,
    /// Quantization parameters of tensors (field 14).
    #[prost(message, repeated, tag = "14")]
    pub quantization_annotation: Vec<TensorAnnotation>,
    /// Sparse constant tensors (field 15).
    #[prost(message, repeated, tag = "15")]
    pub sparse_initializer: Vec<SparseTensorProto>,
    /// Named string metadata (field 16).
    #[prost(message, repeated, tag = "16")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// `NodeProto`: one operator (or function) application.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeProto {
    /// Input value names; an empty name is an omitted optional input (field 1).
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Output value names (field 2).
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// Node name (field 3).
    #[prost(string, optional, tag = "3")]
    pub name: Option<String>,
    /// Operator or function name, e.g. `Gemm` (field 4).
    #[prost(string, optional, tag = "4")]
    pub op_type: Option<String>,
    /// Attributes (field 5).
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    /// Free text (field 6).
    #[prost(string, optional, tag = "6")]
    pub doc_string: Option<String>,
    /// Operator domain; absent or empty means `ai.onnx` (field 7).
    #[prost(string, optional, tag = "7")]
    pub domain: Option<String>,
    /// Function overload called (field 8).
    #[prost(string, optional, tag = "8")]
    pub overload: Option<String>,
    /// Named string metadata (field 9).
    #[prost(message, repeated, tag = "9")]
    pub metadata_props: Vec<StringStringEntryProto>,
    /// Placement under device configurations (field 10).
    #[prost(message, repeated, tag = "10")]
    pub device_configurations: Vec<NodeDeviceConfigurationProto>,
}

/// `AttributeProto`: a named attribute of a node or a function.
///
/// `type` says which value field is meaningful; attribute references in a function body
/// carry `ref_attr_name` instead of a value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    /// Attribute name (field 1).
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// Float value (field 2).
    #[prost(float, optional, tag = "2")]
    pub f: Option<f32>,
    /// Integer value (field 3).
    #[prost(int64, optional, tag = "3")]
    pub i: Option<i64>,
    /// Bytes (UTF-8 string) value (field 4).
    #[prost(bytes = "vec", optional, tag = "4")]
    pub s: Option<Vec<u8>>,
    /// Tensor value (field 5).
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    /// Subgraph value, e.g. a branch of `If` (field 6).
    #[prost(message, optional, tag = "6")]
    pub g: Option<GraphProto>,
    /// Float list (field 7, unpacked).
    #[prost(float, repeated, packed = "false", tag = "7")]
    pub floats: Vec<f32>,
    /// Integer list (field 8, unpacked).
    #[prost(int64, repeated, packed = "false", tag = "8")]
    pub ints: Vec<i64>,
    /// Bytes list (field 9).
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub strings: Vec<Vec<u8>>,
    /// Tensor list (field 10).
    #[prost(message, repeated, tag = "10")]
    pub tensors: Vec<TensorProto>,
    /// Subgraph list (field 11).
    #[prost(message, repeated, tag = "11")]
    pub graphs: Vec<GraphProto>,
    /// Free text (field 13).
    #[prost(string, optional, tag = "13")]
    pub doc_string: Option<String>,
    /// Type value (field 14).
    #[prost(message, optional, tag = "14")]
    pub tp: Option<TypeProto>,
    /// Type list (field 15).
    #[prost(message, repeated, tag = "15")]
    pub type_protos: Vec<TypeProto>,
    /// Which value field is set, an [`attribute_proto::AttributeType`] (field 20).
    #[prost(enumeration = "attribute_proto::AttributeType", optional, tag = "20")]
    pub r#type: Option<i32>,
    /// In a function body: the function attribute this one refers to (field 21).
    #[prost(string, optional, tag = "21")]
    pub ref_attr_name: Option<String>,
    /// Sparse tensor value (field 22).
    #[prost(message, optional, tag = "22")]
    pub sparse_tensor: Option<SparseTensorProto>,
    /// Sparse tensor list (field 23).
    #[prost(message, repeated, tag = "23")]
    pub sparse_tensors: Vec<SparseTensorProto>,
}

/// Nested types of [`AttributeProto`].
pub mod attribute_proto {
    /// `AttributeProto.AttributeType`: which value field of an attribute is set.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum AttributeType {
        /// Not set.
        Undefined = 0,
        /// `f`.
        Float = 1,
        /// `i`.
        Int = 2,
        /// `s`.
        String = 3,
        /// `t`.
        Tensor = 4,
        /// `g`.
        Graph = 5,
        /// `floats`.
        Floats = 6,
        /// `ints`.
        Ints = 7,
        /// `strings`.
        Strings = 8,
        /// `tensors`.
        Tensors = 9,
        /// `graphs`.
        Graphs = 10,
        /// `sparse_tensor`.
        SparseTensor = 11,
        /// `sparse_tensors`.
        SparseTensors = 12,
        /// `tp`.
        TypeProto = 13,
        /// `type_protos`.
        TypeProtos = 14,
    }
}

/// `ValueInfoProto`: the name and type of a graph input, output or intermediate value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueInfoProto {
    /// Value name (field 1).
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// Value type (field 2).
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
    /// Free text (field 3).
    #[prost(string, optional, tag = "3")]
    pub doc_string: Option<String>,
    /// Named string metadata (field 4).
    #[prost(message, repeated, tag = "4")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// `TensorAnnotation`: the quantization parameter tensors of one tensor.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorAnnotation {
    /// The annotated tensor (field 1).
    #[prost(string, optional, tag = "1")]
    pub tensor_name: Option<String>,
    /// Parameter role (e.g. `SCALE_TENSOR`) → tensor name (field 2).
    #[prost(message, repeated, tag = "2")]
    pub quant_parameter_tensor_names: Vec<StringStringEntryProto>,
}
