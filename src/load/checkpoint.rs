//! Reading the classification head out of a checkpoint (CONTRACT §2).
//!
//! A checkpoint is a PEFT adapter directory (`adapter_config.json` +
//! `adapter_model.safetensors`), a model directory (`model.safetensors`, optionally
//! `config.json`), or a bare `.safetensors` file (a full model, one shard of it, or an
//! adapter file). The head is found by key ([`super::head_keys`]), converted to f32, checked
//! for consistent shapes, and LoRA factors on it are merged ([`super::lora`]). When an adapter
//! carries LoRA factors for a head layer but not its base weight, the base weight is read from
//! the local base model that `base_model_name_or_path` names ([`super::base_model`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

use super::activation_source::{resolve, ActivationSource};
use super::adapter_config::{AdapterConfig, ADAPTER_CONFIG};
use super::base_model::BaseModel;
use super::digest::InputFile;
use super::error::{sample_list, LoadError};
use super::head_keys::{HeadLayout, KeyIndex, Precedence, Role, PEFT_PREFIX};
use super::lora::{lora_scaling, merge_into, LoraMerge, LoraModuleMerge};
use super::model_config::{ModelConfig, MODEL_CONFIG};
use super::safetensors_file::SafetensorsFile;
use super::tensor_view::check_finite;
use crate::head::{Activation, Head};

/// Weights file of a PEFT adapter directory.
pub const ADAPTER_WEIGHTS: &str = "adapter_model.safetensors";
/// Weights file of a (single-file) Hugging Face model directory.
pub const MODEL_WEIGHTS: &str = "model.safetensors";

/// A classification head read from a checkpoint, with where every part came from.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The checkpoint as given (directory or file).
    pub path: PathBuf,
    /// Every file read (weights, adapter config, model config), with digests.
    pub files: Vec<InputFile>,
    /// The head in f32, LoRA merged.
    pub head: Head,
    /// `base_model.model.` when the head keys carry PEFT's prefix, else empty.
    pub head_prefix: String,
    /// The tensor keys the head was built from, in reading order.
    pub head_keys: Vec<String>,
    /// Stored dtype(s) of those tensors, e.g. `F32` or `BF16` (`/`-joined when mixed).
    pub head_dtype: String,
    /// The LoRA factors merged into the head, if it carried any.
    pub lora_merged: Option<LoraMerge>,
    /// The base model, from `adapter_config.json` or `config.json`.
    pub base_model: Option<String>,
    /// Where a dense head's activation came from; `None` for a linear head.
    pub activation_source: Option<ActivationSource>,
    /// The adapter configuration, when there is one.
    pub adapter_config: Option<AdapterConfig>,
}

