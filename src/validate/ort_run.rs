//! Running an ONNX model in ONNX Runtime over a feature matrix.

use std::collections::BTreeMap;

use ndarray::{ArrayView2, Axis};
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef};

use crate::export::model::INPUT;
use crate::runtime::{self, RuntimeError};

/// Rows per `Session::run` call: bounds memory, and exercises the symbolic batch.
pub const CHUNK_ROWS: usize = 4096;

/// One output over all rows, rows concatenated.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputValues {
    /// A float32 output: shape per chunk concatenated along the batch axis.
    Float {
        /// Shape with the batch dimension equal to the number of rows.
        shape: Vec<usize>,
        /// Row-major values.
        values: Vec<f32>,
    },
    /// A bool output.
    Bool {
        /// Shape with the batch dimension equal to the number of rows.
        shape: Vec<usize>,
        /// Row-major values.
        values: Vec<bool>,
    },
}

/// Why ONNX Runtime did not produce outputs for a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunFailure {
    /// The session could not be created from the model bytes.
    Load(String),
    /// `Session::run` failed or returned something we cannot read.
    Run(String),
}

/// Loads `model` into a new session and runs every row of `features` through it,
/// `CHUNK_ROWS` at a time. `Err` is an ONNX Runtime library problem (bad input to
/// `validate`); `Ok(Err(..))` is a problem with this model.
pub fn run_model(
    model: &[u8],
    features: ArrayView2<f32>,
) -> Result<Result<BTreeMap<String, OutputValues>, RunFailure>, RuntimeError> {
    let env = runtime::environment()?;
    let mut session = match Session::builder(env)
        .map_err(|e| e.to_string())
        .and_then(|mut b| b.commit_from_memory(model).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => return Ok(Err(RunFailure::Load(e))),
    };
    Ok(run_session(&mut session, features))
}

fn run_session(
    session: &mut Session,
    features: ArrayView2<f32>,
) -> Result<BTreeMap<String, OutputValues>, RunFailure> {
    let names: Vec<(String, Option<TensorElementType>)> = session
        .outputs()
        .iter()
        .map(|o| (o.name().to_string(), o.dtype().tensor_type()))
        .collect();
    let mut out: BTreeMap<String, OutputValues> = BTreeMap::new();
    let d = features.ncols();
    for chunk in features.axis_chunks_iter(Axis(0), CHUNK_ROWS) {
        let rows = chunk.nrows();
        let data: Vec<f32> = chunk.iter().copied().collect();
        let input = TensorRef::from_array_view(([rows, d], data.as_slice()))
            .map_err(|e| RunFailure::Run(format!("cannot build the input tensor: {e}")))?;
        let outputs = session
            .run(ort::inputs![INPUT => input])
            .map_err(|e| RunFailure::Run(e.to_string()))?;
        for (name, ty) in &names {
            let piece = extract(&outputs[name.as_str()], *ty)
                .map_err(|e| RunFailure::Run(format!("output {name}: {e}")))?;
            if piece.shape().first() != Some(&rows) {
                return Err(RunFailure::Run(format!(
                    "output {name} has shape {:?} for a batch of {rows} rows",
                    piece.shape()
                )));
            }
            match out.get_mut(name) {
                None => {
                    out.insert(name.clone(), piece);
                }
                Some(acc) => acc
                    .append(piece)
                    .map_err(|e| RunFailure::Run(format!("output {name}: {e}")))?,
            }
        }
    }
    Ok(out)
}

/// Reads one output value of the declared element type (float32 or bool).
pub(crate) fn extract(
    value: &ort::value::DynValue,
    ty: Option<TensorElementType>,
) -> Result<OutputValues, String> {
    let shape_of = |s: &ort::value::Shape| s.iter().map(|&d| d.max(0) as usize).collect();
    match ty {
        Some(TensorElementType::Float32) => {
            let (shape, v) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| e.to_string())?;
            Ok(OutputValues::Float {
                shape: shape_of(shape),
                values: v.to_vec(),
            })
        }
        Some(TensorElementType::Bool) => {
            let (shape, v) = value
                .try_extract_tensor::<bool>()
                .map_err(|e| e.to_string())?;
            Ok(OutputValues::Bool {
                shape: shape_of(shape),
                values: v.to_vec(),
            })
        }
        other => Err(format!("type {other:?}, expected a float32 or bool tensor")),
    }
}

impl OutputValues {
    /// Shape, batch dimension first.
    pub fn shape(&self) -> &[usize] {
        match self {
            OutputValues::Float { shape, .. } | OutputValues::Bool { shape, .. } => shape,
        }
    }

    /// Appends the rows of `more` (same type and per-row shape).
    fn append(&mut self, more: OutputValues) -> Result<(), String> {
        if self.shape().get(1..) != more.shape().get(1..) {
            return Err(format!(
                "per-row shape changes between batches: {:?} then {:?}",
                self.shape(),
                more.shape()
            ));
        }
        let rows = more.shape()[0];
        match (self, more) {
            (OutputValues::Float { shape, values }, OutputValues::Float { values: v, .. }) => {
                values.extend(v);
                shape[0] += rows;
            }
            (OutputValues::Bool { shape, values }, OutputValues::Bool { values: v, .. }) => {
                values.extend(v);
                shape[0] += rows;
            }
            _ => return Err("element type changes between batches".to_string()),
        }
        Ok(())
    }
}
