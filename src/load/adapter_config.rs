//! The fields of a PEFT `adapter_config.json` that matter for reading the head.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::LoadError;
use super::json_file::{parse_json, read_json};

/// File name of a PEFT adapter configuration.
pub const ADAPTER_CONFIG: &str = "adapter_config.json";

/// A PEFT adapter configuration, reduced to what the head reader uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdapterConfig {
    /// The file.
    pub path: PathBuf,
    /// `base_model_name_or_path`: the model the adapter was trained on.
    pub base_model_name_or_path: Option<String>,
    /// `peft_type`, e.g. `LORA`.
    pub peft_type: Option<String>,
    /// Default LoRA rank `r`.
    pub r: Option<usize>,
    /// Default `lora_alpha`.
    pub lora_alpha: Option<f64>,
    /// `use_rslora`: scaling `alpha / sqrt(r)` instead of `alpha / r`.
    pub use_rslora: bool,
    /// `use_dora`: weight-decomposed LoRA (not supported on the head).
    pub use_dora: bool,
    /// Per-module ranks, in file order: (module pattern, rank).
    pub rank_pattern: Vec<(String, usize)>,
    /// Per-module alphas, in file order: (module pattern, alpha).
    pub alpha_pattern: Vec<(String, f64)>,
    /// `modules_to_save`, duplicates removed (PEFT configs sometimes repeat entries).
    pub modules_to_save: Vec<String>,
}

