//! The subset of the ONNX protobuf schema that we write and read back.
//!
//! Hand-written `prost` messages; the field numbers and enum values are those of
//! the public `onnx.proto3` schema (ONNX IR version 8, opset 18 era). Only the
//! fields we write or check are declared: a decoder skips the others, so a model
//! produced by another tool still parses. Subgraph attributes (`g`, `graphs`) and
//! training / function sections are deliberately absent: our graphs have none,
//! and the validator reports any node it does not expect by op type.
//!
//! Everything ONNX-specific stays in this module; the builder lives in
//! [`super::graph`].
#![allow(clippy::all)]

/// `ModelProto`: the top-level file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelProto {
    /// IR version of the file format (field 1).
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// Operator sets the graph uses; the empty domain is the default ONNX domain (field 8).
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    /// Tool that wrote the file (field 2).
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// Version of that tool (field 3).
    #[prost(string, tag = "3")]
    pub producer_version: String,
    /// Reverse-DNS model namespace (field 4).
    #[prost(string, tag = "4")]
    pub domain: String,
    /// Version of the model itself (field 5).
    #[prost(int64, tag = "5")]
    pub model_version: i64,
    /// Free text (field 6).
    #[prost(string, tag = "6")]
    pub doc_string: String,
    /// The computation (field 7).
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Named string metadata (field 14).
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// `OperatorSetIdProto`: one `(domain, version)` import.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OperatorSetIdProto {
    /// Operator domain; empty means `ai.onnx` (field 1).
    #[prost(string, tag = "1")]
    pub domain: String,
    /// Opset version (field 2).
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// `StringStringEntryProto`: a key / value pair.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringStringEntryProto {
    /// Key (field 1).
    #[prost(string, tag = "1")]
    pub key: String,
    /// Value (field 2).
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `GraphProto`: nodes in topological order, weights and the IO signature.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphProto {
    /// Nodes, topologically sorted (field 1).
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// Graph name (field 2).
    #[prost(string, tag = "2")]
    pub name: String,
    /// Constant tensors (weights) (field 5).
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// Free text (field 10).
    #[prost(string, tag = "10")]
    pub doc_string: String,
    /// Graph inputs (field 11).
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// Graph outputs (field 12).
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
    /// Types of intermediate values (field 13).
    #[prost(message, repeated, tag = "13")]
    pub value_info: Vec<ValueInfoProto>,
}

/// `NodeProto`: one operator application.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeProto {
    /// Names of the input values; an empty name is an omitted optional input (field 1).
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Names of the output values (field 2).
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// Node name, unique in the graph (field 3).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Operator, e.g. `Gemm` (field 4).
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// Attributes (field 5).
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    /// Free text (field 6).
    #[prost(string, tag = "6")]
    pub doc_string: String,
    /// Operator domain; empty means `ai.onnx` (field 7).
    #[prost(string, tag = "7")]
    pub domain: String,
}

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

/// `AttributeProto`: a named attribute of a node (subgraph fields omitted).
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    /// Attribute name (field 1).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Which value field is set (field 20).
    #[prost(enumeration = "AttributeType", tag = "20")]
    pub r#type: i32,
    /// Float value (field 2). Explicit presence, as in ONNX's proto2 schema, so a
    /// value of 0 is still written.
    #[prost(float, optional, tag = "2")]
    pub f: Option<f32>,
    /// Integer value (field 3), with explicit presence like `f`.
    #[prost(int64, optional, tag = "3")]
    pub i: Option<i64>,
    /// Bytes value (field 4), with explicit presence like `f`.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub s: Option<Vec<u8>>,
    /// Tensor value, e.g. of a `Constant` node (field 5).
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    /// Float list (field 7).
    #[prost(float, repeated, tag = "7")]
    pub floats: Vec<f32>,
    /// Integer list (field 8).
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    /// Bytes list (field 9).
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub strings: Vec<Vec<u8>>,
    /// Tensor list (field 10).
    #[prost(message, repeated, tag = "10")]
    pub tensors: Vec<TensorProto>,
    /// Free text (field 13).
    #[prost(string, tag = "13")]
    pub doc_string: String,
}

