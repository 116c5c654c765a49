//! The error type of the ONNX layer.

use std::path::PathBuf;

/// What can go wrong reading, writing or interpreting an ONNX model.
///
/// Messages start with what they concern (the file, or `ONNX model` for bytes given
/// directly; the tensor by name) and say what was expected and what was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// The file could not be read, or is larger than the cap.
    #[error("{}: cannot read the ONNX model: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error, or the size cap that was hit.
        #[source]
        source: std::io::Error,
    },

    /// The bytes are longer than protobuf's 2 GiB message limit.
    #[error("{origin}: {len} bytes, more than the {max} bytes a protobuf message may have")]
    TooLarge {
        /// The file, or `ONNX model`.
        origin: String,
        /// Its length.
        len: u64,
        /// The limit.
        max: u64,
    },

    /// The bytes are not a protobuf `ModelProto`.
    #[error("{origin}: not a valid ONNX model (protobuf ModelProto): {source}")]
    Decode {
        /// The file, or `ONNX model`.
        origin: String,
        /// Where the decoder stopped and why (message, field, cause).
        #[source]
        source: prost::DecodeError,
    },

    /// The bytes decode, but a field every ONNX model has is absent.
    #[error("{origin}: not an ONNX model: `ModelProto.{field}` is missing")]
    MissingField {
        /// The file, or `ONNX model`.
        origin: String,
        /// The missing field.
        field: &'static str,
    },

    /// The model could not be written.
    #[error(transparent)]
    Write(#[from] crate::output::WriteError),

    /// A tensor has another element type than the one asked for.
    #[error("tensor `{tensor}`: element type is {got}, expected {expected}")]
    DataType {
        /// Tensor name.
        tensor: String,
        /// The requested type.
        expected: String,
        /// The `data_type` found, by name when known.
        got: String,
    },

    /// A tensor's bytes are in a side file, not in the model.
    #[error("tensor `{tensor}`: data is stored externally (in `{location}`), not in the model")]
    ExternalData {
        /// Tensor name.
        tensor: String,
        /// The `location` entry of `external_data`, or `?`.
        location: String,
    },

    /// A tensor's shape is negative or its element count overflows.
    #[error("tensor `{tensor}`: invalid dims {dims:?}")]
    Dims {
        /// Tensor name.
        tensor: String,
        /// The dims found.
        dims: Vec<i64>,
    },

    /// A tensor's payload does not hold as many elements as its dims say.
    #[error("tensor `{tensor}`: {field} holds {found}, dims {dims:?} need {expected} elements")]
    Length {
        /// Tensor name.
        tensor: String,
        /// The payload field read (`raw_data`, `float_data`, `int32_data`).
        field: &'static str,
        /// The dims.
        dims: Vec<i64>,
        /// Elements the dims need.
        expected: usize,
        /// What was found, e.g. `10 elements` or `38 bytes`.
        found: String,
    },

    /// A value of an `int32_data` payload does not fit the element type.
    #[error("tensor `{tensor}`: int32_data[{index}] = {value} is not a 16-bit pattern")]
    BitPattern {
        /// Tensor name.
        tensor: String,
        /// Position in `int32_data`.
        index: usize,
        /// The value found.
        value: i32,
    },
}
