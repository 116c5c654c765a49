//! The error type of the extract stage.

use std::path::PathBuf;

use super::locate::LocateError;
use crate::onnx::OnnxError;
use crate::runtime::RuntimeError;

/// Everything that can go wrong turning texts into features. Messages start with the file
/// concerned (`file:line` for a text row) and say what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// A file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error, or the size cap that was hit.
        #[source]
        source: std::io::Error,
    },

    /// A line of the texts file is not a labelled text.
    #[error("{}:{line}: {reason}", path.display())]
    TextLine {
        /// The texts file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// The texts file has no row.
    #[error(
        "{}: no rows (the file is empty or blank); expected one JSON object per line: \
         {{\"text\": str, \"label\": int}}",
        path.display()
    )]
    NoTexts {
        /// The texts file.
        path: PathBuf,
    },

    /// The tokenizer file cannot be used.
    #[error("{}: {reason}", path.display())]
    Tokenizer {
        /// The tokenizer.json.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// The model file could not be read or decoded.
    #[error(transparent)]
    Onnx(#[from] OnnxError),

    /// The model keeps tensors in side files.
    #[error(
        "{}: external data is not supported: tensor `{tensor}` references `{location}`; \
         re-export the model as one file (torch.onnx.export(..., external_data=False), or \
         onnx.save(onnx.load(path), out, save_as_external_data=False)); models over 2 GB \
         cannot be read",
        path.display()
    )]
    ExternalData {
        /// The model.
        path: PathBuf,
        /// The first tensor stored outside.
        tensor: String,
        /// Its `location`.
        location: String,
    },

    /// The model needs an input we cannot give from text.
    #[error("{}: {reason}", path.display())]
    Inputs {
        /// The model.
        path: PathBuf,
        /// Which input and why.
        reason: String,
    },

    /// The head was not found in the graph.
    #[error("{}: {source}", path.display())]
    Locate {
        /// The model.
        path: PathBuf,
        /// Why.
        #[source]
        source: LocateError,
    },

    /// ONNX Runtime could not be loaded.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),

    /// ONNX Runtime rejected the model or failed on a batch.
    #[error("{}: ONNX Runtime: {reason}", path.display())]
    Session {
        /// The model.
        path: PathBuf,
        /// What ONNX Runtime said, and for which rows.
        reason: String,
    },

    /// An output of the model is not what the head implies.
    #[error("{}: output `{output}`: {reason}", path.display())]
    Output {
        /// The model.
        path: PathBuf,
        /// The graph output (the logits, or the added head input).
        output: String,
        /// Expected vs got.
        reason: String,
    },
}
