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

use super::activation_source::{resolve, ActivationSource};
use super::adapter_config::{AdapterConfig, ADAPTER_CONFIG};
use super::base_model::BaseModel;
use super::digest::InputFile;
use super::error::LoadError;
use super::head_keys::{CheckpointLayout, KeyIndex, Role, PEFT_PREFIX};
use super::layer_reader::{check_classes, check_dense_shapes, LayerReader};
use super::lora::LoraMerge;
use super::model_config::{ModelConfig, MODEL_CONFIG};
use super::safetensors_file::SafetensorsFile;
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
        CheckpointLayout::Dense => {
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
        CheckpointLayout::Score | CheckpointLayout::Classifier => {
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

/// The base model, when the head carries LoRA factors but the checkpoint lacks a base weight
/// and the adapter names a local base model.
fn locate_base(
    file: &SafetensorsFile,
    index: &KeyIndex,
    layout: CheckpointLayout,
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
