//! Per-split scores of every method, and their `scores.safetensors` file.
//!
//! Layout: for each split `S`, tensors `S/labels` (i64), `S/predictions` (i64),
//! `S/errors` (u8, 1 = wrong), `S/confidence` and `S/confidence_ts` (f64, top-class
//! probability before/after temperature scaling) and `S/u/<method>` (f64 uncertainty,
//! higher = less trust), all `[N]`. `__metadata__` holds only `format`, so the bytes are
//! deterministic.

use std::collections::{BTreeMap, HashMap};

use ndarray::Array1;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use super::ScoreError;

/// Value of the `format` metadata key.
pub const SCORES_FORMAT: &str = "adue-compile scores 1";

/// Scores of every method on one split.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitScores {
    /// Split name.
    pub split: String,
    /// Gold labels.
    pub labels: Array1<usize>,
    /// Original head's predictions.
    pub predictions: Array1<usize>,
    /// `e = 1` where the prediction is wrong.
    pub errors: Array1<bool>,
    /// Top-class probability of the original head.
    pub confidence: Array1<f64>,
    /// Top-class probability after temperature scaling.
    pub confidence_ts: Array1<f64>,
    /// `u` per method name.
    pub uncertainty: BTreeMap<String, Array1<f64>>,
}

fn bytes_f64(a: &Array1<f64>) -> Vec<u8> {
    a.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn bytes_i64(a: &Array1<usize>) -> Vec<u8> {
    a.iter().flat_map(|&v| (v as i64).to_le_bytes()).collect()
}

/// Serialises the scores of all splits.
pub fn scores_to_bytes(splits: &[SplitScores]) -> Result<Vec<u8>, ScoreError> {
    let mut owned: Vec<(String, Dtype, Vec<u8>, usize)> = Vec::new();
    for s in splits {
        let n = s.labels.len();
        let p = |k: &str| format!("{}/{k}", s.split);
        owned.push((p("labels"), Dtype::I64, bytes_i64(&s.labels), n));
        owned.push((p("predictions"), Dtype::I64, bytes_i64(&s.predictions), n));
        let e = s.errors.iter().map(|&e| u8::from(e)).collect();
        owned.push((p("errors"), Dtype::U8, e, n));
        owned.push((p("confidence"), Dtype::F64, bytes_f64(&s.confidence), n));
        owned.push((
            p("confidence_ts"),
            Dtype::F64,
            bytes_f64(&s.confidence_ts),
            n,
        ));
        for (m, u) in &s.uncertainty {
            owned.push((p(&format!("u/{m}")), Dtype::F64, bytes_f64(u), u.len()));
        }
    }
    let views = owned
        .iter()
        .map(|(name, dt, b, n)| Ok((name.clone(), TensorView::new(*dt, vec![*n], b)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|e| ScoreError::ScoresFile(e.to_string()))?;
    let meta = HashMap::from([("format".to_string(), SCORES_FORMAT.to_string())]);
    safetensors::serialize(views, Some(meta)).map_err(|e| ScoreError::ScoresFile(e.to_string()))
}

/// Parses a file written by [`scores_to_bytes`]; splits in name order.
pub fn scores_from_bytes(bytes: &[u8]) -> Result<Vec<SplitScores>, ScoreError> {
    let bad = |m: String| ScoreError::ScoresFile(m);
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    let mut splits: BTreeMap<String, SplitScores> = BTreeMap::new();
    let mut names = st.names();
    names.sort();
    for name in names {
        let t = st.tensor(name).map_err(|e| bad(e.to_string()))?;
        let (split, key) = name
            .split_once('/')
            .ok_or_else(|| bad(format!("tensor `{name}` is not named <split>/<field>")))?;
        let entry = splits
            .entry(split.to_string())
            .or_insert_with(|| SplitScores {
                split: split.to_string(),
                labels: Array1::zeros(0),
                predictions: Array1::zeros(0),
                errors: Array1::from_elem(0, false),
                confidence: Array1::zeros(0),
                confidence_ts: Array1::zeros(0),
                uncertainty: BTreeMap::new(),
            });
        let want = |dt: Dtype| {
            if t.dtype() == dt && t.shape().len() == 1 {
                Ok(t.data())
            } else {
                Err(bad(format!(
                    "tensor `{name}`: expected 1-D {dt:?}, got {:?} {:?}",
                    t.dtype(),
                    t.shape()
                )))
            }
        };
        let f64s = |d: &[u8]| -> Array1<f64> {
            d.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect()
        };
        let usizes = |d: &[u8]| -> Result<Array1<usize>, ScoreError> {
            d.chunks_exact(8)
                .map(|c| {
                    let v = i64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
                    usize::try_from(v).map_err(|_| bad(format!("tensor `{name}`: negative {v}")))
                })
                .collect()
        };
        match key {
            "labels" => entry.labels = usizes(want(Dtype::I64)?)?,
            "predictions" => entry.predictions = usizes(want(Dtype::I64)?)?,
            "errors" => entry.errors = want(Dtype::U8)?.iter().map(|&b| b != 0).collect(),
            "confidence" => entry.confidence = f64s(want(Dtype::F64)?),
            "confidence_ts" => entry.confidence_ts = f64s(want(Dtype::F64)?),
            k => match k.strip_prefix("u/") {
                Some(m) => {
                    entry
                        .uncertainty
                        .insert(m.to_string(), f64s(want(Dtype::F64)?));
                }
                None => return Err(bad(format!("unknown tensor `{name}`"))),
            },
        }
    }
    for s in splits.values() {
        let n = s.labels.len();
        let lens = [
            ("predictions", s.predictions.len()),
            ("errors", s.errors.len()),
            ("confidence", s.confidence.len()),
            ("confidence_ts", s.confidence_ts.len()),
        ];
        let methods = s.uncertainty.iter().map(|(m, u)| (m.as_str(), u.len()));
        for (what, len) in lens.into_iter().chain(methods) {
            if len != n {
                return Err(bad(format!(
                    "split `{}`: `{what}` has {len} rows, expected {n} (the labels)",
                    s.split
                )));
            }
        }
    }
    Ok(splits.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn round_trips_byte_identically() {
        let s = SplitScores {
            split: "test".into(),
            labels: array![0, 2, 1],
            predictions: array![0, 1, 1],
            errors: array![false, true, false],
            confidence: array![0.9, 0.5, 0.7],
            confidence_ts: array![0.8, 0.45, 0.6],
            uncertainty: BTreeMap::from([
                ("adue".to_string(), array![0.1, 0.6, 0.3]),
                ("mahalanobis".to_string(), array![12.0, 40.5, 20.25]),
            ]),
        };
        let bytes = scores_to_bytes(std::slice::from_ref(&s)).unwrap();
        assert_eq!(bytes, scores_to_bytes(std::slice::from_ref(&s)).unwrap());
        assert_eq!(scores_from_bytes(&bytes).unwrap(), vec![s]);
    }

    #[test]
    fn inconsistent_files_are_errors() {
        assert!(scores_from_bytes(b"not safetensors").is_err());
        let mut s = SplitScores {
            split: "val".into(),
            labels: array![0, 1],
            predictions: array![0, 1],
            errors: array![false, false],
            confidence: array![0.9, 0.5],
            confidence_ts: array![0.8, 0.45],
            uncertainty: BTreeMap::new(),
        };
        s.uncertainty.insert("x".into(), array![0.1]);
        let e = scores_from_bytes(&scores_to_bytes(&[s]).unwrap()).unwrap_err();
        assert!(e.to_string().contains("`x` has 1 rows, expected 2"), "{e}");
    }
}
