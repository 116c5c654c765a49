//! `head.safetensors` (CONTRACT §6): writer and validating reader. The same layout stores
//! the fitted UE head and the original head (`original_head.safetensors`).
//!
//! Keys: `weight` (+ `bias`) for a linear head; `dense.weight`, `dense.bias`,
//! `out_proj.weight`, `out_proj.bias` for a dense one; all f32, PyTorch `[out, in]` layout.
//! `__metadata__`: `kind`, `activation` (`none` for linear), `lambda`, `scale`, `eps`, plus
//! any extra string pairs. The writer emits keys in sorted order, so the same head and
//! metadata always give the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, Array2};
use safetensors::{Dtype, SafeTensors};

use super::FitError;
use crate::head::{Activation, Head, HeadKind, UeSpec};
use crate::output::{encode_safetensors, write_atomic, TensorOut};

/// Metadata keys defined by the format; extra metadata may not use them.
pub const RESERVED_KEYS: [&str; 5] = ["kind", "activation", "lambda", "scale", "eps"];

/// Writes `head` with its uncertainty `spec` and `extra_metadata` to `path` atomically.
///
/// Errors if an extra key is reserved, if a weight is not finite, or if the file cannot be
/// written.
pub fn write_head(
    path: &Path,
    head: &Head,
    spec: &UeSpec,
    extra_metadata: &BTreeMap<String, String>,
) -> Result<(), FitError> {
    let bytes = encode_head(path, head, spec, extra_metadata)?;
    write_atomic(path, &bytes)?;
    Ok(())
}

/// Reads and validates a head file written by [`write_head`]: returns the head, its
/// uncertainty spec, and the metadata other than [`RESERVED_KEYS`]. Never panics on bad bytes.
pub fn read_head(path: &Path) -> Result<(Head, UeSpec, BTreeMap<String, String>), FitError> {
    let bytes = std::fs::read(path).map_err(|source| FitError::ReadHead {
        path: path.to_path_buf(),
        source,
    })?;
    parse_head(path, &bytes)
}

/// The named tensors of `head`, sorted by name.
fn tensors(head: &Head) -> Vec<(&'static str, Vec<usize>, Vec<f32>)> {
    let m = |a: &Array2<f32>| (a.shape().to_vec(), a.iter().copied().collect());
    let v = |a: &Array1<f32>| (vec![a.len()], a.to_vec());
    let mut out = Vec::new();
    let mut push = |name, (shape, data)| out.push((name, shape, data));
    match head {
        Head::Linear { weight, bias } => {
            if let Some(b) = bias {
                push("bias", v(b));
            }
            push("weight", m(weight));
        }
        Head::Dense {
            dense_weight,
            dense_bias,
            out_weight,
            out_bias,
            ..
        } => {
            push("dense.bias", v(dense_bias));
            push("dense.weight", m(dense_weight));
            push("out_proj.bias", v(out_bias));
            push("out_proj.weight", m(out_weight));
        }
    }
    out
}

/// The bytes [`write_head`] writes, for callers that write several files only once all
/// of them are ready. `path` only names the file in errors.
pub fn encode_head(
    path: &Path,
    head: &Head,
    spec: &UeSpec,
    extra: &BTreeMap<String, String>,
) -> Result<Vec<u8>, FitError> {
    let mut meta = BTreeMap::new();
    for (k, v) in extra {
        if RESERVED_KEYS.contains(&k.as_str()) {
            return Err(FitError::ReservedMetadataKey { key: k.clone() });
        }
        meta.insert(k.clone(), v.clone());
    }
    meta.insert("kind".into(), head.kind().as_str().into());
    meta.insert(
        "activation".into(),
        head.activation().map_or("none", Activation::as_str).into(),
    );
    meta.insert("lambda".into(), spec.lambda.to_string());
    meta.insert("scale".into(), spec.scale.to_string());
    meta.insert("eps".into(), spec.eps.to_string());

    let tensors = tensors(head);
    if let Some((name, _, _)) = tensors
        .iter()
        .find(|(_, _, data)| data.iter().any(|v| !v.is_finite()))
    {
        return Err(invalid(
            path,
            Some(name),
            "non-finite weight; refusing to write it",
        ));
    }
    let views: Vec<TensorOut<'_>> = tensors
        .iter()
        .map(|(name, shape, data)| TensorOut::f32(name, shape.clone(), data))
        .collect();
    Ok(encode_safetensors(&views, &meta))
}

/// A tensor read from the file: shape and row-major f32 values.
type Tensor = (Vec<usize>, Vec<f32>);

fn invalid(path: &Path, tensor: Option<&str>, reason: impl Into<String>) -> FitError {
    FitError::InvalidHeadFile {
        path: path.to_path_buf(),
        tensor: tensor.map(str::to_string),
        reason: reason.into(),
    }
}

