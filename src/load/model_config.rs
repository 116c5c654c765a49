//! The fields of a Hugging Face `config.json` that help read the head.

use std::path::{Path, PathBuf};

use super::error::LoadError;
use super::json_file::read_json;

/// File name of a Hugging Face model configuration.
pub const MODEL_CONFIG: &str = "config.json";

/// A model's `config.json`, reduced to what the head reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelConfig {
    /// The file.
    pub path: PathBuf,
    /// `model_type`, e.g. `roberta`, `electra`, `llama`.
    pub model_type: Option<String>,
    /// `_name_or_path`, the model it was saved from.
    pub name_or_path: Option<String>,
}

impl ModelConfig {
    /// Reads `path`; fields of the wrong type are errors, absent ones are `None`.
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        let v = read_json(path)?;
        let string = |k: &str| -> Result<Option<String>, LoadError> {
            match v.get(k) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(LoadError::ConfigField {
                    path: path.to_path_buf(),
                    field: k.to_string(),
                    reason: "expected a string".to_string(),
                }),
            }
        };
        if !v.is_object() {
            return Err(LoadError::ConfigField {
                path: path.to_path_buf(),
                field: "(top level)".to_string(),
                reason: "expected a JSON object".to_string(),
            });
        }
        Ok(ModelConfig {
            path: path.to_path_buf(),
            model_type: string("model_type")?,
            name_or_path: string("_name_or_path")?,
        })
    }
}
