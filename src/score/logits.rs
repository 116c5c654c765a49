//! Per-sample quantities derived from a head's logits, in f64 (CONTRACT §5).
//!
//! Every probability-based metric and baseline (softmax response, entropy, ECE, Brier,
//! NLL, temperature scaling) starts from these, so they are computed once, here.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};

use super::ScoreError;

/// Quantities of one split's rows, from logits divided by a temperature `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogitStats {
    /// Predicted class: the first index of the largest logit (unchanged by `T > 0`).
    pub predictions: Array1<usize>,
    /// `e = 1` where the prediction differs from the gold label.
    pub errors: Array1<bool>,
    /// Top-class probability `max_k p_k`.
    pub confidence: Array1<f64>,
    /// Shannon entropy `−Σ_k p_k ln p_k` (nats).
    pub entropy: Array1<f64>,
    /// Negative log-likelihood `−ln p_label`.
    pub nll: Array1<f64>,
    /// Brier score `Σ_k (p_k − 1[k = label])²`.
    pub brier: Array1<f64>,
}

impl LogitStats {
    /// Computes the statistics of `softmax(logits / temperature)` against `labels`.
    ///
    /// The caller has checked shapes, label range and finiteness ([`check_logits`]).
    pub fn new(logits: ArrayView2<f32>, labels: ArrayView1<usize>, temperature: f64) -> Self {
        let n = logits.nrows();
        let inv_t = 1.0 / temperature;
        let mut out = LogitStats {
            predictions: Array1::zeros(n),
            errors: Array1::from_elem(n, false),
            confidence: Array1::zeros(n),
            entropy: Array1::zeros(n),
            nll: Array1::zeros(n),
            brier: Array1::zeros(n),
        };
        let mut logp = vec![0.0f64; logits.ncols()];
        for (i, row) in logits.axis_iter(Axis(0)).enumerate() {
            log_softmax(row, inv_t, &mut logp);
            let y = labels[i];
            // Rows are never empty: C ≥ 2 is checked before.
            let pred = crate::head::argmax(row).unwrap_or(0);
            let mut brier = 0.0;
            for (k, &lp) in logp.iter().enumerate() {
                let target = if k == y { 1.0 } else { 0.0 };
                brier += (lp.exp() - target) * (lp.exp() - target);
            }
            out.predictions[i] = pred;
            out.errors[i] = pred != y;
            out.confidence[i] = row_confidence(&logp);
            out.entropy[i] = row_entropy(&logp);
            out.nll[i] = -logp[y];
            out.brier[i] = brier;
        }
        out
    }

    /// Softmax response `1 − max_k p_k`, the baseline uncertainty.
    pub fn softmax_response(&self) -> Array1<f64> {
        self.confidence.mapv(|c| 1.0 - c)
    }

    /// Whether each prediction is correct (`!e`).
    pub fn correct(&self) -> Array1<bool> {
        self.errors.mapv(|e| !e)
    }
}

/// `log softmax(z / T)` of one row into `out`, in f64: `z_k/T − logsumexp(z/T)`,
/// max-shifted so that no exponential overflows.
pub fn log_softmax(row: ArrayView1<f32>, inv_t: f64, out: &mut [f64]) {
    let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(f64::from(b) * inv_t));
    let s: f64 = row.iter().map(|&z| (f64::from(z) * inv_t - m).exp()).sum();
    let lse = m + s.ln();
    for (o, &z) in out.iter_mut().zip(row.iter()) {
        *o = f64::from(z) * inv_t - lse;
    }
}

/// Top-class probability `max_k p_k` of one row of log-probabilities.
pub fn row_confidence(logp: &[f64]) -> f64 {
    logp.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b)).exp()
}

/// Entropy `−Σ_k p_k ln p_k` of one row of log-probabilities. `p·ln p → 0` as `p → 0`:
/// `ln p` stays finite here, so an underflowed `p` contributes exactly 0.
pub fn row_entropy(logp: &[f64]) -> f64 {
    logp.iter().map(|&l| -l.exp() * l).sum()
}

