//! Writing artifacts: atomically, and byte-for-byte reproducibly.

mod atomic;
mod tensors;

pub use atomic::{write_atomic, WriteError};
pub use tensors::{encode_safetensors, TensorData, TensorOut};
