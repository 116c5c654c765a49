//! Finding the classification head among a checkpoint's tensor keys.
//!
//! PEFT wraps modules in several ways, and each save format spells the wrapping differently:
//! - an optional `base_model.model.` prefix;
//! - `<module>.modules_to_save.<adapter>.` (the trained copy of a module in
//!   `modules_to_save`) next to `<module>.original_module.` (the frozen original);
//! - `<module>.base_layer.weight`, the base weight of a layer that carries LoRA;
//! - `<module>.lora_A[.<adapter>].weight` and `<module>.lora_B[.<adapter>].weight`.
//!
//! [`parse_key`] strips all of that to a canonical module path (`classifier.dense`, `score`,
//! `classifier`) and a role; [`KeyIndex`] picks, for each module and role, the most
//! authoritative copy.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::{sample_list, LoadError};

/// The PEFT prefix in front of every key of a `PeftModel`.
pub const PEFT_PREFIX: &str = "base_model.model.";

/// What a key holds for its module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    /// The (base) weight.
    Weight,
    /// The (base) bias.
    Bias,
    /// LoRA down-projection `A` `[r, in]`.
    LoraA,
    /// LoRA up-projection `B` `[out, r]`.
    LoraB,
    /// Bias of `B` (PEFT's `lora_bias`).
    LoraBBias,
}

/// How authoritative a copy of a tensor is. The trained `modules_to_save` copy beats a plain
/// (or `base_layer`) key, which beats the frozen `original_module` copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Precedence {
    /// Inside `original_module.`.
    OriginalModule,
    /// No wrapper, or `base_layer.`.
    Plain,
    /// Inside `modules_to_save.<adapter>.`.
    ModulesToSave,
}

/// A key reduced to its canonical module and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedKey {
    pub module: String,
    pub role: Role,
    pub precedence: Precedence,
}

/// Parses one key; `None` for keys that are not a weight, bias or LoRA factor.
pub(crate) fn parse_key(key: &str) -> Option<ParsedKey> {
    let rest = key.strip_prefix(PEFT_PREFIX).unwrap_or(key);
    let segs: Vec<&str> = rest.split('.').collect();
    let mut module: Vec<&str> = Vec::new();
    let mut in_copy = false;
    let mut in_original = false;
    let mut i = 0;
    while i < segs.len() {
        let last = i + 1 == segs.len();
        match segs[i] {
            "modules_to_save" if !last => {
                in_copy = true;
                i += 2; // and the adapter name
                continue;
            }
            "original_module" => in_original = true,
            "base_layer" => {}
            f @ ("lora_A" | "lora_B") => {
                let tail = match &segs[i + 1..] {
                    [t] | [_, t] => *t,
                    _ => return None,
                };
                let role = match (f, tail) {
                    ("lora_A", "weight") => Role::LoraA,
                    ("lora_B", "weight") => Role::LoraB,
                    ("lora_B", "bias") => Role::LoraBBias,
                    _ => return None,
                };
                return finish(module, role, in_copy, in_original);
            }
            "weight" if last => return finish(module, Role::Weight, in_copy, in_original),
            "bias" if last => return finish(module, Role::Bias, in_copy, in_original),
            s => module.push(s),
        }
        i += 1;
    }
    None
}

fn finish(module: Vec<&str>, role: Role, copy: bool, original: bool) -> Option<ParsedKey> {
    if module.is_empty() {
        return None;
    }
    let precedence = if original {
        Precedence::OriginalModule
    } else if copy {
        Precedence::ModulesToSave
    } else {
        Precedence::Plain
    };
    Some(ParsedKey {
        module: module.join("."),
        role,
        precedence,
    })
}

/// How the checkpoint names its head modules (canonical module names); not to be confused
/// with [`crate::head::HeadLayout`], the layer/tensor description of the loaded head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckpointLayout {
    /// `classifier.dense` + `classifier.out_proj` (RoBERTa, ELECTRA).
    Dense,
    /// `score` (decoder LMs).
    Score,
    /// `classifier` (BERT).
    Classifier,
}

impl CheckpointLayout {
    /// Canonical modules of the layout, in forward order.
    pub fn modules(self) -> &'static [&'static str] {
        match self {
            CheckpointLayout::Dense => &["classifier.dense", "classifier.out_proj"],
            CheckpointLayout::Score => &["score"],
            CheckpointLayout::Classifier => &["classifier"],
        }
    }
}

/// Every weight-like key of a checkpoint, grouped by canonical module and role.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    entries: BTreeMap<(String, Role), Vec<(Precedence, String)>>,
}

