//! Feature sets (CONTRACT §1): cached hidden states, gold labels and optionally the
//! fine-tuned model's own logits, from one safetensors file or a directory of `.npy` files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, Axis, Zip};

use super::digest::{sha256_file, sha256_manifest, InputFile};
use super::error::LoadError;
use super::json_file::read_json;
use super::npy::NpyFile;
use super::safetensors_file::SafetensorsFile;
use super::tensor_view::{check_finite, TensorView};
use crate::head::Head;

/// Tensor names of a feature set.
pub const FEATURES: &str = "features";
/// See [`FEATURES`].
pub const LABELS: &str = "labels";
/// See [`FEATURES`].
pub const LOGITS: &str = "logits";
/// Metadata key holding the class names as a JSON list of strings.
pub const LABEL_NAMES: &str = "label_names";
/// Optional metadata file in a `.npy` directory: a JSON object of strings.
pub const NPY_METADATA_FILE: &str = "metadata.json";

/// One split of cached features, validated: finite, row counts agree, labels are class indices.
#[derive(Debug, Clone)]
pub struct FeatureSet {
    /// The file or directory as given.
    pub path: PathBuf,
    /// SHA-256 of the file; for a directory, of the `sha256sum`-style listing of its files
    /// (see [`sha256_manifest`]).
    pub sha256: String,
    /// Every file read, with its own digest.
    pub files: Vec<InputFile>,
    /// `[N, D]` hidden states.
    pub features: Array2<f32>,
    /// `[N]` gold class indices.
    pub labels: Array1<usize>,
    /// `[N, C]` logits of the fine-tuned model, when stored.
    pub logits: Option<Array2<f32>>,
    /// `__metadata__` (or `metadata.json`) string map.
    pub metadata: BTreeMap<String, String>,
}

impl FeatureSet {
    /// Number of rows `N`.
    pub fn rows(&self) -> usize {
        self.features.nrows()
    }

    /// Feature width `D`.
    pub fn dim(&self) -> usize {
        self.features.ncols()
    }

    /// Class names from the `label_names` metadata key (validated at read time).
    pub fn label_names(&self) -> Option<Vec<String>> {
        self.metadata
            .get(LABEL_NAMES)
            .and_then(|s| serde_json::from_str(s).ok())
    }

    /// Checks that the features fit `head`: width `D` equals the head's input width, every
    /// label is below its class count `C`, stored logits and label names have `C` columns.
    pub fn check_against(&self, head: &Head) -> Result<(), LoadError> {
        let mismatch = |tensor: &str, what: &str, expected: usize, got: usize| {
            Err(LoadError::HeadMismatch {
                path: self.path.clone(),
                tensor: tensor.to_string(),
                what: what.to_string(),
                expected,
                got,
            })
        };
        if self.dim() != head.input_dim() {
            return mismatch(FEATURES, "feature width D", head.input_dim(), self.dim());
        }
        let c = head.num_classes();
        if let Some(logits) = &self.logits {
            if logits.ncols() != c {
                return mismatch(LOGITS, "number of classes C", c, logits.ncols());
            }
        }
        if let Some(names) = self.label_names() {
            if names.len() != c {
                return Err(LoadError::Metadata {
                    path: self.path.clone(),
                    key: LABEL_NAMES.to_string(),
                    reason: format!("{} names but the head has {c} classes", names.len()),
                });
            }
        }
        check_labels_below(&self.path, &self.labels, c, "the head's")
    }

    /// The stored logits if present, else the head's logits on the features; an error when
    /// there are no stored logits and the feature width is not the head's input width.
    pub fn reference_logits(&self, head: &Head) -> Result<Array2<f32>, LoadError> {
        match &self.logits {
            Some(l) => Ok(l.clone()),
            None => self.head_logits(head),
        }
    }