/// Reads the head of the checkpoint at `path`. `activation` overrides the activation of a
/// dense head (it is ignored for a linear head, which has none).
pub fn read_checkpoint(
    path: &Path,
    activation: Option<Activation>,
) -> Result<Checkpoint, LoadError> {
    let layout = Layout::detect(path)?;
    let adapter_config = layout
        .adapter_config
        .as_deref()
        .map(AdapterConfig::read)
        .transpose()?;
    let model_config = layout
        .model_config
        .as_deref()
        .map(ModelConfig::read)
        .transpose()?;
    let file = SafetensorsFile::open(&layout.weights)?;
    let index = KeyIndex::build(file.names());
    let head_layout = index.layout(file.path(), file.len(), file.names())?;
    let base = locate_base(&file, &index, head_layout, adapter_config.as_ref())?;
    let mut reader = LayerReader {
        file: &file,
        index: &index,
        base: base.as_ref(),
        files: Vec::new(),
        config: adapter_config.as_ref(),
        layout: head_layout,
        keys: Vec::new(),
        dtypes: BTreeSet::new(),
        merges: Vec::new(),
    };
    let (head, activation_source) = match head_layout {
        HeadLayout::Dense => {
            let dense = reader.layer("classifier.dense", true)?;
            let out = reader.layer("classifier.out_proj", true)?;
            check_dense_shapes(&dense, &out)?;
            let (act, src) = resolve(
                activation,
                model_config
                    .as_ref()
                    .and_then(|m| Some((m.path.as_path(), m.model_type.as_deref()?))),
                adapter_config
                    .as_ref()
                    .and_then(|c| c.base_model_name_or_path.as_deref()),
                file.names(),
            );
            let head = Head::Dense {
                dense_weight: dense.weight,
                // `layer(.., true)` returns a bias or an error.
                dense_bias: dense.bias.unwrap_or_default(),
                activation: act,
                out_weight: out.weight,
                out_bias: out.bias.unwrap_or_default(),
            };
            (head, Some(src))
        }
        HeadLayout::Score | HeadLayout::Classifier => {
            let module = head_layout.modules()[0];
            let l = reader.layer(module, false)?;
            check_classes(&l)?;
            let head = Head::Linear {
                weight: l.weight,
                bias: l.bias,
            };
            (head, None)
        }
    };
    let head_prefix = if reader.keys.iter().all(|k| k.starts_with(PEFT_PREFIX)) {
        PEFT_PREFIX.to_string()
    } else {
        String::new()
    };
    let used_files = reader.files;
    let head_keys = reader.keys;
    let head_dtype = reader.dtypes.into_iter().collect::<Vec<_>>().join("/");
    let lora_merged = (!reader.merges.is_empty()).then_some(LoraMerge {
        modules: reader.merges,
    });
    let mut paths = layout.files();
    paths.extend(used_files.iter().map(PathBuf::as_path));
    paths.dedup();
    let files = paths
        .into_iter()
        .map(InputFile::digest)
        .collect::<Result<Vec<_>, _>>()?;
    let base_model = adapter_config
        .as_ref()
        .and_then(|c| c.base_model_name_or_path.clone())
        .or_else(|| model_config.as_ref().and_then(|m| m.name_or_path.clone()));
    Ok(Checkpoint {
        path: path.to_path_buf(),
        files,
        head,
        head_prefix,
        head_keys,
        head_dtype,
        lora_merged,
        base_model,
        activation_source,
        adapter_config,
    })
}

/// Which files make up the checkpoint.
struct Layout {
    weights: PathBuf,
    adapter_config: Option<PathBuf>,
    model_config: Option<PathBuf>,
}

impl Layout {
    fn detect(path: &Path) -> Result<Self, LoadError> {
        let meta = std::fs::metadata(path).map_err(|e| LoadError::io(path, e))?;
        let existing = |p: PathBuf| p.is_file().then_some(p);
        if meta.is_dir() {
            let model_config = existing(path.join(MODEL_CONFIG));
            if let Some(cfg) = existing(path.join(ADAPTER_CONFIG)) {
                let weights = path.join(ADAPTER_WEIGHTS);
                if !weights.is_file() {
                    let hint = if path.join("adapter_model.bin").is_file() {
                        "; only safetensors adapters are read (the directory has adapter_model.bin: \
                         re-save with `save_pretrained(..., safe_serialization=True)`)"
                    } else {
                        ""
                    };
                    return Err(LoadError::MissingFile {
                        path: weights,
                        what: format!("`{ADAPTER_WEIGHTS}` (the adapter weights)"),
                        hint: hint.to_string(),
                    });
                }
                return Ok(Layout {
                    weights,
                    adapter_config: Some(cfg),
                    model_config,
                });
            }
            if let Some(weights) = existing(path.join(MODEL_WEIGHTS)) {
                return Ok(Layout {
                    weights,
                    adapter_config: None,
                    model_config,
                });
            }
            return Err(LoadError::MissingFile {
                path: path.join(ADAPTER_CONFIG),
                what: format!("`{ADAPTER_CONFIG}`"),
                hint: format!(
                    "; a checkpoint directory is a PEFT adapter ({ADAPTER_CONFIG} + {ADAPTER_WEIGHTS}) \
                     or a model ({MODEL_WEIGHTS}); for a sharded model pass the .safetensors shard \
                     that holds the head"
                ),
            });
        }
        let dir = path.parent().unwrap_or(Path::new(""));
        let is_adapter_file = path.file_name().is_some_and(|n| n == ADAPTER_WEIGHTS);
        Ok(Layout {
            weights: path.to_path_buf(),
            adapter_config: if is_adapter_file {
                existing(dir.join(ADAPTER_CONFIG))
            } else {
                None
            },
            model_config: existing(dir.join(MODEL_CONFIG)),
        })
    }

