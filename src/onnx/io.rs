//! Decoding and encoding whole models.

use std::path::Path;

use prost::Message;

use super::pb::ModelProto;
use super::OnnxError;
use crate::load::{read_capped, MAX_MODEL_BYTES};

/// What errors call bytes that did not come from a file.
const BYTES_ORIGIN: &str = "ONNX model";

/// Decodes a `ModelProto` from `bytes`, keeping every field of the schema.
///
/// Never panics: malformed, truncated or hostile bytes give [`OnnxError::Decode`] (with
/// the message and field where decoding stopped); nesting deeper than protobuf's
/// recursion limit (100) is rejected. Beyond the protobuf layer only `ir_version` and
/// `graph` are required, so that an arbitrary file that happens to parse as protobuf is
/// not taken for a model.
pub fn decode_model(bytes: &[u8]) -> Result<ModelProto, OnnxError> {
    decode_from(bytes, BYTES_ORIGIN)
}

/// Encodes `model` as protobuf does: fields in field-number order, proto2 presence,
/// packed encoding only where the schema asks for it. A model from [`decode_model`]
/// encodes to the bytes it was decoded from when those were written by protobuf.
pub fn encode_model(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// Reads and decodes the model at `path` (at most [`MAX_MODEL_BYTES`], protobuf's limit;
/// pipes and devices are bounded too). Errors name the file.
pub fn read_model(path: &Path) -> Result<ModelProto, OnnxError> {
    let bytes = read_capped(path, MAX_MODEL_BYTES).map_err(|source| OnnxError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode_from(&bytes, &path.display().to_string())
}

/// Encodes `model` and writes it to `path` atomically; refuses a model over protobuf's
/// 2 GiB limit (no tool could read it back).
pub fn write_model(path: &Path, model: &ModelProto) -> Result<(), OnnxError> {
    let len = model.encoded_len() as u64;
    if len > MAX_MODEL_BYTES {
        return Err(OnnxError::TooLarge {
            origin: path.display().to_string(),
            len,
            max: MAX_MODEL_BYTES,
        });
    }
    crate::output::write_atomic(path, &encode_model(model))?;
    Ok(())
}

fn decode_from(bytes: &[u8], origin: &str) -> Result<ModelProto, OnnxError> {
    let len = bytes.len() as u64;
    if len > MAX_MODEL_BYTES {
        return Err(OnnxError::TooLarge {
            origin: origin.to_string(),
            len,
            max: MAX_MODEL_BYTES,
        });
    }
    let model = ModelProto::decode(bytes).map_err(|source| OnnxError::Decode {
        origin: origin.to_string(),
        source,
    })?;
    let missing = |field| OnnxError::MissingField {
        origin: origin.to_string(),
        field,
    };
    if model.ir_version.is_none() {
        return Err(missing("ir_version"));
    }
    if model.graph.is_none() {
        return Err(missing("graph"));
    }
    Ok(model)
}
