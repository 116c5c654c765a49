//! The complete ONNX protobuf schema (`onnx.proto`, ONNX 1.17 – 1.23, IR versions up to 14),
//! as hand-written `prost` messages.
//!
//! Field numbers, types and labels are those of the public schema. `onnx.proto` is a
//! proto2 file, and these messages keep proto2 semantics so that decoding a model written
//! by protobuf (C++ / upb, what `onnx`, `torch.onnx` and `optimum` use) and encoding it
//! again gives the same bytes:
//!
//! - every `optional` field is an `Option`: presence is tracked, and an explicitly written
//!   zero or empty string is written again;
//! - repeated scalars are packed only where the schema says `[packed = true]` (the numeric
//!   payloads of [`TensorProto`]); `dims`, attribute `ints` / `floats`, sharding lists are
//!   written unpacked. Decoding accepts both encodings of every repeated scalar, as protobuf
//!   does;
//! - fields are written in field-number order, as protobuf does ([`TypeProto`] encodes
//!   by hand for that reason: its `oneof` straddles `denotation`).
//!
//! What a decoder cannot keep: fields this schema does not know (from a future ONNX) are
//! skipped, and strings must be valid UTF-8 (a file with an invalid name is rejected, not
//! altered). Everything protobuf-specific stays in this module; [`super`] wraps it.

mod device;
mod graph;
mod model;
mod tensor;
mod types;

pub use device::{
    DeviceConfigurationProto, IntIntListEntryProto, NodeDeviceConfigurationProto, ShardedDimProto,
    ShardingSpecProto, SimpleShardedDimProto,
};
pub use graph::{
    attribute_proto, AttributeProto, GraphProto, NodeProto, TensorAnnotation, ValueInfoProto,
};
pub use model::{
    FunctionProto, ModelProto, OperatorSetIdProto, OperatorStatus, StringStringEntryProto,
    TrainingInfoProto, Version,
};
pub use tensor::{tensor_proto, SparseTensorProto, TensorProto};
pub use types::{tensor_shape_proto, type_proto, TensorShapeProto, TypeProto};

pub use device::simple_sharded_dim_proto;
pub use graph::attribute_proto::AttributeType;
pub use tensor::tensor_proto::{DataLocation, DataType};

#[cfg(test)]
mod tests;
