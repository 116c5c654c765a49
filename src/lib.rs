//! adue-compile: turn a LoRA-fine-tuned classifier into a deployable, validated
//! AdUE uncertainty head (Zabolotnyi et al., 2025, arXiv 2505.15443).
//!
//! The modules read as the pipeline:
//! [`load`] → ([`extract`]: texts → features with the user's ONNX model) → [`fit`] → [`score`] → [`export`] → [`validate`] → [`report`].
//! [`onnx`] reads and writes foreign ONNX models losslessly (the full schema).
//! [`head`] is the one definition of the classification head that they all share;
//! [`fit_dir`] is the fit directory; [`pipeline`] wires the stages per subcommand from
//! [`settings`], which [`cli`] resolves from the command line. Each module uses only the
//! modules below it in the order of `ARCHITECTURE.md` (checked by `tests/it/architecture.rs`).
#![deny(missing_docs)]

pub mod cli;
pub mod export;
pub mod extract;
pub mod fit;
pub mod fit_dir;
pub mod head;
pub mod load;
pub mod onnx;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod runtime;
pub mod score;
pub mod settings;
pub mod validate;