/// `TensorProto.DataType` values we use or check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataType {
    /// Not set.
    Undefined = 0,
    /// 32-bit IEEE float.
    Float = 1,
    /// Unsigned 8-bit integer.
    Uint8 = 2,
    /// Signed 8-bit integer.
    Int8 = 3,
    /// Unsigned 16-bit integer.
    Uint16 = 4,
    /// Signed 16-bit integer.
    Int16 = 5,
    /// Signed 32-bit integer.
    Int32 = 6,
    /// Signed 64-bit integer.
    Int64 = 7,
    /// UTF-8 string.
    String = 8,
    /// Boolean.
    Bool = 9,
    /// IEEE half.
    Float16 = 10,
    /// 64-bit IEEE float.
    Double = 11,
    /// Unsigned 32-bit integer.
    Uint32 = 12,
    /// Unsigned 64-bit integer.
    Uint64 = 13,
    /// Two f32.
    Complex64 = 14,
    /// Two f64.
    Complex128 = 15,
    /// bfloat16.
    Bfloat16 = 16,
}

/// `TensorProto.DataLocation`: where the bytes of a tensor are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataLocation {
    /// In this message.
    Default = 0,
    /// In a side file named by `external_data`.
    External = 1,
}

/// `TensorProto`: a constant tensor.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// Shape (field 1).
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// Element type, a [`DataType`] (field 2).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// Float payload when `raw_data` is unused (field 4).
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    /// Int32 / bool / f16 payload (field 5).
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    /// Int64 payload (field 7).
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    /// Tensor name (field 8).
    #[prost(string, tag = "8")]
    pub name: String,
    /// Little-endian packed payload (field 9).
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
    /// Double payload (field 10).
    #[prost(double, repeated, tag = "10")]
    pub double_data: Vec<f64>,
    /// Free text (field 12).
    #[prost(string, tag = "12")]
    pub doc_string: String,
    /// Location of external bytes (field 13); must be empty in our files.
    #[prost(message, repeated, tag = "13")]
    pub external_data: Vec<StringStringEntryProto>,
    /// A [`DataLocation`] (field 14).
    #[prost(enumeration = "DataLocation", tag = "14")]
    pub data_location: i32,
}

/// `ValueInfoProto`: the name and type of a graph input, output or intermediate.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueInfoProto {
    /// Value name (field 1).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value type (field 2).
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
    /// Free text (field 3).
    #[prost(string, tag = "3")]
    pub doc_string: String,
}

/// `TypeProto`: only the tensor case is declared.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeProto {
    /// The kind of value (oneof `value`).
    #[prost(oneof = "type_proto::Value", tags = "1")]
    pub value: Option<type_proto::Value>,
    /// Optional denotation (field 6).
    #[prost(string, tag = "6")]
    pub denotation: String,
}

/// Nested types of [`TypeProto`].
pub mod type_proto {
    /// `TypeProto.Tensor`: element type and shape.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Tensor {
        /// Element type, a [`super::DataType`] (field 1).
        #[prost(int32, tag = "1")]
        pub elem_type: i32,
        /// Shape; absent means unknown rank (field 2).
        #[prost(message, optional, tag = "2")]
        pub shape: Option<super::TensorShapeProto>,
    }

    /// The `value` oneof of `TypeProto` (only `tensor_type` is declared).
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        /// A dense tensor (field 1).
        #[prost(message, tag = "1")]
        TensorType(Tensor),
    }
}

/// `TensorShapeProto`: a list of dimensions.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// Dimensions, outermost first (field 1).
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<tensor_shape_proto::Dimension>,
}

/// Nested types of [`TensorShapeProto`].
pub mod tensor_shape_proto {
    /// One dimension: a fixed size or a symbolic name.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dimension {
        /// The size or the symbol (oneof `value`).
        #[prost(oneof = "dimension::Value", tags = "1, 2")]
        pub value: Option<dimension::Value>,
        /// Optional denotation (field 3).
        #[prost(string, tag = "3")]
        pub denotation: String,
    }

    /// Nested types of [`Dimension`].
    pub mod dimension {
        /// The `value` oneof of `Dimension`.
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            /// A fixed size (field 1).
            #[prost(int64, tag = "1")]
            DimValue(i64),
            /// A symbolic name such as `batch` (field 2).
            #[prost(string, tag = "2")]
            DimParam(String),
        }
    }
}