impl AdapterConfig {
    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        Self::from_value(path, &read_json(path)?)
    }

    /// Parses and checks the contents of an `adapter_config.json`; `path` only names the
    /// file in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, LoadError> {
        Self::from_value(path, &parse_json(path, bytes)?)
    }

    /// Checks a parsed configuration; `path` is only used in errors.
    pub fn from_value(path: &Path, v: &Value) -> Result<Self, LoadError> {
        let bad = |field: &str, reason: &str| LoadError::ConfigField {
            path: path.to_path_buf(),
            field: field.to_string(),
            reason: reason.to_string(),
        };
        let Value::Object(obj) = v else {
            return Err(bad("(top level)", "expected a JSON object"));
        };
        // `null` counts as absent, as PEFT writes it.
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let string = |k: &str| -> Result<Option<String>, LoadError> {
            get(k)
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad(k, "expected a string"))
                })
                .transpose()
        };
        let flag = |k: &str| -> Result<bool, LoadError> {
            get(k).map_or(Ok(false), |v| {
                v.as_bool().ok_or_else(|| bad(k, "expected true or false"))
            })
        };
        let rank = |k: &str, v: &Value| -> Result<usize, LoadError> {
            v.as_u64()
                .and_then(|r| usize::try_from(r).ok())
                .filter(|&r| r > 0)
                .ok_or_else(|| bad(k, "expected a positive integer rank"))
        };
        let alpha = |k: &str, v: &Value| -> Result<f64, LoadError> {
            v.as_f64()
                .filter(|a| a.is_finite())
                .ok_or_else(|| bad(k, "expected a finite number"))
        };
        let pattern = |k: &str| -> Result<Option<&Map<String, Value>>, LoadError> {
            match get(k) {
                None => Ok(None),
                Some(Value::Object(m)) => Ok(Some(m)),
                Some(_) => Err(bad(k, "expected an object mapping module names to values")),
            }
        };
        let rank_pattern = pattern("rank_pattern")?
            .into_iter()
            .flatten()
            .map(|(m, v)| Ok((m.clone(), rank(&format!("rank_pattern.{m}"), v)?)))
            .collect::<Result<Vec<_>, LoadError>>()?;
        let alpha_pattern = pattern("alpha_pattern")?
            .into_iter()
            .flatten()
            .map(|(m, v)| Ok((m.clone(), alpha(&format!("alpha_pattern.{m}"), v)?)))
            .collect::<Result<Vec<_>, LoadError>>()?;
        let mut modules_to_save: Vec<String> = Vec::new();
        match get("modules_to_save") {
            None => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let s = item
                        .as_str()
                        .ok_or_else(|| bad("modules_to_save", "expected a list of strings"))?;
                    if !modules_to_save.iter().any(|m| m == s) {
                        modules_to_save.push(s.to_string());
                    }
                }
            }
            Some(_) => return Err(bad("modules_to_save", "expected a list of strings")),
        }
        Ok(AdapterConfig {
            path: path.to_path_buf(),
            base_model_name_or_path: string("base_model_name_or_path")?,
            peft_type: string("peft_type")?,
            r: get("r").map(|v| rank("r", v)).transpose()?,
            lora_alpha: get("lora_alpha")
                .map(|v| alpha("lora_alpha", v))
                .transpose()?,
            use_rslora: flag("use_rslora")?,
            use_dora: flag("use_dora")?,
            rank_pattern,
            alpha_pattern,
            modules_to_save,
        })
    }

    /// The rank configured for `module` (`rank_pattern`, else `r`).
    pub fn rank_for(&self, module: &str) -> Result<Option<usize>, LoadError> {
        Ok(self
            .pattern_value("rank_pattern", &self.rank_pattern, module)?
            .or(self.r))
    }

    /// The alpha configured for `module` (`alpha_pattern`, else `lora_alpha`).
    pub fn alpha_for(&self, module: &str) -> Result<Option<f64>, LoadError> {
        Ok(self
            .pattern_value("alpha_pattern", &self.alpha_pattern, module)?
            .or(self.lora_alpha))
    }

    /// PEFT's lookup: a key equal to the module name wins; otherwise the first key `k` such
    /// that the module name matches the regular expression `(.*\.)?(k)$`.
    fn pattern_value<T: Copy>(
        &self,
        field: &str,
        patterns: &[(String, T)],
        module: &str,
    ) -> Result<Option<T>, LoadError> {
        if let Some((_, v)) = patterns.iter().find(|(k, _)| k == module) {
            return Ok(Some(*v));
        }
        for (k, v) in patterns {
            let re =
                Regex::new(&format!("^(.*\\.)?({k})$")).map_err(|e| LoadError::ConfigField {
                    path: self.path.clone(),
                    field: format!("{field}.{k}"),
                    reason: format!("not a valid regular expression: {e}"),
                })?;
            if re.is_match(module) {
                return Ok(Some(*v));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> Result<AdapterConfig, LoadError> {
        AdapterConfig::from_value(Path::new("adapter_config.json"), &v)
    }

    #[test]
    fn reads_lora_fields_and_dedups_modules_to_save() {
        let c = cfg(json!({
            "base_model_name_or_path": "roberta-base", "peft_type": "LORA", "r": 8,
            "lora_alpha": 16, "use_rslora": true, "use_dora": null,
            "modules_to_save": ["classifier", "score", "classifier", "score"],
            "rank_pattern": {}, "alpha_pattern": null
        }))
        .unwrap();
        assert_eq!(c.modules_to_save, ["classifier", "score"]);
        assert_eq!(
            (c.r, c.lora_alpha, c.use_rslora, c.use_dora),
            (Some(8), Some(16.0), true, false)
        );
        assert_eq!(c.base_model_name_or_path.as_deref(), Some("roberta-base"));
    }

    #[test]
    fn patterns_follow_peft_matching() {
        let c = cfg(json!({
            "r": 8, "lora_alpha": 16,
            "rank_pattern": {"q_proj": 2, "score": 4},
            "alpha_pattern": {"layers\\.\\d+\\.q_proj": 1, "classifier.dense": 32}
        }))
        .unwrap();
        assert_eq!(c.rank_for("score").unwrap(), Some(4));
        assert_eq!(c.rank_for("model.layers.0.q_proj").unwrap(), Some(2));
        assert_eq!(c.rank_for("classifier.out_proj").unwrap(), Some(8));
        assert_eq!(c.alpha_for("classifier.dense").unwrap(), Some(32.0));
        assert_eq!(c.alpha_for("model.layers.3.q_proj").unwrap(), Some(1.0));
        // `score` must not match a module that merely ends in "score".
        assert_eq!(c.rank_for("prescore").unwrap(), Some(8));
    }

    #[test]
    fn bad_fields_are_named() {
        let e = cfg(json!({"r": "8"})).unwrap_err().to_string();
        assert!(
            e.contains("adapter_config.json") && e.contains("`r`"),
            "{e}"
        );
        let e = cfg(json!({"lora_alpha": [1]})).unwrap_err().to_string();
        assert!(e.contains("`lora_alpha`"), "{e}");
        let e = cfg(json!({"rank_pattern": {"score": 0}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`rank_pattern.score`"), "{e}");
        let e = cfg(json!({"modules_to_save": "classifier"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`modules_to_save`"), "{e}");
        let e = cfg(json!([1])).unwrap_err().to_string();
        assert!(e.contains("JSON object"), "{e}");
        let c = cfg(json!({"alpha_pattern": {"(": 1}})).unwrap();
        let e = c.alpha_for("score").unwrap_err().to_string();
        assert!(e.contains("alpha_pattern.("), "{e}");
    }
}
