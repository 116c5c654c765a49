//! Parameter-free baselines on the original head's logits: softmax response and entropy.
//!
//! They have nothing to fit, so they are linfa predictors only (`PredictInplace`
//! on `[N, C]` logits, giving `[N]` uncertainties, higher = less trust).

use linfa::traits::PredictInplace;
use ndarray::{Array1, ArrayBase, Axis, Data, Ix2};

use super::logits::{log_softmax, row_confidence, row_entropy};

/// Softmax response: `u = 1 − max_k softmax(z)_k`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SoftmaxResponse;

/// Predictive entropy: `u = −Σ_k p_k ln p_k`, `p = softmax(z)` (nats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entropy;

/// Writes `f(log softmax(z_i / T))` (computed in f64) for every row `z_i` into `u`.
pub(crate) fn per_row<D: Data<Elem = f32>>(
    logits: &ArrayBase<D, Ix2>,
    inv_t: f64,
    u: &mut Array1<f64>,
    f: impl Fn(&[f64]) -> f64,
) {
    let mut logp = vec![0.0; logits.ncols()];
    for (row, u) in logits.axis_iter(Axis(0)).zip(u.iter_mut()) {
        log_softmax(row, inv_t, &mut logp);
        *u = f(&logp);
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for SoftmaxResponse {
    fn predict_inplace(&self, logits: &ArrayBase<D, Ix2>, u: &mut Array1<f64>) {
        per_row(logits, 1.0, u, |lp| 1.0 - row_confidence(lp));
    }

    fn default_target(&self, logits: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(logits.nrows())
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Entropy {
    fn predict_inplace(&self, logits: &ArrayBase<D, Ix2>, u: &mut Array1<f64>) {
        per_row(logits, 1.0, u, row_entropy);
    }

    fn default_target(&self, logits: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(logits.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::LogitStats;
    use linfa::traits::Predict;
    use ndarray::array;

    #[test]
    fn agree_with_the_per_sample_statistics() {
        let z = array![[0.0f32, 1.0, -2.0], [5.0, 5.0, 5.0], [30.0, -30.0, 0.0]];
        let s = LogitStats::new(z.view(), array![1usize, 0, 2].view(), 1.0);
        let sr: Array1<f64> = SoftmaxResponse.predict(&z);
        let h: Array1<f64> = Entropy.predict(&z);
        assert_eq!(sr, s.softmax_response());
        assert_eq!(h, s.entropy);
        assert!((h[1] - 3f64.ln()).abs() < 1e-12);
        assert!((sr[1] - 2.0 / 3.0).abs() < 1e-12);
    }
}