    fn files(&self) -> Vec<&Path> {
        let mut v = vec![self.weights.as_path()];
        v.extend(self.adapter_config.as_deref());
        v.extend(self.model_config.as_deref());
        v
    }
}

/// One linear layer of the head.
struct Layer {
    /// The file the base weight came from (the checkpoint, or the base model).
    source: PathBuf,
    weight_key: String,
    weight: Array2<f32>,
    bias: Option<Array1<f32>>,
}

/// Reads head layers, recording the keys, dtypes and LoRA merges it used.
struct LayerReader<'a> {
    file: &'a SafetensorsFile,
    index: &'a KeyIndex,
    /// Where base weights missing from `file` are read, if found.
    base: Option<&'a BaseModel>,
    /// Base-model files read (beyond the checkpoint's own).
    files: Vec<PathBuf>,
    config: Option<&'a AdapterConfig>,
    layout: HeadLayout,
    keys: Vec<String>,
    dtypes: BTreeSet<String>,
    merges: Vec<LoraModuleMerge>,
}

impl<'a> LayerReader<'a> {
    fn path(&self) -> &Path {
        self.file.path()
    }

    fn matrix(
        &mut self,
        file: &SafetensorsFile,
        key: &str,
        expected: &str,
    ) -> Result<Array2<f32>, LoadError> {
        let v = file.require(key)?;
        let m = v.to_f32_matrix(expected)?;
        check_finite(file.path(), key, &m)?;
        self.keys.push(key.to_string());
        self.dtypes.insert(v.dtype.name().to_string());
        Ok(m)
    }

