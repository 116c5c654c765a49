//! The AdUE uncertainty `U = clamp(scale·(1 − SmoothMax_λ(p)), eps, 1 − eps)`.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Everything needed to turn probabilities into AdUE's `U` (CONTRACT §6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UeSpec {
    /// Sharpness λ of SmoothMax (100 in the paper).
    pub lambda: f64,
    /// 1, or `1/(1 − 1/C)` in the authors' later code, which stretches `U` to `[0, 1]`.
    pub scale: f64,
    /// Clamp margin: `U ∈ [eps, 1 − eps]` keeps the BCE finite.
    pub eps: f64,
}

impl UeSpec {
    /// The paper's setting: λ = 100, no rescaling, eps = 1e-7.
    pub fn paper() -> Self {
        UeSpec {
            lambda: 100.0,
            scale: 1.0,
            eps: 1e-7,
        }
    }
}

/// Row-wise softmax in f32 with the usual max shift.
pub fn softmax_rows(logits: ArrayView2<f32>) -> Array2<f32> {
    let mut p = logits.to_owned();
    for mut row in p.axis_iter_mut(Axis(0)) {
        let m = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    p
}

/// `U` for one row of probabilities, computed in f64.
///
/// `SmoothMax_λ(p) = (1/λ) log Σ exp(λ p_i)` is evaluated max-shifted,
/// `m + (1/λ) log Σ exp(λ (p_i − m))` with `m = max p`, so λ = 100 cannot overflow.
pub fn uncertainty_from_probs(p: ArrayView1<f32>, spec: &UeSpec) -> f32 {
    let m = p.fold(f64::NEG_INFINITY, |a, &b| a.max(f64::from(b)));
    let s: f64 = p
        .iter()
        .map(|&v| (spec.lambda * (f64::from(v) - m)).exp())
        .sum();
    let smooth_max = m + s.ln() / spec.lambda;
    let u = spec.scale * (1.0 - smooth_max);
    u.clamp(spec.eps, 1.0 - spec.eps) as f32
}
