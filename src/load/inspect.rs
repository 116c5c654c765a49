//! `inspect --json`: what was read from a checkpoint (and, optionally, a feature set).

use ndarray::{ArrayView1, ArrayView2, Axis};
use serde_json::{json, Value};

use super::checkpoint::Checkpoint;
use super::features::FeatureSet;
use crate::head::argmax;

/// One JSON object describing the checkpoint's head (CONTRACT §3): `head.kind`,
/// `head.activation` (null for linear), `head.has_bias`, `num_classes`, `hidden_size`, plus
/// the head's keys, dtype, LoRA merge and input files. With `features`: `rows`, `error_rate`
/// (of the file's logits when present, else of the head's; null when neither exists) and
/// `logits_max_abs_diff` (null without stored logits or when they do not fit the head), and a
/// `features` object with the file's details, including whether they fit the head. Never
/// fails: features that do not fit are described, not rejected.
pub fn inspect(ckpt: &Checkpoint, features: Option<&FeatureSet>) -> Value {
    let head = &ckpt.head;
    let mut out = json!({
        "checkpoint": {
            "path": ckpt.path,
            "files": ckpt.files,
            "base_model": ckpt.base_model,
        },
        "head": {
            "kind": head.kind().as_str(),
            "activation": head.activation().map(|a| a.as_str()),
            "activation_source": ckpt.activation_source,
            "has_bias": head.has_bias(),
            "hidden_dim": head.hidden_dim(),
            "num_parameters": head.num_parameters(),
            "dtype": ckpt.head_dtype,
            "prefix": ckpt.head_prefix,
            "keys": ckpt.head_keys,
        },
        "num_classes": head.num_classes(),
        "hidden_size": head.input_dim(),
        "lora_merged": ckpt.lora_merged,
    });
    if let (Some(fs), Value::Object(map)) = (features, &mut out) {
        let check = fs.check_against(head).err().map(|e| e.to_string());
        // Null when the head cannot run on these features and the file has no logits.
        let rate = fs
            .reference_logits(head)
            .ok()
            .map(|l| error_rate(l.view(), fs.labels.view()));
        map.insert("rows".into(), json!(fs.rows()));
        map.insert("error_rate".into(), json!(rate));
        map.insert(
            "logits_max_abs_diff".into(),
            json!(fs.logits_max_abs_diff(head)),
        );
        map.insert(
            "features".into(),
            json!({
                "path": fs.path,
                "sha256": fs.sha256,
                "dim": fs.dim(),
                "has_logits": fs.logits.is_some(),
                "error_rate_source": if fs.logits.is_some() { "file" } else { "head" },
                "compatible": check.is_none(),
                "incompatibility": check,
                "label_names": fs.label_names(),
                "metadata": fs.metadata,
            }),
        );
    }
    out
}

/// Fraction of rows whose argmax (first maximum on ties) differs from the label.
pub fn error_rate(logits: ArrayView2<f32>, labels: ArrayView1<usize>) -> f64 {
    let n = labels.len();
    if n == 0 {
        return 0.0;
    }
    let wrong = logits
        .axis_iter(Axis(0))
        .zip(labels.iter())
        .filter(|(row, &y)| argmax(*row) != Some(y))
        .count();
    wrong as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(argmax(array![1.0f32, 3.0, 3.0].view()), Some(1));
        assert_eq!(argmax(ndarray::Array1::<f32>::zeros(0).view()), None);
    }

    #[test]
    fn error_rate_counts_wrong_argmax() {
        let logits = array![[1.0f32, 0.0], [0.0, 1.0], [2.0, 1.0], [0.5, 0.5]];
        let labels = array![0usize, 0, 0, 1];
        // Rows 1 and 3 (tie → class 0) are wrong.
        assert_eq!(error_rate(logits.view(), labels.view()), 0.5);
    }
}
