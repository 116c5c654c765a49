//! Running a text classifier (original or grafted) in ONNX Runtime over tokenized texts,
//! in the batches `features` uses (length-sorted, padded to the batch's longest row), and
//! collecting every float32 / bool output back in file order.

use std::collections::BTreeMap;
use std::path::Path;

use ort::session::Session;
use ort::value::{DynValue, TensorElementType};

use super::ort_run::{extract, OutputValues};
use crate::extract::batch::{pad, plan, Padded};
use crate::extract::graph::TextInputs;
use crate::extract::run::id_tensor;
use crate::extract::tokenize::Tokens;
use crate::extract::ExtractError;
use crate::runtime;

/// The texts and how to batch them.
#[derive(Debug, Clone, Copy)]
pub struct TextBatches<'a> {
    /// Token ids per row, in file order.
    pub tokens: &'a [Tokens],
    /// The tokenizer's pad id.
    pub pad_id: u32,
    /// Whether the tokenizer pads on the left.
    pub pad_left: bool,
    /// Rows per run.
    pub batch_size: usize,
    /// The graph's text inputs.
    pub inputs: &'a TextInputs,
}

impl TextBatches<'_> {
    /// The padded batches with the rows (file order indices) each holds: the plan of
    /// [`crate::extract::batch::plan`], so every model sees the same batches.
    pub fn batches(&self) -> Vec<(Vec<usize>, Padded)> {
        let lengths: Vec<usize> = self.tokens.iter().map(Tokens::len).collect();
        let same_length = self.inputs.attention_mask.is_none();
        plan(&lengths, self.batch_size, same_length)
            .into_iter()
            .map(|rows| {
                let refs: Vec<&Tokens> = rows.iter().map(|&i| &self.tokens[i]).collect();
                let padded = pad(&refs, self.pad_id, self.pad_left);
                (rows, padded)
            })
            .collect()
    }
}

/// Runs the model `bytes` (`path` names it in errors) on every batch with `threads`
/// intra-op threads and returns each float32 or bool output (others are skipped) with its
/// rows in file order.
pub fn run_on_texts(
    bytes: &[u8],
    path: &Path,
    threads: Option<usize>,
    texts: &TextBatches,
) -> Result<BTreeMap<String, OutputValues>, ExtractError> {
    let err = |reason: String| ExtractError::Session {
        path: path.to_path_buf(),
        reason,
    };
    let env = runtime::environment()?;
    let mut builder = Session::builder(env).map_err(|e| err(e.to_string()))?;
    if let Some(n) = threads {
        builder = (builder.with_intra_threads(n))
            .map_err(|e| err(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| err(e.to_string()))?;
    }
    let mut session = builder
        .commit_from_memory(bytes)
        .map_err(|e| err(format!("cannot load the model: {e}")))?;
    let names: Vec<(String, TensorElementType)> = (session.outputs().iter())
        .filter_map(|o| Some((o.name().to_string(), o.dtype().tensor_type()?)))
        .filter(|(_, t)| matches!(t, TensorElementType::Float32 | TensorElementType::Bool))
        .collect();
    let n = texts.tokens.len();
    let mut out: BTreeMap<String, OutputValues> = BTreeMap::new();
    for (rows, batch) in texts.batches() {
        let shape = [batch.rows, batch.width];
        let mut feed: Vec<(&str, DynValue)> = vec![(
            "input_ids",
            id_tensor(texts.inputs.input_ids, shape, &batch.input_ids).map_err(&err)?,
        )];
        if let Some(ty) = texts.inputs.attention_mask {
            let t = id_tensor(ty, shape, &batch.attention_mask).map_err(&err)?;
            feed.push(("attention_mask", t));
        }
        if let Some(ty) = texts.inputs.token_type_ids {
            let t = id_tensor(ty, shape, &batch.token_type_ids).map_err(&err)?;
            feed.push(("token_type_ids", t));
        }
        let outputs = session
            .run(feed)
            .map_err(|e| err(format!("run failed: {e}")))?;
        for (name, ty) in &names {
            let value = &outputs[name.as_str()];
            let piece =
                extract(value, Some(*ty)).map_err(|e| err(format!("output {name}: {e}")))?;
            place(&mut out, name, piece, &rows, n)
                .map_err(|e| err(format!("output {name}: {e}")))?;
        }
    }
    Ok(out)
}

/// Copies the batch's rows of `piece` to their file-order rows of `out[name]` (created
/// `[n, …]` on first use).
fn place(
    out: &mut BTreeMap<String, OutputValues>,
    name: &str,
    piece: OutputValues,
    rows: &[usize],
    n: usize,
) -> Result<(), String> {
    let shape = piece.shape().to_vec();
    if shape.first() != Some(&rows.len()) {
        return Err(format!(
            "shape {shape:?} for a batch of {} rows",
            rows.len()
        ));
    }
    let tail = shape[1..].to_vec();
    let w: usize = tail.iter().product();
    let full: Vec<usize> = std::iter::once(n).chain(tail.iter().copied()).collect();
    let acc = out.entry(name.to_string()).or_insert_with(|| match piece {
        OutputValues::Float { .. } => OutputValues::Float {
            shape: full.clone(),
            values: vec![0.0; n * w],
        },
        OutputValues::Bool { .. } => OutputValues::Bool {
            shape: full.clone(),
            values: vec![false; n * w],
        },
    });
    if acc.shape() != full.as_slice() {
        return Err(format!(
            "per-row shape changes between batches: {:?} then {shape:?}",
            acc.shape()
        ));
    }
    match (acc, piece) {
        (OutputValues::Float { values, .. }, OutputValues::Float { values: v, .. }) => {
            for (k, &r) in rows.iter().enumerate() {
                values[r * w..(r + 1) * w].copy_from_slice(&v[k * w..(k + 1) * w]);
            }
        }
        (OutputValues::Bool { values, .. }, OutputValues::Bool { values: v, .. }) => {
            for (k, &r) in rows.iter().enumerate() {
                values[r * w..(r + 1) * w].copy_from_slice(&v[k * w..(k + 1) * w]);
            }
        }
        _ => return Err("element type changes between batches".to_string()),
    }
    Ok(())
}
