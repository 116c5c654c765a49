//! Lossless reading and writing of foreign ONNX models.
//!
//! [`pb`] is the complete ONNX protobuf schema with proto2 semantics, so a model decoded
//! here and encoded again is byte-identical to what protobuf wrote (functions, subgraphs,
//! sparse and external tensors, metadata and every other field survive). [`decode_model`]
//! / [`encode_model`] / [`read_model`] are the entry points; [`query`] has the lookups a
//! graph editor needs and [`tensor_data`] reads and writes tensor payloads.

mod error;
mod io;
pub mod pb;
pub mod query;
pub mod tensor_data;
mod walk;

#[cfg(test)]
mod tests;

pub use error::OnnxError;
pub use io::{decode_model, encode_model, read_model, write_model};
pub use walk::{graphs, tensors};
