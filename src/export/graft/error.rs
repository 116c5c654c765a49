//! The error type of grafting.

use std::path::PathBuf;

use crate::export::ExportError;
use crate::extract::{ExtractError, LocateError};
use crate::onnx::OnnxError;

/// Why a model could not be grafted. Messages start with the model file and say what
/// was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraftError {
    /// The model could not be read, keeps tensors in side files, or has inputs text
    /// cannot feed.
    #[error(transparent)]
    Model(#[from] ExtractError),

    /// The model could not be read or decoded.
    #[error(transparent)]
    Onnx(#[from] OnnxError),

    /// The fitted head's original head is not in the graph.
    #[error("{}: cannot graft: {source}", path.display())]
    Locate {
        /// The model.
        path: PathBuf,
        /// What was sought and what came closest.
        #[source]
        source: LocateError,
    },

    /// The model imports an ai.onnx opset the grafted nodes are not written for.
    #[error(
        "{}: cannot graft: the model imports ai.onnx opset {got}, expected one of {}..={}",
        path.display(), super::MIN_OPSET, super::MAX_OPSET
    )]
    Opset {
        /// The model.
        path: PathBuf,
        /// The opset found (`none` when the default domain is not imported).
        got: String,
    },

    /// The head input's rank is not declared, or is neither 2 nor 3.
    #[error(
        "{}: cannot graft: the head input `{tensor}` has {rank}; expected a declared rank \
         of 2 ([batch, D]) or 3 ([batch, tokens, D]) so that it can be pooled in the graph",
        path.display()
    )]
    Rank {
        /// The model.
        path: PathBuf,
        /// The head input.
        tensor: String,
        /// What the graph says about its rank.
        rank: String,
    },

    /// A name the graft must create is already used by the model.
    #[error(
        "{}: cannot graft: the model already has a value, node or initializer named `{name}`, \
         which the grafted output needs",
        path.display()
    )]
    Clash {
        /// The model.
        path: PathBuf,
        /// The name.
        name: String,
    },

    /// The model carries our metadata already (it was grafted or exported before).
    #[error(
        "{}: cannot graft: metadata key `{key}` is present; the model was already grafted \
         (graft the original model instead)",
        path.display()
    )]
    AlreadyGrafted {
        /// The model.
        path: PathBuf,
        /// The first `adue.` key found.
        key: String,
    },

    /// The heads or the metadata could not be exported.
    #[error(transparent)]
    Export(#[from] ExportError),
}
