//! The model, its functions and training sections, and the small shared messages.

use super::{AttributeProto, DeviceConfigurationProto, GraphProto, NodeProto, ValueInfoProto};

/// `ModelProto`: the top-level message of an `.onnx` file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelProto {
    /// IR version of the file format (field 1).
    #[prost(int64, optional, tag = "1")]
    pub ir_version: Option<i64>,
    /// Tool that wrote the file (field 2).
    #[prost(string, optional, tag = "2")]
    pub producer_name: Option<String>,
    /// Version of that tool (field 3).
    #[prost(string, optional, tag = "3")]
    pub producer_version: Option<String>,
    /// Reverse-DNS namespace of the model (field 4).
    #[prost(string, optional, tag = "4")]
    pub domain: Option<String>,
    /// Version of the model itself (field 5).
    #[prost(int64, optional, tag = "5")]
    pub model_version: Option<i64>,
    /// Free text (field 6).
    #[prost(string, optional, tag = "6")]
    pub doc_string: Option<String>,
    /// The computation (field 7).
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Operator sets the model uses; the empty domain is `ai.onnx` (field 8).
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    /// Named string metadata (field 14).
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
    /// Training sections (field 20).
    #[prost(message, repeated, tag = "20")]
    pub training_info: Vec<TrainingInfoProto>,
    /// Model-local functions (field 25).
    #[prost(message, repeated, tag = "25")]
    pub functions: Vec<FunctionProto>,
    /// Device configurations for multi-device execution (field 26).
    #[prost(message, repeated, tag = "26")]
    pub configuration: Vec<DeviceConfigurationProto>,
}

/// `OperatorSetIdProto`: one `(domain, version)` import.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OperatorSetIdProto {
    /// Operator domain; absent or empty means `ai.onnx` (field 1).
    #[prost(string, optional, tag = "1")]
    pub domain: Option<String>,
    /// Opset version (field 2).
    #[prost(int64, optional, tag = "2")]
    pub version: Option<i64>,
}

/// `StringStringEntryProto`: a key / value pair (ONNX's stand-in for a map entry).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringStringEntryProto {
    /// Key (field 1).
    #[prost(string, optional, tag = "1")]
    pub key: Option<String>,
    /// Value (field 2).
    #[prost(string, optional, tag = "2")]
    pub value: Option<String>,
}

/// `TrainingInfoProto`: the initialization and training-step graphs of a trainable model.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TrainingInfoProto {
    /// Graph run once to initialize the state (field 1).
    #[prost(message, optional, tag = "1")]
    pub initialization: Option<GraphProto>,
    /// Graph of one training step (field 2).
    #[prost(message, optional, tag = "2")]
    pub algorithm: Option<GraphProto>,
    /// Initializer ← initialization output (field 3).
    #[prost(message, repeated, tag = "3")]
    pub initialization_binding: Vec<StringStringEntryProto>,
    /// Initializer ← algorithm output (field 4).
    #[prost(message, repeated, tag = "4")]
    pub update_binding: Vec<StringStringEntryProto>,
}

/// `FunctionProto`: a model-local function, called by nodes of its `(domain, name)`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FunctionProto {
    /// Function name, the `op_type` of the nodes that call it (field 1).
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// Formal input names (field 4).
    #[prost(string, repeated, tag = "4")]
    pub input: Vec<String>,
    /// Formal output names (field 5).
    #[prost(string, repeated, tag = "5")]
    pub output: Vec<String>,
    /// Names of attributes without a default (field 6).
    #[prost(string, repeated, tag = "6")]
    pub attribute: Vec<String>,
    /// Body, topologically sorted (field 7).
    #[prost(message, repeated, tag = "7")]
    pub node: Vec<NodeProto>,
    /// Free text (field 8).
    #[prost(string, optional, tag = "8")]
    pub doc_string: Option<String>,
    /// Operator sets the body uses (field 9).
    #[prost(message, repeated, tag = "9")]
    pub opset_import: Vec<OperatorSetIdProto>,
    /// Domain of the function (field 10).
    #[prost(string, optional, tag = "10")]
    pub domain: Option<String>,
    /// Attributes with a default value (field 11).
    #[prost(message, repeated, tag = "11")]
    pub attribute_proto: Vec<AttributeProto>,
    /// Types of values inside the body (field 12).
    #[prost(message, repeated, tag = "12")]
    pub value_info: Vec<ValueInfoProto>,
    /// Overload tag: `(domain, name, overload)` identifies the function (field 13).
    #[prost(string, optional, tag = "13")]
    pub overload: Option<String>,
    /// Named string metadata (field 14).
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// `Version`: the IR versions of the format, by publication date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Version {
    /// Placeholder zero.
    StartVersion = 0,
    /// IR 1 (2017-10-10).
    IrVersion20171010 = 1,
    /// IR 2 (2017-10-30).
    IrVersion20171030 = 2,
    /// IR 3 (2017-11-03).
    IrVersion2017113 = 3,
    /// IR 4 (2019-01-22).
    IrVersion2019122 = 4,
    /// IR 5 (2019-03-18).
    IrVersion2019318 = 5,
    /// IR 6 (2019-09-19).
    IrVersion2019919 = 6,
    /// IR 7 (2020-05-08).
    IrVersion202058 = 7,
    /// IR 8 (2021-07-30).
    IrVersion2021730 = 8,
    /// IR 9 (2023-05-05).
    IrVersion202355 = 9,
    /// IR 10 (2024-03-25).
    IrVersion2024325 = 10,
    /// IR 11 (2025-05-12).
    IrVersion20250512 = 11,
    /// IR 12 (2025-08-26).
    IrVersion20250826 = 12,
    /// IR 13 (2025-11-06).
    IrVersion20251106 = 13,
    /// The newest IR version the schema describes.
    IrVersion = 14,
}

/// `OperatorStatus`: whether an operator (set) is experimental.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum OperatorStatus {
    /// Experimental.
    Experimental = 0,
    /// Stable.
    Stable = 1,
}