impl KeyIndex {
    /// Indexes `keys`.
    pub fn build<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        let mut entries: BTreeMap<(String, Role), Vec<(Precedence, String)>> = BTreeMap::new();
        for key in keys {
            if let Some(p) = parse_key(key) {
                entries
                    .entry((p.module, p.role))
                    .or_default()
                    .push((p.precedence, key.to_string()));
            }
        }
        KeyIndex { entries }
    }

    /// Whether any key belongs to `module`.
    pub fn has_module(&self, module: &str) -> bool {
        self.entries.keys().any(|(m, _)| m == module)
    }

    /// The one head layout present; `path`, `count` and `keys` only feed the errors.
    pub fn layout<'a>(
        &self,
        path: &Path,
        count: usize,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<CheckpointLayout, LoadError> {
        let found: Vec<CheckpointLayout> = [
            CheckpointLayout::Dense,
            CheckpointLayout::Score,
            CheckpointLayout::Classifier,
        ]
        .into_iter()
        .filter(|l| l.modules().iter().any(|m| self.has_module(m)))
        .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(LoadError::NoHead {
                path: path.to_path_buf(),
                count,
                sample: sample_list(keys, 8),
            }),
            many => Err(LoadError::AmbiguousHead {
                path: path.to_path_buf(),
                reason: format!(
                    "keys of several heads are present: {}",
                    many.iter()
                        .flat_map(|l| l.modules())
                        .filter(|m| self.has_module(m))
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    /// The key for `module`/`role`: the one at `precedence`, or when `None` the one of highest
    /// precedence. Two keys at the same precedence are an error.
    pub fn pick(
        &self,
        path: &Path,
        module: &str,
        role: Role,
        precedence: Option<Precedence>,
    ) -> Result<Option<(Precedence, &str)>, LoadError> {
        let Some(all) = self.entries.get(&(module.to_string(), role)) else {
            return Ok(None);
        };
        let Some(best) = precedence.or_else(|| all.iter().map(|(p, _)| *p).max()) else {
            return Ok(None);
        };
        let at: Vec<&str> = all
            .iter()
            .filter(|(p, _)| *p == best)
            .map(|(_, k)| k.as_str())
            .collect();
        match at.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((best, one))),
            many => Err(LoadError::AmbiguousHead {
                path: path.to_path_buf(),
                reason: format!(
                    "{} keys hold the same tensor of `{module}`: {}",
                    many.len(),
                    sample_list(many.iter().copied(), 4)
                ),
            }),
        }
    }

    /// Every key of `module`, for messages.
    pub fn keys_of(&self, module: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|((m, _), _)| m == module)
            .flat_map(|(_, v)| v.iter().map(|(_, k)| k.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pk(key: &str) -> (String, Role, Precedence) {
        let p = parse_key(key).unwrap_or_else(|| panic!("{key} did not parse"));
        (p.module, p.role, p.precedence)
    }

    #[test]
    fn strips_peft_wrappers() {
        use Precedence::*;
        use Role::*;
        let s = |x: &str| x.to_string();
        assert_eq!(pk("score.weight"), (s("score"), Weight, Plain));
        assert_eq!(
            pk("base_model.model.score.weight"),
            (s("score"), Weight, Plain)
        );
        assert_eq!(
            pk("base_model.model.classifier.modules_to_save.default.dense.weight"),
            (s("classifier.dense"), Weight, ModulesToSave)
        );
        assert_eq!(
            pk("base_model.model.classifier.original_module.out_proj.bias"),
            (s("classifier.out_proj"), Bias, OriginalModule)
        );
        assert_eq!(pk("score.base_layer.weight"), (s("score"), Weight, Plain));
        assert_eq!(
            pk("base_model.model.score.lora_A.weight"),
            (s("score"), LoraA, Plain)
        );
        assert_eq!(
            pk("score.lora_B.default.weight"),
            (s("score"), LoraB, Plain)
        );
        assert_eq!(
            pk("score.lora_B.default.bias"),
            (s("score"), LoraBBias, Plain)
        );
        assert_eq!(
            pk("classifier.modules_to_save.default.dense.lora_A.default.weight"),
            (s("classifier.dense"), LoraA, ModulesToSave)
        );
        assert!(parse_key("score.lora_magnitude_vector").is_none());
        assert!(parse_key("weight").is_none());
        assert!(parse_key("score.lora_A.x.y.weight").is_none());
    }

    #[test]
    fn picks_trained_copy_and_detects_layouts() {
        let keys = [
            "base_model.model.classifier.original_module.weight",
            "base_model.model.classifier.modules_to_save.default.weight",
            "base_model.model.bert.pooler.dense.weight",
        ];
        let idx = KeyIndex::build(keys);
        let p = Path::new("m.safetensors");
        assert_eq!(
            idx.layout(p, 3, keys).unwrap(),
            CheckpointLayout::Classifier
        );
        let (prec, key) = idx
            .pick(p, "classifier", Role::Weight, None)
            .unwrap()
            .unwrap();
        assert_eq!(prec, Precedence::ModulesToSave);
        assert_eq!(key, keys[1]);
        assert!(idx
            .pick(p, "classifier", Role::Bias, None)
            .unwrap()
            .is_none());
    }

    #[test]
    fn duplicates_and_several_heads_are_ambiguous() {
        let keys = ["score.weight", "base_model.model.score.weight"];
        let idx = KeyIndex::build(keys);
        let p = Path::new("m.safetensors");
        let e = idx
            .pick(p, "score", Role::Weight, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("score.weight") && e.contains("base_model.model.score.weight"),
            "{e}"
        );
        let keys = ["score.weight", "classifier.weight"];
        let e = KeyIndex::build(keys)
            .layout(p, 2, keys)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`score`") && e.contains("`classifier`"), "{e}");
        let keys = ["lm_head.weight", "model.norm.weight"];
        let e = KeyIndex::build(keys)
            .layout(p, 2, keys)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("lm_head.weight") && e.contains("m.safetensors"),
            "{e}"
        );
    }
}
