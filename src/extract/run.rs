//! Running the classifier in ONNX Runtime, one padded batch at a time, and pooling the head
//! input to one feature row per text. Only one batch's per-token hidden states are alive
//! at a time.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use ort::session::Session;
use ort::value::{DynValue, Tensor};

use super::batch::Padded;
use super::error::ExtractError;
use super::graph::{IdType, TextInputs};
use super::locate::LocatedHead;
use super::pool::Pooling;
use crate::runtime;

/// An ONNX Runtime session of the prepared model (head input exposed as an output).
pub struct Runner {
    path: PathBuf,
    session: Session,
    inputs: TextInputs,
    logits: String,
    head_input: String,
}

/// The results of one batch, rows in batch order.
#[derive(Debug)]
pub struct BatchOutput {
    /// `[rows, D]` pooled head input.
    pub features: Array2<f32>,
    /// `[rows, C]` the model's logits.
    pub logits: Array2<f32>,
    /// The pooling used (from the head input's rank).
    pub pooling: Pooling,
}

impl Runner {
    /// A session on `model` (the encoded, prepared model) with `threads` intra-op threads
    /// (ONNX Runtime's default when `None`). `path` names the model in errors.
    pub fn new(
        model: &[u8],
        path: &Path,
        threads: Option<usize>,
        inputs: TextInputs,
        located: &LocatedHead,
    ) -> Result<Self, ExtractError> {
        let env = runtime::environment()?;
        let session_err = |e: String| ExtractError::Session {
            path: path.to_path_buf(),
            reason: format!("cannot load the model: {e}"),
        };
        let mut builder = Session::builder(env).map_err(|e| session_err(e.to_string()))?;
        if let Some(n) = threads {
            builder = builder
                .with_intra_threads(n)
                .map_err(|e| session_err(e.to_string()))?
                .with_inter_threads(1)
                .map_err(|e| session_err(e.to_string()))?;
        }
        let session = builder
            .commit_from_memory(model)
            .map_err(|e| session_err(e.to_string()))?;
        Ok(Runner {
            path: path.to_path_buf(),
            session,
            inputs,
            logits: located.logits_output.clone(),
            head_input: located.head_input.clone(),
        })
    }

    /// Runs one batch; `pooling_for_rank` picks the pooling from the head input's rank.
    pub fn run(
        &mut self,
        batch: &Padded,
        pooling_for_rank: impl Fn(usize) -> Option<Pooling>,
    ) -> Result<BatchOutput, ExtractError> {
        let run_err = |e: String| ExtractError::Session {
            path: self.path.clone(),
            reason: e,
        };
        let shape = [batch.rows, batch.width];
        let mut feed: Vec<(&str, DynValue)> = vec![(
            "input_ids",
            id_tensor(self.inputs.input_ids, shape, &batch.input_ids).map_err(&run_err)?,
        )];
        if let Some(ty) = self.inputs.attention_mask {
            feed.push((
                "attention_mask",
                id_tensor(ty, shape, &batch.attention_mask).map_err(&run_err)?,
            ));
        }
        if let Some(ty) = self.inputs.token_type_ids {
            feed.push((
                "token_type_ids",
                id_tensor(ty, shape, &batch.token_type_ids).map_err(&run_err)?,
            ));
        }
        let outputs = self
            .session
            .run(feed)
            .map_err(|e| run_err(format!("run failed: {e}")))?;
        let out_err = |output: &str, reason: String| ExtractError::Output {
            path: self.path.clone(),
            output: output.to_string(),
            reason,
        };
        let (lshape, logits) =
            floats(&outputs[self.logits.as_str()]).map_err(|e| out_err(&self.logits, e))?;
        let c = lshape.last().copied().unwrap_or(0);
        if lshape.len() != 2 || lshape[0] != batch.rows {
            return Err(out_err(
                &self.logits,
                format!(
                    "shape {lshape:?} for a batch of {} rows, expected [{}, C]",
                    batch.rows, batch.rows
                ),
            ));
        }
        let (hshape, hidden) =
            floats(&outputs[self.head_input.as_str()]).map_err(|e| out_err(&self.head_input, e))?;
        let pooling = pooling_for_rank(hshape.len()).ok_or_else(|| {
            out_err(
                &self.head_input,
                format!("head input has shape {hshape:?}, expected [B, D] or [B, T, D]"),
            )
        })?;
        let features =
            pool(&hshape, &hidden, batch, pooling).map_err(|e| out_err(&self.head_input, e))?;
        let mut values = vec![0.0f32; logits.len()];
        logits.copy_to(0, &mut values);
        let logits = Array2::from_shape_vec((batch.rows, c), values)
            .map_err(|e| out_err(&self.logits, e.to_string()))?;
        Ok(BatchOutput {
            features,
            logits,
            pooling,
        })
    }
}

