//! Per-split scores of every method, and their `scores.safetensors` file.
//!
//! Layout: for each split `S`, tensors `S/labels` (i64), `S/predictions` (i64),
//! `S/errors` (u8, 1 = wrong), `S/confidence` and `S/confidence_ts` (f64, top-class
//! probability before/after temperature scaling) and `S/u/<method>` (f64 uncertainty,
//! higher = less trust), all `[N]`. `__metadata__` holds `format`. Written by
//! [`encode_safetensors`], so the bytes are deterministic.

use std::collections::BTreeMap;

use ndarray::Array1;
use safetensors::{Dtype, SafeTensors};

use super::ScoreError;
use crate::output::{encode_safetensors, TensorData, TensorOut};

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

/// Serialises the scores of all splits (through the one deterministic encoder).
pub fn scores_to_bytes(splits: &[SplitScores]) -> Result<Vec<u8>, ScoreError> {
    // Owned little-endian-ready columns first; the tensors borrow them.
    struct Columns {
        names: Vec<String>,
        labels: Vec<i64>,
        predictions: Vec<i64>,
        errors: Vec<u8>,
    }
    let to_i64 = |a: &Array1<usize>| -> Result<Vec<i64>, ScoreError> {
        a.iter()
            .map(|&v| {
                i64::try_from(v)
                    .map_err(|_| ScoreError::ScoresFile(format!("label {v} overflows i64")))
            })
            .collect()
    };
    let columns = splits
        .iter()
        .map(|s| {
            let p = |k: &str| format!("{}/{k}", s.split);
            let mut names = [
                "labels",
                "predictions",
                "errors",
                "confidence",
                "confidence_ts",
            ]
            .map(p)
            .to_vec();
            names.extend(s.uncertainty.keys().map(|m| p(&format!("u/{m}"))));
            Ok(Columns {
                names,
                labels: to_i64(&s.labels)?,
                predictions: to_i64(&s.predictions)?,
                errors: s.errors.iter().map(|&e| u8::from(e)).collect(),
            })
        })
        .collect::<Result<Vec<_>, ScoreError>>()?;
    let mut tensors = Vec::new();
    for (s, c) in splits.iter().zip(&columns) {
        let data = [
            TensorData::I64(&c.labels),
            TensorData::I64(&c.predictions),
            TensorData::U8(&c.errors),
            TensorData::F64(f64_column(&s.confidence)?),
            TensorData::F64(f64_column(&s.confidence_ts)?),
        ];
        let methods = s
            .uncertainty
            .values()
            .map(|u| f64_column(u).map(TensorData::F64))
            .collect::<Result<Vec<_>, _>>()?;
        for (name, data) in c.names.iter().zip(data.into_iter().chain(methods)) {
            tensors.push(TensorOut {
                name,
                shape: vec![data.len()],
                data,
            });
        }
    }
    let meta = BTreeMap::from([("format".to_string(), SCORES_FORMAT.to_string())]);
    Ok(encode_safetensors(&tensors, &meta))
}

/// A score column as a slice (they are built contiguous).
fn f64_column(a: &Array1<f64>) -> Result<&[f64], ScoreError> {
    a.as_slice()
        .ok_or_else(|| ScoreError::ScoresFile("non-contiguous score column".into()))
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