/// Parses and validates the bytes of a head file (`path` only names it in errors).
fn parse_head(
    path: &Path,
    bytes: &[u8],
) -> Result<(Head, UeSpec, BTreeMap<String, String>), FitError> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| invalid(path, None, format!("not a valid safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| invalid(path, None, format!("not a valid safetensors file: {e}")))?;
    let mut meta: BTreeMap<String, String> = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut take = |key: &str| {
        meta.remove(key)
            .ok_or_else(|| invalid(path, Some(key), "missing `__metadata__` key"))
    };
    let kind = take("kind")?;
    let activation = take("activation")?;
    let number = |key: &str, value: String, ok: fn(f64) -> bool, expected: &str| {
        value.parse::<f64>().ok().filter(|&v| ok(v)).ok_or_else(|| {
            invalid(
                path,
                Some(key),
                format!("expected {expected}, got {value:?}"),
            )
        })
    };
    let spec = UeSpec {
        lambda: number(
            "lambda",
            take("lambda")?,
            |v| v.is_finite() && v > 0.0,
            "a number > 0",
        )?,
        scale: number(
            "scale",
            take("scale")?,
            |v| v.is_finite() && v > 0.0,
            "a number > 0",
        )?,
        eps: number(
            "eps",
            take("eps")?,
            |v| v > 0.0 && v < 0.5,
            "a number in (0, 0.5)",
        )?,
    };

    let names: Vec<&str> = match (kind.as_str(), activation.as_str()) {
        ("linear", "none") => vec!["weight", "bias"],
        ("dense", "tanh" | "gelu") => {
            vec![
                "dense.weight",
                "dense.bias",
                "out_proj.weight",
                "out_proj.bias",
            ]
        }
        _ => {
            return Err(invalid(
                path,
                Some("kind"),
                format!(
                    "expected kind `linear` with activation `none`, or kind `dense` with \
                     activation `tanh` or `gelu`; got kind {kind:?}, activation {activation:?}"
                ),
            ))
        }
    };
    if let Some(extra) = st.names().into_iter().find(|n| !names.contains(n)) {
        return Err(invalid(
            path,
            Some(extra),
            format!(
                "unexpected tensor for a {kind} head (expected {})",
                names.join(", ")
            ),
        ));
    }
    let tensor = |name: &str, rank: usize| -> Result<Option<Tensor>, FitError> {
        let Ok(view) = st.tensor(name) else {
            return Ok(None);
        };
        if view.dtype() != Dtype::F32 {
            return Err(invalid(
                path,
                Some(name),
                format!("expected F32, got {:?}", view.dtype()),
            ));
        }
        let shape = view.shape().to_vec();
        if shape.len() != rank || shape.contains(&0) {
            return Err(invalid(
                path,
                Some(name),
                format!("expected a non-empty rank-{rank} tensor, got shape {shape:?}"),
            ));
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if data.iter().any(|v| !v.is_finite()) {
            return Err(invalid(path, Some(name), "non-finite value"));
        }
        Ok(Some((shape, data)))
    };
    let required = |name: &str, rank| {
        tensor(name, rank)?.ok_or_else(|| invalid(path, Some(name), "missing tensor"))
    };
    let matrix = |(shape, data): Tensor, name: &str| {
        Array2::from_shape_vec((shape[0], shape[1]), data)
            .map_err(|e| invalid(path, Some(name), e.to_string()))
    };
    let vector = |(shape, data): Tensor, len: usize, name: &str| {
        if shape[0] == len {
            Ok(Array1::from(data))
        } else {
            Err(invalid(
                path,
                Some(name),
                format!("expected shape [{len}], got {shape:?}"),
            ))
        }
    };

    let head = if kind == HeadKind::Linear.as_str() {
        let weight = matrix(required("weight", 2)?, "weight")?;
        let bias = match tensor("bias", 1)? {
            Some(b) => Some(vector(b, weight.nrows(), "bias")?),
            None => None,
        };
        Head::Linear { weight, bias }
    } else {
        let dense_weight = matrix(required("dense.weight", 2)?, "dense.weight")?;
        let h = dense_weight.nrows();
        let dense_bias = vector(required("dense.bias", 1)?, h, "dense.bias")?;
        let out_weight = matrix(required("out_proj.weight", 2)?, "out_proj.weight")?;
        if out_weight.ncols() != h {
            return Err(invalid(
                path,
                Some("out_proj.weight"),
                format!(
                    "expected {h} columns (rows of dense.weight), got {}",
                    out_weight.ncols()
                ),
            ));
        }
        let out_bias = vector(
            required("out_proj.bias", 1)?,
            out_weight.nrows(),
            "out_proj.bias",
        )?;
        Head::Dense {
            dense_weight,
            dense_bias,
            // `names` admitted only `tanh` and `gelu` for a dense head.
            activation: Activation::parse(&activation).unwrap_or(Activation::Tanh),
            out_weight,
            out_bias,
        }
    };
    Ok((head, spec, meta))
}