    fn vector(
        &mut self,
        file: &SafetensorsFile,
        key: &str,
        len: usize,
    ) -> Result<Array1<f32>, LoadError> {
        let v = file.require(key)?;
        let expected = format!("[{len}]");
        let x = v.to_f32_vector(&expected)?;
        if x.len() != len {
            return Err(LoadError::Shape {
                path: file.path().to_path_buf(),
                tensor: key.to_string(),
                expected,
                got: v.shape.to_vec(),
            });
        }
        if let Some((i, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(LoadError::NonFinite {
                path: file.path().to_path_buf(),
                tensor: key.to_string(),
                row: i,
                col: 0,
                value,
            });
        }
        self.keys.push(key.to_string());
        self.dtypes.insert(v.dtype.name().to_string());
        Ok(x)
    }

    fn pick(
        &self,
        module: &str,
        role: Role,
        at: Option<Precedence>,
    ) -> Result<Option<(Precedence, String)>, LoadError> {
        Ok(self
            .index
            .pick(self.path(), module, role, at)?
            .map(|(p, k)| (p, k.to_string())))
    }

    fn found(&self) -> String {
        let keys: Vec<&str> = self
            .layout
            .modules()
            .iter()
            .flat_map(|m| self.index.keys_of(m))
            .collect();
        sample_list(keys, 8)
    }

    /// Reads `module`'s weight (and bias; required when `needs_bias`) and merges its LoRA.
    fn layer(&mut self, module: &str, needs_bias: bool) -> Result<Layer, LoadError> {
        let kind = if self.layout == HeadLayout::Dense {
            "dense"
        } else {
            "linear"
        };
        // The base weight: in the checkpoint, else in the base model (LoRA-only head). LoRA
        // factors then come from the checkpoint copy of the same precedence, or the best one.
        let base = self.base;
        let (src, prec, wkey) = match self.pick(module, Role::Weight, None)? {
            Some((p, k)) => (self.file, Some(p), k),
            None => match base
                .map(|b| b.find(module, Role::Weight))
                .transpose()?
                .flatten()
            {
                Some((f, _, k)) => (f, None, k),
                None => return Err(self.missing_weight(module, kind)?),
            },
        };
        let mut weight = self.matrix(src, &wkey, "[out, in]")?;
        if weight.is_empty() {
            return Err(shape_err(
                src.path(),
                &wkey,
                "[out, in] with out ≥ 1 and in ≥ 1".to_string(),
                weight.shape(),
            ));
        }
        let bias_key = match prec {
            Some(p) => self.pick(module, Role::Bias, Some(p))?.map(|(_, k)| k),
            None => base
                .map(|b| b.find(module, Role::Bias))
                .transpose()?
                .flatten()
                .map(|(_, _, k)| k),
        };
        let mut bias = match bias_key {
            Some(bkey) => Some(self.vector(src, &bkey, weight.nrows())?),
            None if needs_bias => {
                return Err(LoadError::IncompleteHead {
                    path: src.path().to_path_buf(),
                    kind: kind.to_string(),
                    missing: format!("{module}.bias"),
                    found: self.found(),
                })
            }
            None => None,
        };
        if src.path() != self.file.path() && !self.files.iter().any(|f| f == src.path()) {
            self.files.push(src.path().to_path_buf());
        }
        self.merge_lora(module, prec, &mut weight, &mut bias)?;
        Ok(Layer {
            source: src.path().to_path_buf(),
            weight_key: wkey,
            weight,
            bias,
        })
    }

    /// The error for a head layer without a base weight anywhere.
    fn missing_weight(&self, module: &str, kind: &str) -> Result<LoadError, LoadError> {
        let lora = match self.pick(module, Role::LoraA, None)? {
            Some(k) => Some(k),
            None => self.pick(module, Role::LoraB, None)?,
        };
        Ok(match lora {
            Some((_, lora_key)) => {
                let base = self
                    .config
                    .and_then(|c| c.base_model_name_or_path.as_deref());
                LoadError::BaseWeightMissing {
                    path: self.path().to_path_buf(),
                    module: module.to_string(),
                    lora_key,
                    note: match (base, self.base) {
                        (None, _) => "the adapter config names no base model".to_string(),
                        (Some(b), None) => format!(
                            "its base_model_name_or_path `{b}` is not a local model directory \
                             (model.safetensors or model.safetensors.index.json)"
                        ),
                        (Some(b), Some(_)) => format!("the base model `{b}` lacks it too"),
                    },
                }
            }
            None => LoadError::IncompleteHead {
                path: self.path().to_path_buf(),
                kind: kind.to_string(),
                missing: format!("{module}.weight"),
                found: self.found(),
            },
        })
    }

    fn merge_lora(
        &mut self,
        module: &str,
        prec: Option<Precedence>,
        weight: &mut Array2<f32>,
        bias: &mut Option<Array1<f32>>,
    ) -> Result<(), LoadError> {
        let a = self.pick(module, Role::LoraA, prec)?;
        let b = self.pick(module, Role::LoraB, prec)?;
        let bb = self.pick(module, Role::LoraBBias, prec)?;
        let err = |reason: String| LoadError::Lora {
            path: self.file.path().to_path_buf(),
            module: module.to_string(),
            reason,
        };
        let (akey, bkey) = match (a, b) {
            (Some((_, a)), Some((_, b))) => (a, b),
            (None, None) if bb.is_none() => return Ok(()),
            (Some((_, k)), None) | (None, Some((_, k))) => {
                return Err(err(format!(
                    "`{k}` has no partner factor (lora_A needs lora_B)"
                )))
            }
            (None, None) => return Err(err("a lora_B bias without lora_A / lora_B".to_string())),
        };
        let Some(config) = self.config else {
            return Err(err(format!(
                "LoRA factors (`{akey}`) cannot be merged without `{ADAPTER_CONFIG}` (it gives \
                 lora_alpha and r); put it beside `{ADAPTER_WEIGHTS}` or pass the adapter directory"
            )));
        };
        if config.use_dora {
            return Err(err(format!(
                "`{}` sets use_dora: DoRA heads are not supported; merge the adapter \
                 (`merge_and_unload()`) and pass the merged model",
                config.path.display()
            )));
        }
        let (out_dim, in_dim) = weight.dim();
        let a = self.matrix(self.file, &akey, &format!("[r, {in_dim}]"))?;
        let r = a.nrows();
        if r == 0 || a.ncols() != in_dim {
            return Err(shape_err(
                self.path(),
                &akey,
                format!("[r, {in_dim}] with r ≥ 1"),
                a.shape(),
            ));
        }
        let b = self.matrix(self.file, &bkey, &format!("[{out_dim}, {r}]"))?;
        if b.dim() != (out_dim, r) {
            return Err(shape_err(
                self.path(),
                &bkey,
                format!("[{out_dim}, {r}]"),
                b.shape(),
            ));
        }
        let b_bias = match &bb {
            Some((_, k)) => Some(self.vector(self.file, k, out_dim)?),
            None => None,
        };
        if let Some(cr) = config.rank_for(module)? {
            if cr != r {
                return Err(err(format!(
                    "`{akey}` has rank {r} but `{}` gives r = {cr} (rank_pattern / r)",
                    config.path.display()
                )));
            }
        }
        let alpha = config.alpha_for(module)?.ok_or_else(|| {
            err(format!(
                "`{}` has no lora_alpha to scale the factors with",
                config.path.display()
            ))
        })?;
        let scaling = lora_scaling(alpha, r, config.use_rslora);
        let max_abs_delta = merge_into(weight, bias, &a, &b, b_bias.as_ref(), scaling);
        self.merges.push(LoraModuleMerge {
            module: module.to_string(),
            lora_a: akey,
            lora_b: bkey,
            lora_b_bias: bb.map(|(_, k)| k),
            rank: r,
            alpha,
            rslora: config.use_rslora,
            scaling,
            max_abs_delta,
        });
        Ok(())
    }
}

fn shape_err(path: &Path, key: &str, expected: String, got: &[usize]) -> LoadError {
    LoadError::Shape {
        path: path.to_path_buf(),
        tensor: key.to_string(),
        expected,
        got: got.to_vec(),
    }
}

/// A classification head needs at least two classes (softmax over one class is constant).
fn check_classes(out: &Layer) -> Result<(), LoadError> {
    if out.weight.nrows() < 2 {
        return Err(shape_err(
            &out.source,
            &out.weight_key,
            "[C, in] with C ≥ 2 classes".to_string(),
            out.weight.shape(),
        ));
    }
    Ok(())
}

/// `out_proj` must consume the `H` outputs of `dense`.
fn check_dense_shapes(dense: &Layer, out: &Layer) -> Result<(), LoadError> {
    let h = dense.weight.nrows();
    if out.weight.ncols() != h {
        return Err(shape_err(
            &out.source,
            &out.weight_key,
            format!(
                "[C, {h}] (out_proj takes the {h} outputs of `{}`)",
                dense.weight_key
            ),
            out.weight.shape(),
        ));
    }
    check_classes(out)
}

/// The base model, when the head carries LoRA factors but the checkpoint lacks a base weight
/// and the adapter names a local base model.
fn locate_base(
    file: &SafetensorsFile,
    index: &KeyIndex,
    layout: HeadLayout,
    config: Option<&AdapterConfig>,
) -> Result<Option<BaseModel>, LoadError> {
    let mut needed = Vec::new();
    for &m in layout.modules() {
        let has = |role| index.pick(file.path(), m, role, None).map(|k| k.is_some());
        if !has(Role::Weight)? && (has(Role::LoraA)? || has(Role::LoraB)?) {
            needed.push(m);
        }
    }
    let name = config.and_then(|c| c.base_model_name_or_path.as_deref());
    let (Some(name), false) = (name, needed.is_empty()) else {
        return Ok(None);
    };
    let adapter_dir = file.path().parent().unwrap_or(Path::new(""));
    BaseModel::locate(name, adapter_dir, layout.modules())
}
