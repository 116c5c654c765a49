//! The base model's copy of head layers that an adapter only carries LoRA factors for.
//!
//! When LoRA targets the head itself (rather than the head being in `modules_to_save`), the
//! adapter holds `lora_A`/`lora_B` but the base weight stays in the base model. If the
//! adapter's `base_model_name_or_path` is a local model directory, the base weights are read
//! from its `model.safetensors`, or from the shards that `model.safetensors.index.json` maps
//! the head keys to.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::error::LoadError;
use super::head_keys::{parse_key, KeyIndex, Precedence, Role};
use super::json_file::read_json;
use super::safetensors_file::SafetensorsFile;

/// Single-file weights of a Hugging Face model directory.
const WEIGHTS: &str = "model.safetensors";
/// Shard index of a Hugging Face model directory.
const INDEX: &str = "model.safetensors.index.json";

/// The opened base-model files that hold head tensors.
#[derive(Debug)]
pub(crate) struct BaseModel {
    files: Vec<(SafetensorsFile, KeyIndex)>,
}

impl BaseModel {
    /// Finds `name` as a local directory (as given, then relative to `adapter_dir`) and opens
    /// the files holding any of `modules`. `Ok(None)` when no such directory exists.
    pub fn locate(
        name: &str,
        adapter_dir: &Path,
        modules: &[&str],
    ) -> Result<Option<Self>, LoadError> {
        let Some(dir) = [PathBuf::from(name), adapter_dir.join(name)]
            .into_iter()
            .find(|d| d.join(WEIGHTS).is_file() || d.join(INDEX).is_file())
        else {
            return Ok(None);
        };
        let paths = if dir.join(WEIGHTS).is_file() {
            vec![dir.join(WEIGHTS)]
        } else {
            shards_holding(&dir.join(INDEX), modules)?
                .into_iter()
                .map(|f| dir.join(f))
                .collect()
        };
        let files = paths
            .iter()
            .map(|p| {
                let f = SafetensorsFile::open(p)?;
                let idx = KeyIndex::build(f.names());
                Ok((f, idx))
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        Ok(Some(BaseModel { files }))
    }

    /// The file and key holding `module`'s `role` (highest precedence, first file).
    pub fn find(
        &self,
        module: &str,
        role: Role,
    ) -> Result<Option<(&SafetensorsFile, Precedence, String)>, LoadError> {
        for (f, idx) in &self.files {
            if let Some((p, k)) = idx.pick(f.path(), module, role, None)? {
                return Ok(Some((f, p, k.to_string())));
            }
        }
        Ok(None)
    }
}

/// Shard file names that the index maps a weight or bias of `modules` to.
fn shards_holding(index: &Path, modules: &[&str]) -> Result<BTreeSet<String>, LoadError> {
    let v = read_json(index)?;
    let map = v
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| LoadError::ConfigField {
            path: index.to_path_buf(),
            field: "weight_map".to_string(),
            reason: "expected an object mapping tensor names to shard files".to_string(),
        })?;
    let mut out = BTreeSet::new();
    for (key, file) in map {
        let wanted = parse_key(key).is_some_and(|p| {
            modules.contains(&p.module.as_str()) && matches!(p.role, Role::Weight | Role::Bias)
        });
        if wanted {
            let f = file.as_str().ok_or_else(|| LoadError::ConfigField {
                path: index.to_path_buf(),
                field: format!("weight_map.{key}"),
                reason: "expected a shard file name".to_string(),
            })?;
            // Shards live beside the index; a path elsewhere is not a shard name.
            if Path::new(f).components().count() != 1 {
                return Err(LoadError::ConfigField {
                    path: index.to_path_buf(),
                    field: format!("weight_map.{key}"),
                    reason: format!("`{f}` is not a file name in the model directory"),
                });
            }
            out.insert(f.to_string());
        }
    }
    Ok(out)
}
