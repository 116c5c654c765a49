//! Merging LoRA factors into a head layer.
//!
//! A LoRA layer computes `y = x Wᵀ + s · (x Aᵀ) Bᵀ (+ s · b_B)` with `A` `[r, in]`,
//! `B` `[out, r]` and scaling `s = α / r`, or `s = α / √r` with rsLoRA (Kalajdzievski 2023).
//! Merging folds it into one linear layer: `W ← W + s · B A`, `b ← b + s · b_B`.

use ndarray::{Array1, Array2};
use serde::Serialize;

/// What was merged into one head layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoraModuleMerge {
    /// Canonical module name, e.g. `score` or `classifier.dense`.
    pub module: String,
    /// Key of `A`.
    pub lora_a: String,
    /// Key of `B`.
    pub lora_b: String,
    /// Key of `B`'s bias, when the adapter has one (`lora_bias`).
    pub lora_b_bias: Option<String>,
    /// Rank `r` (rows of `A`).
    pub rank: usize,
    /// `lora_alpha` for this module (after `alpha_pattern`).
    pub alpha: f64,
    /// Whether the rsLoRA scaling `α / √r` was used.
    pub rslora: bool,
    /// The scaling `s` applied.
    pub scaling: f64,
    /// `max |s · B A|`: how much the merge changed the weight.
    pub max_abs_delta: f32,
}

/// Every LoRA merge performed while reading the head.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoraMerge {
    /// One entry per head layer that carried LoRA factors.
    pub modules: Vec<LoraModuleMerge>,
}

/// `α / r`, or `α / √r` with rsLoRA.
pub fn lora_scaling(alpha: f64, rank: usize, rslora: bool) -> f64 {
    let r = rank as f64;
    if rslora {
        alpha / r.sqrt()
    } else {
        alpha / r
    }
}

/// `W += s · B A` and, with `b_B`, `b += s · b_B` (creating `b` when the layer had none).
/// Shapes must already agree: `A` `[r, in]`, `B` `[out, r]`, `W` `[out, in]`, `b_B` `[out]`.
/// Returns `max |s · B A|`.
pub(crate) fn merge_into(
    weight: &mut Array2<f32>,
    bias: &mut Option<Array1<f32>>,
    a: &Array2<f32>,
    b: &Array2<f32>,
    b_bias: Option<&Array1<f32>>,
    scaling: f64,
) -> f32 {
    let s = scaling as f32;
    let delta = b.dot(a) * s;
    let max_abs_delta = delta.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    *weight += &delta;
    if let Some(bb) = b_bias {
        let add = bb * s;
        match bias {
            Some(x) => *x += &add,
            None => *bias = Some(add),
        }
    }
    max_abs_delta
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn scaling_follows_peft() {
        assert_eq!(lora_scaling(16.0, 8, false), 2.0);
        assert_eq!(lora_scaling(16.0, 4, true), 8.0);
    }

    #[test]
    fn merge_adds_scaled_product() {
        let mut w = array![[1.0f32, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let a = array![[1.0f32, 2.0, 3.0]]; // r = 1
        let b = array![[1.0f32], [-2.0]];
        let mut bias = None;
        let d = merge_into(&mut w, &mut bias, &a, &b, Some(&array![1.0f32, 2.0]), 0.5);
        // B A = [[1, 2, 3], [-2, -4, -6]], times 0.5.
        assert_eq!(w, array![[1.5f32, 1.0, 1.5], [-1.0, -1.0, -3.0]]);
        assert_eq!(bias, Some(array![0.5f32, 1.0]));
        assert_eq!(d, 3.0);
    }
}
