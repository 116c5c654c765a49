//! `head.safetensors` (CONTRACT §6): writer and validating reader. The same layout stores
//! the fitted UE head and the original head (`original_head.safetensors`).
//!
//! Keys: those of [`HeadLayout`](super::HeadLayout) (`weight` (+ `bias`) for a linear
//! head; `dense.weight`, `dense.bias`, `out_proj.weight`, `out_proj.bias` for a dense one);
//! all f32, PyTorch `[out, in]` layout. `__metadata__`: `kind`, `activation` (`none` for
//! linear), `lambda`, `scale`, `eps`, plus any extra string pairs. The writer emits keys in
//! sorted order, so the same head and metadata always give the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use safetensors::{Dtype, SafeTensors};

use super::layout::check_layers;
use super::{Activation, Head, HeadKind, UeHead, UeSpec};
use crate::output::{encode_safetensors, write_atomic, TensorOut, WriteError};

/// Metadata keys defined by the format; extra metadata may not use them.
pub const RESERVED_KEYS: [&str; 5] = ["kind", "activation", "lambda", "scale", "eps"];

/// Why a head file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeadFileError {
    /// A head file could not be read.
    #[error("cannot read head file {path}: {source}")]
    Read {
        /// The head file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A head file is not a valid AdUE head (bad safetensors bytes, missing or misshapen
    /// tensor, wrong dtype, bad metadata, non-finite weights).
    #[error("invalid head file {path}{}: {reason}", tensor.as_ref().map(|t| format!(" (tensor `{t}`)")).unwrap_or_default())]
    Invalid {
        /// The head file.
        path: PathBuf,
        /// The tensor or metadata key at fault, when there is one.
        tensor: Option<String>,
        /// What was expected and what was found.
        reason: String,
    },
    /// Extra metadata tried to overwrite a key that the head format defines.
    #[error("metadata key `{key}` is reserved by the head format (kind, activation, lambda, scale, eps)")]
    ReservedMetadataKey {
        /// The offending key.
        key: String,
    },
    /// A head file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Writes `ue` (its head and uncertainty spec) with `extra_metadata` to `path` atomically.
///
/// Errors if an extra key is reserved, if a weight is not finite, or if the file cannot be
/// written.
pub fn write_head(
    path: &Path,
    ue: &UeHead,
    extra_metadata: &BTreeMap<String, String>,
) -> Result<(), HeadFileError> {
    let bytes = encode_head(path, ue, extra_metadata)?;
    write_atomic(path, &bytes)?;
    Ok(())
}

/// Reads and validates a head file written by [`write_head`]: returns the head with its
/// uncertainty spec, and the metadata other than [`RESERVED_KEYS`]. Never panics on bad bytes.
pub fn read_head(path: &Path) -> Result<(UeHead, BTreeMap<String, String>), HeadFileError> {
    let bytes = std::fs::read(path).map_err(|source| HeadFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_head(path, &bytes)
}

/// The bytes [`write_head`] writes, for callers that write several files only once all
/// of them are ready. `path` only names the file in errors.
pub fn encode_head(
    path: &Path,
    ue: &UeHead,
    extra: &BTreeMap<String, String>,
) -> Result<Vec<u8>, HeadFileError> {
    let (head, spec) = (&ue.head, &ue.spec);
    let mut meta = BTreeMap::new();
    for (k, v) in extra {
        if RESERVED_KEYS.contains(&k.as_str()) {
            return Err(HeadFileError::ReservedMetadataKey { key: k.clone() });
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

    let mut tensors = head.tensors();
    tensors.sort_by_key(|(slot, _)| slot.key);
    if let Some((slot, _)) = tensors
        .iter()
        .find(|(_, data)| data.iter().any(|v| !v.is_finite()))
    {
        return Err(invalid(
            path,
            Some(slot.key),
            "non-finite weight; refusing to write it",
        ));
    }
    let views: Vec<TensorOut<'_>> = tensors
        .iter()
        .map(|(slot, data)| TensorOut::f32(slot.key, slot.dims().to_vec(), data))
        .collect();
    Ok(encode_safetensors(&views, &meta))
}

/// A tensor read from the file: shape and row-major f32 values.
type Tensor = (Vec<usize>, Vec<f32>);

fn invalid(path: &Path, tensor: Option<&str>, reason: impl Into<String>) -> HeadFileError {
    HeadFileError::Invalid {
        path: path.to_path_buf(),
        tensor: tensor.map(str::to_string),
        reason: reason.into(),
    }
}

/// What the format's own metadata keys say: kind, activation and the spec of `U`.
type HeadMeta = (HeadKind, Option<Activation>, UeSpec);

/// Parses the `__metadata__` of a head file ([`HeadMeta`]); the other pairs are returned as
/// they are.
fn parse_metadata(
    path: &Path,
    mut meta: BTreeMap<String, String>,
) -> Result<(HeadMeta, BTreeMap<String, String>), HeadFileError> {
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
    let positive = |v: f64| v.is_finite() && v > 0.0;
    let spec = UeSpec {
        lambda: number("lambda", take("lambda")?, positive, "a number > 0")?,
        scale: number("scale", take("scale")?, positive, "a number > 0")?,
        eps: number(
            "eps",
            take("eps")?,
            |v| v > 0.0 && v < 0.5,
            "a number in (0, 0.5)",
        )?,
    };
    let Some((kind, act)) = HeadKind::from_names(&kind, &activation) else {
        return Err(invalid(
            path,
            Some("kind"),
            format!(
                "expected kind `linear` with activation `none`, or kind `dense` with \
                 activation `tanh` or `gelu`; got kind {kind:?}, activation {activation:?}"
            ),
        ));
    };
    Ok(((kind, act, spec), meta))
}

/// Parses and validates the bytes of a head file (`path` only names it in errors).
fn parse_head(
    path: &Path,
    bytes: &[u8],
) -> Result<(UeHead, BTreeMap<String, String>), HeadFileError> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| invalid(path, None, format!("not a valid safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| invalid(path, None, format!("not a valid safetensors file: {e}")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let ((kind, activation, spec), meta) = parse_metadata(path, meta.into_iter().collect())?;

    let keys = kind.layer_keys();
    let names: Vec<&str> = keys.iter().flat_map(|&(w, b)| [w, b]).collect();
    if let Some(extra) = st.names().into_iter().find(|n| !names.contains(n)) {
        return Err(invalid(
            path,
            Some(extra),
            format!(
                "unexpected tensor for a {} head (expected {})",
                kind.as_str(),
                names.join(", ")
            ),
        ));
    }
    let tensor = |name: &str, rank: usize| -> Result<Option<Tensor>, HeadFileError> {
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
    // Layer by layer: the weight, then the bias (required unless the kind makes it optional),
    // each checked against the layers before it as it is read.
    let mut layers = Vec::with_capacity(keys.len());
    for &(wk, bk) in keys {
        let (shape, data) =
            tensor(wk, 2)?.ok_or_else(|| invalid(path, Some(wk), "missing tensor"))?;
        let weight = Array2::from_shape_vec((shape[0], shape[1]), data)
            .map_err(|e| invalid(path, Some(wk), e.to_string()))?;
        let bias = match tensor(bk, 1)? {
            Some((_, data)) => Some(Array1::from(data)),
            None if kind.bias_required() => return Err(invalid(path, Some(bk), "missing tensor")),
            None => None,
        };
        layers.push((weight, bias));
        check_layers(kind, layers.iter().map(|(w, b)| (w, b.as_ref())))
            .map_err(|e| invalid(path, Some(e.key()), e.to_string()))?;
    }
    let head = Head::from_layers(kind, activation, layers)
        .map_err(|e| invalid(path, Some(e.key()), e.to_string()))?;
    Ok((UeHead { head, spec }, meta))
}
