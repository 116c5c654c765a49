//! Which non-linearity a dense head uses, and where that was learnt.
//!
//! The weights do not say: RoBERTa's head applies tanh, ELECTRA's applies (erf) GELU, with
//! identical keys. In order: `--activation`, the model's `config.json` `model_type`, the
//! adapter's `base_model_name_or_path`, an architecture name inside a tensor key, else tanh.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::head::Activation;

/// Where the activation of a dense head came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ActivationSource {
    /// `--activation` on the command line.
    Override,
    /// `model_type` in the model's `config.json`.
    ModelConfig {
        /// The `config.json`.
        path: PathBuf,
        /// Its `model_type`.
        model_type: String,
    },
    /// `base_model_name_or_path` in `adapter_config.json`.
    AdapterConfig {
        /// The base model's name or path.
        base_model: String,
    },
    /// A tensor key naming the architecture (e.g. `electra.embeddings...`).
    KeyName {
        /// The key.
        key: String,
    },
    /// Nothing said which: RoBERTa's tanh is assumed.
    Default,
}

/// The activation a model or architecture name implies: ELECTRA → GELU, RoBERTa-family → tanh.
pub fn activation_for_name(name: &str) -> Option<Activation> {
    let n = name.to_ascii_lowercase();
    if n.contains("electra") {
        Some(Activation::Gelu)
    } else if ["roberta", "camembert"].iter().any(|m| n.contains(m)) {
        Some(Activation::Tanh)
    } else {
        None
    }
}

/// Resolves the activation of a dense head from the sources, in order of authority.
pub(crate) fn resolve<'a>(
    overridden: Option<Activation>,
    model_type: Option<(&Path, &str)>,
    base_model: Option<&str>,
    keys: impl IntoIterator<Item = &'a str>,
) -> (Activation, ActivationSource) {
    if let Some(a) = overridden {
        return (a, ActivationSource::Override);
    }
    if let Some((path, t)) = model_type {
        if let Some(a) = activation_for_name(t) {
            let src = ActivationSource::ModelConfig {
                path: path.to_path_buf(),
                model_type: t.to_string(),
            };
            return (a, src);
        }
    }
    if let Some(b) = base_model {
        if let Some(a) = activation_for_name(b) {
            let src = ActivationSource::AdapterConfig {
                base_model: b.to_string(),
            };
            return (a, src);
        }
    }
    for key in keys {
        let arch = key.split('.').find_map(activation_for_name);
        if let Some(a) = arch {
            return (
                a,
                ActivationSource::KeyName {
                    key: key.to_string(),
                },
            );
        }
    }
    (Activation::Tanh, ActivationSource::Default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_order() {
        let p = Path::new("config.json");
        let keys = ["electra.embeddings.word_embeddings.weight"];
        assert_eq!(
            resolve(Some(Activation::Tanh), Some((p, "electra")), None, keys),
            (Activation::Tanh, ActivationSource::Override)
        );
        assert_eq!(
            resolve(None, Some((p, "electra")), Some("roberta-base"), keys).0,
            Activation::Gelu
        );
        let (a, s) = resolve(
            None,
            Some((p, "bert")),
            Some("FacebookAI/roberta-base"),
            keys,
        );
        assert_eq!(a, Activation::Tanh);
        assert!(matches!(s, ActivationSource::AdapterConfig { .. }));
        let (a, s) = resolve(None, None, Some("some/local/dir"), keys);
        assert_eq!(a, Activation::Gelu);
        assert_eq!(
            s,
            ActivationSource::KeyName {
                key: keys[0].to_string()
            }
        );
        assert_eq!(
            resolve(None, None, None, ["classifier.dense.weight"]),
            (Activation::Tanh, ActivationSource::Default)
        );
        assert_eq!(
            activation_for_name("google/ELECTRA-small-discriminator"),
            Some(Activation::Gelu)
        );
        assert_eq!(
            activation_for_name("xlm-roberta-large"),
            Some(Activation::Tanh)
        );
    }
}