/// Checks that `logits` is `[N, classes]`, finite, and that every label is below `classes`.
pub fn check_logits(
    split: &str,
    logits: ArrayView2<f32>,
    labels: ArrayView1<usize>,
    classes: usize,
) -> Result<(), ScoreError> {
    if logits.nrows() != labels.len() {
        return Err(ScoreError::RowMismatch {
            split: split.to_string(),
            tensor: "logits",
            expected: labels.len(),
            got: logits.nrows(),
        });
    }
    if logits.ncols() != classes {
        return Err(ScoreError::ColumnMismatch {
            split: split.to_string(),
            tensor: "logits",
            expected: classes,
            got: logits.ncols(),
        });
    }
    check_labels(split, labels, classes)?;
    check_finite(split, "logits", logits)
}

/// Checks that every label is below `classes`.
pub fn check_labels(
    split: &str,
    labels: ArrayView1<usize>,
    classes: usize,
) -> Result<(), ScoreError> {
    match labels.iter().position(|&y| y >= classes) {
        Some(row) => Err(ScoreError::LabelOutOfRange {
            split: split.to_string(),
            row,
            label: labels[row],
            classes,
        }),
        None => Ok(()),
    }
}

/// Checks that every entry of a `[N, K]` array is finite, naming the first bad row.
pub fn check_finite(
    split: &str,
    tensor: &'static str,
    values: ArrayView2<f32>,
) -> Result<(), ScoreError> {
    match values
        .axis_iter(Axis(0))
        .position(|r| r.iter().any(|v| !v.is_finite()))
    {
        Some(row) => Err(ScoreError::NonFinite {
            split: split.to_string(),
            tensor,
            row,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn binary_row_by_hand() {
        // p = softmax([0, ln 3]) = [1/4, 3/4]; label 0 is wrong.
        let z = array![[0.0f32, 3f32.ln()]];
        let s = LogitStats::new(z.view(), array![0usize].view(), 1.0);
        assert!(s.errors[0]);
        assert!((s.confidence[0] - 0.75).abs() < 1e-7);
        assert!((s.nll[0] - 4f64.ln()).abs() < 1e-7);
        assert!((s.brier[0] - (0.75f64.powi(2) * 2.0)).abs() < 1e-7);
        let h = -(0.25f64 * 0.25f64.ln() + 0.75 * 0.75f64.ln());
        assert!((s.entropy[0] - h).abs() < 1e-7);
    }

    #[test]
    fn temperature_flattens_and_extreme_logits_stay_finite() {
        let z = array![[1000.0f32, -1000.0, 0.0]];
        let s = LogitStats::new(z.view(), array![1usize].view(), 1.0);
        assert_eq!(s.confidence[0], 1.0);
        assert!((s.nll[0] - 2000.0).abs() < 1e-9);
        assert_eq!(s.entropy[0], 0.0);
        let hot = LogitStats::new(z.view(), array![1usize].view(), 1e6);
        assert!(hot.confidence[0] < 0.34, "{}", hot.confidence[0]);
        assert_eq!(hot.predictions[0], 0);
    }

    #[test]
    fn argmax_takes_first_of_ties() {
        assert_eq!(
            crate::head::argmax(array![1.0f32, 2.0, 2.0].view()),
            Some(1)
        );
    }

    #[test]
    fn checks_name_the_problem() {
        let z = array![[0.0f32, f32::NAN]];
        let e = check_logits("val", z.view(), array![0usize].view(), 2).unwrap_err();
        assert!(e.to_string().contains("non-finite value at row 0"), "{e}");
        let e = check_logits("val", z.view(), array![2usize].view(), 2).unwrap_err();
        assert!(e.to_string().contains("label 2 at row 0"), "{e}");
        let e = check_logits("val", z.view(), array![0usize].view(), 3).unwrap_err();
        assert!(e.to_string().contains("2 columns, expected 3"), "{e}");
    }
}