    /// `max |head(features) − stored logits|`; `None` without stored logits, or when the
    /// features or logits do not fit the head (see [`FeatureSet::check_against`]).
    pub fn logits_max_abs_diff(&self, head: &Head) -> Option<f32> {
        let stored = self.logits.as_ref()?;
        let ours = self.head_logits(head).ok()?;
        if ours.dim() != stored.dim() {
            return None;
        }
        Some(
            Zip::from(&ours)
                .and(stored)
                .fold(0.0f32, |m, &a, &b| m.max((a - b).abs())),
        )
    }

    /// `head(features)`, after checking the widths agree (a mismatch would not multiply).
    fn head_logits(&self, head: &Head) -> Result<Array2<f32>, LoadError> {
        if self.dim() != head.input_dim() {
            return Err(LoadError::HeadMismatch {
                path: self.path.clone(),
                tensor: FEATURES.to_string(),
                what: "feature width D".to_string(),
                expected: head.input_dim(),
                got: self.dim(),
            });
        }
        // Block by block, so that a dense head's hidden layer is `[LOGIT_BLOCK_ROWS, H]`
        // rather than a second `[N, H]` array beside the features. Rows of a matrix product
        // do not depend on each other, so the logits are the same as in one call.
        let mut out = Array2::zeros((self.rows(), head.num_classes()));
        for (mut o, x) in out
            .axis_chunks_iter_mut(Axis(0), LOGIT_BLOCK_ROWS)
            .zip(self.features.axis_chunks_iter(Axis(0), LOGIT_BLOCK_ROWS))
        {
            o.assign(&head.logits(x));
        }
        Ok(out)
    }
}

/// Rows per block when [`FeatureSet`] computes the head's logits.
const LOGIT_BLOCK_ROWS: usize = 4096;

/// Reads a feature set: a `.safetensors` file, or a directory holding `features.npy`,
/// `labels.npy`, optionally `logits.npy` and `metadata.json`.
pub fn read_features(path: &Path) -> Result<FeatureSet, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::io(path, e))?;
    if meta.is_dir() {
        read_npy_dir(path)
    } else {
        read_safetensors(path)
    }
}

fn read_safetensors(path: &Path) -> Result<FeatureSet, LoadError> {
    let file = SafetensorsFile::open(path)?;
    features_from_safetensors(&file, || sha256_file(path))
}

/// The feature set stored in an open safetensors `file` (what [`read_features`] does with a
/// `.safetensors` path); `sha256` gives the file's digest, asked for once the tensors are found.
pub fn features_from_safetensors(
    file: &SafetensorsFile,
    sha256: impl FnOnce() -> Result<String, LoadError>,
) -> Result<FeatureSet, LoadError> {
    let path = file.path();
    let features = file.require(FEATURES)?;
    let labels = file.require(LABELS)?;
    let logits = file.get(LOGITS);
    let sha256 = sha256()?;
    let files = vec![InputFile {
        path: path.to_path_buf(),
        sha256: sha256.clone(),
    }];
    let parts = Parts::decode(features, labels, logits, &|b| file.release(b))?;
    parts.into_set(path, sha256, files, file.metadata().clone())
}

fn read_npy_dir(dir: &Path) -> Result<FeatureSet, LoadError> {
    let npy = |name: &str| dir.join(format!("{name}.npy"));
    let required = |name: &str| -> Result<NpyFile, LoadError> {
        let p = npy(name);
        if p.exists() {
            NpyFile::open(&p)
        } else {
            Err(LoadError::MissingFile {
                path: p,
                what: format!("`{name}.npy`"),
                hint: format!(
                    "; a feature directory holds {FEATURES}.npy, {LABELS}.npy and optionally {LOGITS}.npy"
                ),
            })
        }
    };
    let f = required(FEATURES)?;
    let l = required(LABELS)?;
    let g = if npy(LOGITS).exists() {
        Some(NpyFile::open(&npy(LOGITS))?)
    } else {
        None
    };
    let meta_path = dir.join(NPY_METADATA_FILE);
    let metadata = if meta_path.exists() {
        read_string_map(&meta_path)?
    } else {
        BTreeMap::new()
    };
    let mut paths: Vec<PathBuf> = [FEATURES, LABELS, LOGITS]
        .iter()
        .map(|n| npy(n))
        .chain(std::iter::once(meta_path))
        .filter(|p| p.exists())
        .collect();
    paths.sort();
    let files = paths
        .iter()
        .map(|p| InputFile::digest(p))
        .collect::<Result<Vec<_>, _>>()?;
    let sha256 = sha256_manifest(&files);
    let parts = Parts::decode(f.view(), l.view(), g.as_ref().map(NpyFile::view), &|b| {
        f.release(b)
    })?;
    parts.into_set(dir, sha256, files, metadata)
}

