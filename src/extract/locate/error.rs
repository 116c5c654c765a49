//! Why the head could not be located in a graph.

use crate::onnx::OnnxError;

/// The head was not found, or not unambiguously. Messages name the sought tensors (the
/// checkpoint's names and shapes) and what the graph has instead; the caller adds the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocateError {
    /// The model has no main graph.
    #[error("the model has no graph")]
    NoGraph,

    /// No constant tensor equals a head matrix.
    #[error(
        "no initializer equals the checkpoint's head weight {sought} (looked for it as stored \
         or transposed, f32 or f16, within the tolerance); closest: {closest}. Is this the model \
         the checkpoint was fine-tuned from, exported with the LoRA merged (merge_and_unload)?"
    )]
    NoMatch {
        /// The head matrices looked for, `` `name` [out, in] ``, the missing one first.
        sought: String,
        /// The nearest candidates with their differences, or the shapes on offer.
        closest: String,
    },

    /// A tensor equals a head matrix but no linear layer applies it.
    #[error(
        "initializer `{tensor}` equals the checkpoint's `{role}` but no Gemm / MatMul applies it \
         as a linear layer's weight (its uses: {uses})"
    )]
    Unused {
        /// The head matrix, by its checkpoint name.
        role: String,
        /// The matching tensor.
        tensor: String,
        /// What reads it instead.
        uses: String,
    },

    /// Several different tensors feed layers that apply the first head matrix.
    #[error("the checkpoint's `{role}` is applied to several tensors ({inputs}): cannot tell which one the head consumes")]
    Ambiguous {
        /// The head matrix.
        role: String,
        /// The data inputs found.
        inputs: String,
    },

    /// No graph output is the logits.
    #[error(
        "no graph output is the logits: none is named `logits` and {found} have last dimension \
         {classes} (the head's classes); outputs: {outputs}"
    )]
    NoLogits {
        /// The head's class count.
        classes: usize,
        /// How many outputs had that last dimension (`none`, or a count).
        found: String,
        /// Every output with its shape.
        outputs: String,
    },

    /// The head input is not a float tensor of a type we read.
    #[error("the head input `{tensor}` has element type {got}, expected float32 or float16")]
    InputType {
        /// The head input.
        tensor: String,
        /// Its declared element type code.
        got: String,
    },

    /// A candidate tensor's payload could not be read.
    #[error(transparent)]
    Tensor(#[from] OnnxError),
}