/// `[rows, D]` from the head input of shape `shape` (`[B, D]` or `[B, T, D]`).
fn pool(
    shape: &[usize],
    hidden: &Floats<'_>,
    batch: &Padded,
    pooling: Pooling,
) -> Result<Array2<f32>, String> {
    let rows = batch.rows;
    let d = shape.last().copied().unwrap_or(0);
    let expected_t = shape.len() == 3;
    let bad_len = shape.iter().product::<usize>() != hidden.len();
    if bad_len || shape[0] != rows || (expected_t && shape[1] != batch.width) {
        return Err(format!(
            "head input has shape {shape:?} for a batch of {rows} rows of {} tokens",
            batch.width
        ));
    }
    let mut out = Array2::zeros((rows, d));
    for r in 0..rows {
        let start = match pooling.position(batch.mask_row(r)) {
            None if pooling == Pooling::AsIs => r * d,
            None => return Err(format!("row {r} of the batch has no real token")),
            Some(t) => (r * batch.width + t) * d,
        };
        if let Some(row) = out.row_mut(r).as_slice_mut() {
            hidden.copy_to(start, row);
        }
    }
    Ok(out)
}

/// An id tensor of type `ty`.
pub fn id_tensor(ty: IdType, shape: [usize; 2], values: &[i64]) -> Result<DynValue, String> {
    let made = match ty {
        IdType::I64 => Tensor::from_array((shape, values.to_vec())).map(|t| t.into_dyn()),
        IdType::I32 => {
            let v: Vec<i32> = values
                .iter()
                .map(|&x| i32::try_from(x).unwrap_or(i32::MAX))
                .collect();
            Tensor::from_array((shape, v)).map(|t| t.into_dyn())
        }
    };
    made.map_err(|e| format!("cannot build an input tensor: {e}"))
}

/// A borrowed float32 or float16 output.
enum Floats<'a> {
    F32(&'a [f32]),
    F16(&'a [half::f16]),
}

impl Floats<'_> {
    fn len(&self) -> usize {
        match self {
            Floats::F32(v) => v.len(),
            Floats::F16(v) => v.len(),
        }
    }

    /// Copies `out.len()` elements from `start` on, as f32.
    fn copy_to(&self, start: usize, out: &mut [f32]) {
        match self {
            Floats::F32(v) => out.copy_from_slice(&v[start..start + out.len()]),
            Floats::F16(v) => {
                let n = out.len();
                (out.iter_mut())
                    .zip(&v[start..start + n])
                    .for_each(|(o, h)| *o = h.to_f32())
            }
        }
    }
}

/// The shape and values of a float32 or float16 output.
fn floats(value: &DynValue) -> Result<(Vec<usize>, Floats<'_>), String> {
    let dims = |s: &ort::value::Shape| s.iter().map(|&d| d.max(0) as usize).collect::<Vec<_>>();
    if let Ok((s, v)) = value.try_extract_tensor::<f32>() {
        return Ok((dims(s), Floats::F32(v)));
    }
    match value.try_extract_tensor::<half::f16>() {
        Ok((s, v)) => Ok((dims(s), Floats::F16(v))),
        Err(_) => Err(format!(
            "type {:?}, expected a float32 or float16 tensor",
            value.dtype()
        )),
    }
}
