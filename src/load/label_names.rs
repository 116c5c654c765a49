//! Class names of a checkpoint, from a Hugging Face `config.json`'s `id2label`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::checkpoint::Checkpoint;
use super::json_file::read_json;
use super::model_config::MODEL_CONFIG;

/// The class names of `ckpt`'s head, index = label id: `id2label` of the checkpoint's own
/// `config.json`, else of the local base model directory its adapter names (as given, or
/// relative to the adapter). `None` when neither has one with exactly the head's class
/// count, or when every name is transformers' placeholder `LABEL_<i>`.
pub fn label_names(ckpt: &Checkpoint) -> Option<Vec<String>> {
    let classes = ckpt.head.num_classes();
    let own = ckpt
        .files
        .iter()
        .map(|f| f.path.clone())
        .find(|p| p.file_name().is_some_and(|n| n == MODEL_CONFIG));
    let base = ckpt
        .adapter_config
        .as_ref()
        .and_then(|c| c.base_model_name_or_path.as_deref())
        .and_then(|name| {
            let adapter_dir = ckpt.path.parent().unwrap_or(Path::new(""));
            [
                PathBuf::from(name),
                ckpt.path.join(name),
                adapter_dir.join(name),
            ]
            .into_iter()
            .map(|d| d.join(MODEL_CONFIG))
            .find(|p| p.is_file())
        });
    own.into_iter()
        .chain(base)
        .find_map(|p| id2label(&read_json(&p).ok()?, classes))
}

/// `id2label` as a list of `classes` names, keys `"0"` … `"C-1"`.
fn id2label(config: &Value, classes: usize) -> Option<Vec<String>> {
    let map = config.get("id2label")?.as_object()?;
    if map.len() != classes {
        return None;
    }
    let names: Vec<String> = (0..classes)
        .map(|i| map.get(&i.to_string())?.as_str().map(str::to_string))
        .collect::<Option<_>>()?;
    let placeholders = names
        .iter()
        .enumerate()
        .all(|(i, n)| *n == format!("LABEL_{i}"));
    (!placeholders).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn id2label_in_order_and_placeholders_ignored() {
        let c = json!({"id2label": {"1": "b", "0": "a", "2": "c"}});
        assert_eq!(
            id2label(&c, 3),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(id2label(&c, 2), None);
        let p = json!({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}});
        assert_eq!(id2label(&p, 2), None);
        let gap = json!({"id2label": {"0": "a", "2": "c"}});
        assert_eq!(id2label(&gap, 2), None);
        assert_eq!(id2label(&json!({}), 2), None);
    }
}
