//! The splits of a `fit` run in memory: moved out of the feature sets, held out, and
//! handed to the fit engine and the scorer as views.

use ndarray::{Array1, Array2, Axis};

use crate::fit::FitData;
use crate::head::{argmax, Head};
use crate::load::FeatureSet;
use crate::score::{auc_standard_error, SplitInputs};

/// One split in memory: features, labels, and the original model's logits.
pub(super) struct Split {
    pub(super) name: &'static str,
    pub(super) features: Array2<f32>,
    pub(super) labels: Array1<usize>,
    pub(super) logits: Array2<f32>,
}

impl Split {
    /// Moves the rows out of `fs`, which keeps its path, digest and metadata for the
    /// report: the features are in memory once.
    pub(super) fn take(
        name: &'static str,
        fs: &mut FeatureSet,
        head: &Head,
    ) -> anyhow::Result<Self> {
        let logits = match fs.logits.take() {
            Some(l) => l,
            None => fs.reference_logits(head)?,
        };
        Ok(Split {
            name,
            features: std::mem::take(&mut fs.features),
            labels: std::mem::take(&mut fs.labels),
            logits,
        })
    }

    /// Splits into the rows `tr` and `va` (both ascending, as [`stratified_holdout`] gives
    /// them): the validation rows are copied out and the training rows compacted in place,
    /// so there is never a second copy of all the features.
    pub(super) fn hold_out(self, tr: &[usize], va: &[usize]) -> (Self, Self) {
        let val = self.rows("val", va);
        let train = Split {
            name: "train",
            features: keep_rows(self.features, tr),
            labels: self.labels.select(Axis(0), tr),
            logits: self.logits.select(Axis(0), tr),
        };
        (train, val)
    }

    /// Splits into two named splits of the rows `a` and `b` (copies).
    pub(super) fn split(
        self,
        name_a: &'static str,
        a: &[usize],
        name_b: &'static str,
        b: &[usize],
    ) -> (Self, Self) {
        (self.rows(name_a, a), self.rows(name_b, b))
    }

    /// Rows where the original model is wrong.
    pub(super) fn errors(&self) -> usize {
        error_flags(self).iter().filter(|&&e| e == 1).count()
    }

    fn rows(&self, name: &'static str, idx: &[usize]) -> Self {
        Split {
            name,
            features: self.features.select(Axis(0), idx),
            labels: self.labels.select(Axis(0), idx),
            logits: self.logits.select(Axis(0), idx),
        }
    }

    pub(super) fn fit_data(&self) -> FitData<'_> {
        FitData {
            features: self.features.view(),
            labels: self.labels.view(),
            original_logits: self.logits.view(),
        }
    }
}

/// The rows `idx` of `a`, moved to the front of its own buffer, which is then shrunk: no
/// second `[N, D]` allocation. `idx` must be strictly ascending (else this falls back to a
/// copy, as it does for an array that is not in standard layout).
pub(super) fn keep_rows(a: Array2<f32>, idx: &[usize]) -> Array2<f32> {
    let (n, cols) = a.dim();
    let ascending = idx.windows(2).all(|w| w[0] < w[1]) && idx.last().is_none_or(|&i| i < n);
    if !ascending || !a.is_standard_layout() {
        return a.select(Axis(0), idx);
    }
    let (mut v, offset) = a.into_raw_vec_and_offset();
    let start = offset.unwrap_or(0);
    for (k, &i) in idx.iter().enumerate() {
        // k ≤ i, and rows after i are not written before they are read.
        let from = start + i * cols;
        v.copy_within(from..from + cols, k * cols);
    }
    v.truncate(idx.len() * cols);
    v.shrink_to_fit();
    // Cannot fail: `v` holds exactly `idx.len() × cols` elements.
    Array2::from_shape_vec((idx.len(), cols), v).unwrap_or_default()
}

pub(super) fn split_inputs<'a>(s: &'a Split, u: Option<&'a Array1<f32>>) -> SplitInputs<'a> {
    SplitInputs {
        name: s.name,
        labels: s.labels.view(),
        original_logits: s.logits.view(),
        features: s.features.view(),
        adue: u.map(|u| u.view()),
    }
}

/// `e` of every row as 0/1 (1: the argmax of the original logits is not the label).
pub(super) fn error_flags(s: &Split) -> Array1<usize> {
    s.logits
        .rows()
        .into_iter()
        .zip(&s.labels)
        .map(|(row, &label)| usize::from(argmax(row.view()) != Some(label)))
        .collect()
}

/// With fewer validation errors (or correct rows) than this, the validation error ROC-AUC
/// that picks the configuration has a standard error above ~0.05, and a wide grid overfits
/// it (measured on the 75-row `tiny-llama-576` reader case: test ROC-AUC 0.37–0.56 against
/// 0.79 for the softmax response).
const MIN_VAL_ROWS_PER_OUTCOME: usize = 30;

/// A warning when the selection rows (`what`, e.g. "the validation split 'val'") are too
/// few to select among `configs` heads; `remedy` says what to give instead.
pub(super) fn selection_noise_warning(
    sel: &Split,
    what: &str,
    remedy: &str,
    configs: usize,
) -> Option<String> {
    let errors = sel.errors();
    let correct = sel.labels.len() - errors;
    if errors >= MIN_VAL_ROWS_PER_OUTCOME && correct >= MIN_VAL_ROWS_PER_OUTCOME {
        return None;
    }
    // No errors or no correct rows: no AUC at all, and the fit stops with an error that
    // says so; a warning about its noise would only precede it.
    let se = auc_standard_error(0.75, errors, correct)?;
    Some(format!(
        "{what} has {errors} errors and {correct} correct rows: its error ROC-AUC, which \
         selects among {configs} configurations, has a standard error of about {se:.2}, so the \
         selected head may not generalise; give {remedy} at least \
         {MIN_VAL_ROWS_PER_OUTCOME} errors and {MIN_VAL_ROWS_PER_OUTCOME} correct rows"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_rows_equals_select() {
        let a = Array2::from_shape_fn((9, 5), |(i, j)| (i * 10 + j) as f32);
        for idx in [vec![0, 2, 3, 7, 8], vec![4], vec![], (0..9).collect()] {
            assert_eq!(
                keep_rows(a.clone(), &idx),
                a.select(Axis(0), &idx),
                "{idx:?}"
            );
        }
        // Not ascending, repeated, out of range, or a sliced array: a plain copy.
        for idx in [vec![3, 1], vec![2, 2]] {
            assert_eq!(
                keep_rows(a.clone(), &idx),
                a.select(Axis(0), &idx),
                "{idx:?}"
            );
        }
        // Rows sliced off the front (standard layout, data at an offset); columns sliced
        // (not standard layout).
        for sliced in [
            a.clone().slice_move(ndarray::s![2.., ..]),
            a.slice_move(ndarray::s![2.., 1..]),
        ] {
            let want = sliced.select(Axis(0), &[1, 4, 6]);
            assert_eq!(keep_rows(sliced, &[1, 4, 6]), want);
        }
    }
}