fn read_string_map(path: &Path) -> Result<BTreeMap<String, String>, LoadError> {
    let value = read_json(path)?;
    let bad = |reason: String| LoadError::Metadata {
        path: path.to_path_buf(),
        key: NPY_METADATA_FILE.to_string(),
        reason,
    };
    let obj = value
        .as_object()
        .ok_or_else(|| bad("expected a JSON object of strings".to_string()))?;
    obj.iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k.clone(), s.clone())),
            // A list such as `label_names` may be given as JSON rather than a JSON string.
            serde_json::Value::Array(_) => Ok((k.clone(), v.to_string())),
            _ => Err(bad(format!("key `{k}` is not a string"))),
        })
        .collect()
}

/// The decoded, individually validated tensors; `into_set` checks them together.
struct Parts {
    features: Array2<f32>,
    labels: Vec<i64>,
    logits: Option<Array2<f32>>,
    /// Each tensor's file, for errors (they differ in a `.npy` directory).
    labels_path: PathBuf,
    logits_path: Option<PathBuf>,
}

impl Parts {
    /// `release_features` drops the mapped pages of the features as they are decoded (see
    /// [`TensorView::to_f32_matrix_releasing`]): they are the one tensor as large as the file.
    fn decode(
        features: TensorView<'_>,
        labels: TensorView<'_>,
        logits: Option<TensorView<'_>>,
        release_features: &dyn Fn(&[u8]),
    ) -> Result<Self, LoadError> {
        let f =
            features.to_f32_matrix_releasing("[N, D] with N ≥ 1 and D ≥ 1", release_features)?;
        if f.is_empty() {
            return Err(LoadError::Shape {
                path: features.path.to_path_buf(),
                tensor: FEATURES.to_string(),
                expected: "[N, D] with N ≥ 1 and D ≥ 1".to_string(),
                got: features.shape.to_vec(),
            });
        }
        check_finite(features.path, FEATURES, &f)?;
        let l = labels.to_i64_vector("[N]")?;
        let g = match &logits {
            Some(v) => {
                let g = v.to_f32_matrix("[N, C] with C ≥ 1")?;
                if g.ncols() == 0 {
                    return Err(LoadError::Shape {
                        path: v.path.to_path_buf(),
                        tensor: LOGITS.to_string(),
                        expected: "[N, C] with C ≥ 1".to_string(),
                        got: v.shape.to_vec(),
                    });
                }
                check_finite(v.path, LOGITS, &g)?;
                Some(g)
            }
            None => None,
        };
        Ok(Parts {
            features: f,
            labels: l,
            logits: g,
            labels_path: labels.path.to_path_buf(),
            logits_path: logits.map(|v| v.path.to_path_buf()),
        })
    }

