//! Inputs of the fit stage and the targets derived from the ORIGINAL head once per split.

use ndarray::{ArrayView1, ArrayView2};

use super::FitError;
use crate::head::Head;

/// One split of cached features with the original head's view of them.
#[derive(Debug, Clone, Copy)]
pub struct FitData<'a> {
    /// `[N, D]` hidden states that the head consumes.
    pub features: ArrayView2<'a, f32>,
    /// `[N]` gold labels in `0..C`.
    pub labels: ArrayView1<'a, usize>,
    /// `[N, C]` logits of the original (fine-tuned) head: they define the error indicator `e`
    /// and the softmax-response target `U_SR`.
    pub original_logits: ArrayView2<'a, f32>,
}

/// What the loss compares against, derived from the original logits (CONTRACT §5).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Targets {
    /// `e`: argmax of the original logits ≠ label.
    pub errors: Vec<bool>,
    /// `e` as 0/1 for the BCE.
    pub e: Vec<f32>,
    /// `U_SR = scale · (1 − max softmax)` of the original logits, computed in f64.
    pub u_sr: Vec<f32>,
}

impl Targets {
    /// Number of rows where the original head is wrong.
    pub fn num_errors(&self) -> usize {
        self.errors.iter().filter(|&&e| e).count()
    }
}

impl FitData<'_> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.features.nrows()
    }

    /// Checks shapes against `head`, label range and finiteness; `split` names the data in errors.
    pub(crate) fn check(&self, split: &'static str, head: &Head) -> Result<(), FitError> {
        let (n, d, c) = (self.rows(), head.input_dim(), head.num_classes());
        let shape = |tensor, expected: String, got: String| FitError::Shape {
            split,
            tensor,
            expected,
            got,
        };
        if n == 0 || self.features.ncols() != d {
            return Err(shape(
                "features",
                format!("[N >= 1, {d}] (D of the head)"),
                format!("{:?}", self.features.shape()),
            ));
        }
        if self.labels.len() != n {
            return Err(shape(
                "labels",
                format!("[{n}]"),
                format!("[{}]", self.labels.len()),
            ));
        }
        if self.original_logits.dim() != (n, c) {
            return Err(shape(
                "original_logits",
                format!("[{n}, {c}]"),
                format!("{:?}", self.original_logits.shape()),
            ));
        }
        if let Some((row, &label)) = self.labels.iter().enumerate().find(|(_, &l)| l >= c) {
            return Err(FitError::LabelOutOfRange {
                split,
                row,
                label,
                num_classes: c,
            });
        }
        for (tensor, m) in [
            ("features", self.features),
            ("original_logits", self.original_logits),
        ] {
            if let Some(row) = m
                .rows()
                .into_iter()
                .position(|r| r.iter().any(|v| !v.is_finite()))
            {
                return Err(FitError::NonFinite { split, tensor, row });
            }
        }
        Ok(())
    }

    /// `e` and `U_SR` of every row, with `U_SR` multiplied by `scale`.
    pub(crate) fn targets(&self, scale: f64) -> Targets {
        let mut t = Targets {
            errors: Vec::with_capacity(self.rows()),
            e: Vec::with_capacity(self.rows()),
            u_sr: Vec::with_capacity(self.rows()),
        };
        for (z, &label) in self.original_logits.rows().into_iter().zip(self.labels) {
            // First maximal index, as torch.argmax / numpy.argmax.
            let (argmax, zmax) =
                z.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                        if v > best.1 {
                            (i, v)
                        } else {
                            best
                        }
                    });
            let denom: f64 = z
                .iter()
                .map(|&v| (f64::from(v) - f64::from(zmax)).exp())
                .sum();
            let err = argmax != label;
            t.errors.push(err);
            t.e.push(if err { 1.0 } else { 0.0 });
            t.u_sr.push((scale * (1.0 - 1.0 / denom)) as f32);
        }
        t
    }
}