    fn into_set(
        self,
        path: &Path,
        sha256: String,
        files: Vec<InputFile>,
        metadata: BTreeMap<String, String>,
    ) -> Result<FeatureSet, LoadError> {
        let n = self.features.nrows();
        if self.labels.len() != n {
            return Err(LoadError::Rows {
                path: self.labels_path,
                tensor: LABELS.to_string(),
                expected: n,
                got: self.labels.len(),
            });
        }
        if let (Some(g), Some(p)) = (&self.logits, &self.logits_path) {
            if g.nrows() != n {
                return Err(LoadError::Rows {
                    path: p.clone(),
                    tensor: LOGITS.to_string(),
                    expected: n,
                    got: g.nrows(),
                });
            }
        }
        let labels = to_class_indices(&self.labels_path, &self.labels)?;
        if let Some(g) = &self.logits {
            check_labels_below(&self.labels_path, &labels, g.ncols(), "the logits'")?;
        }
        if let Some(raw) = metadata.get(LABEL_NAMES) {
            check_label_names(path, raw, self.logits.as_ref().map(|g| g.ncols()))?;
        }
        Ok(FeatureSet {
            path: path.to_path_buf(),
            sha256,
            files,
            features: self.features,
            labels,
            logits: self.logits,
            metadata,
        })
    }
}

fn to_class_indices(path: &Path, labels: &[i64]) -> Result<Array1<usize>, LoadError> {
    labels
        .iter()
        .enumerate()
        .map(|(row, &v)| {
            usize::try_from(v).map_err(|_| LoadError::Label {
                path: path.to_path_buf(),
                tensor: LABELS.to_string(),
                row,
                value: v,
                expected: "a non-negative class index".to_string(),
            })
        })
        .collect()
}

/// Errors on the first label `≥ c`; `whose` says whose class count `c` is.
fn check_labels_below(
    path: &Path,
    labels: &Array1<usize>,
    c: usize,
    whose: &str,
) -> Result<(), LoadError> {
    match labels.iter().enumerate().find(|(_, &v)| v >= c) {
        Some((row, &v)) => Err(LoadError::Label {
            path: path.to_path_buf(),
            tensor: LABELS.to_string(),
            row,
            value: i64::try_from(v).unwrap_or(i64::MAX),
            expected: format!("a class index in 0..{c} ({whose} number of classes)"),
        }),
        None => Ok(()),
    }
}

fn check_label_names(path: &Path, raw: &str, classes: Option<usize>) -> Result<(), LoadError> {
    let bad = |reason: String| LoadError::Metadata {
        path: path.to_path_buf(),
        key: LABEL_NAMES.to_string(),
        reason,
    };
    let names: Vec<String> = serde_json::from_str(raw)
        .map_err(|e| bad(format!("expected a JSON list of strings: {e}")))?;
    match classes {
        Some(c) if c != names.len() => {
            Err(bad(format!("{} names for {c} logit columns", names.len())))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::Activation;

    #[test]
    fn blocked_head_logits_equal_one_product() {
        // Three blocks, the last of one row; a dense head, whose hidden layer is blocked.
        let (n, d, h, c) = (2 * LOGIT_BLOCK_ROWS + 1, 24, 16, 3);
        let f =
            |i: usize, j: usize, k: usize| ((i * 7919 + j * 104_729) % k) as f32 / k as f32 - 0.5;
        let head = Head::Dense {
            dense_weight: Array2::from_shape_fn((h, d), |(i, j)| f(i, j, 97)),
            dense_bias: Array1::from_shape_fn(h, |i| f(i, 3, 13)),
            out_weight: Array2::from_shape_fn((c, h), |(i, j)| f(i, j, 31)),
            out_bias: Array1::from_shape_fn(c, |i| f(i, 5, 7)),
            activation: Activation::Tanh,
        };
        let fs = FeatureSet {
            path: PathBuf::from("x.safetensors"),
            sha256: String::new(),
            files: Vec::new(),
            features: Array2::from_shape_fn((n, d), |(i, j)| f(i, j, 1009) * 3.0),
            labels: Array1::zeros(n),
            logits: None,
            metadata: BTreeMap::new(),
        };
        let blocked = fs.reference_logits(&head).unwrap();
        assert_eq!(blocked, head.logits(fs.features.view()));
    }
}
