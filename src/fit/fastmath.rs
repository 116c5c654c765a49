//! Activations for the training forward pass, written so that the compiler vectorises them.
//!
//! libm's scalar `tanhf` took a quarter of a dense head's training step. In f32 the
//! activations below are branch-free polynomial evaluations (a few ulps from the libm
//! values, see the tests); in f64 (the gradient checks) they are the exact functions.
//! Evaluation (the validation score of an epoch, the written head) keeps the exact
//! [`Activation::apply`](crate::head::Activation::apply), so it matches `Head` bit for bit.

use ndarray::NdFloat;

use crate::head::gelu;

/// A float type with the training-time activations.
pub(crate) trait TrainFloat: NdFloat {
    /// `tanh(x)`.
    fn train_tanh(self) -> Self;
    /// Exact (erf) GELU.
    fn train_gelu(self) -> Self;
    /// `GELU'(x) = Φ(x) + x·φ(x)`.
    fn train_gelu_grad(self) -> Self;
}

const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

impl TrainFloat for f64 {
    fn train_tanh(self) -> f64 {
        self.tanh()
    }
    fn train_gelu(self) -> f64 {
        gelu(self)
    }
    fn train_gelu_grad(self) -> f64 {
        let cdf = 0.5 * (1.0 + libm::erf(self * std::f64::consts::FRAC_1_SQRT_2));
        cdf + self * (-0.5 * self * self).exp() * FRAC_1_SQRT_2PI
    }
}

impl TrainFloat for f32 {
    fn train_tanh(self) -> f32 {
        tanh(self)
    }
    fn train_gelu(self) -> f32 {
        0.5 * self * (1.0 + erf(self * std::f32::consts::FRAC_1_SQRT_2))
    }
    fn train_gelu_grad(self) -> f32 {
        let cdf = 0.5 * (1.0 + erf(self * std::f32::consts::FRAC_1_SQRT_2));
        cdf + self * exp_neg(0.5 * self * self) * FRAC_1_SQRT_2PI as f32
    }
}

/// `eʸ` for `0 ≤ y ≤ 88` (clamped there): `y = k ln2 + r`, `|r| ≤ ln2/2`, `eʸ = 2ᵏ·P(r)`
/// with Cephes' degree-7 minimax polynomial for `eʳ` (relative error ~1e-7).
#[inline(always)]
fn exp_nonneg(y: f32) -> f32 {
    let y = y.clamp(0.0, 88.0);
    // floor(y·log2(e) + ½) for a non-negative argument: truncation is floor.
    let k = (y * std::f32::consts::LOG2_E + 0.5) as i32;
    let kf = k as f32;
    // ln 2 split in two so that k·C1 is exact.
    let r = y - kf * 0.693_359_4 + kf * 2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let er = p * r * r + r + 1.0;
    // 2ᵏ from its exponent bits; 0 ≤ k ≤ 127 here.
    er * f32::from_bits(((k + 127) as u32) << 23)
}

/// `e⁻ʸ` for `y ≥ 0`.
#[inline(always)]
fn exp_neg(y: f32) -> f32 {
    1.0 / exp_nonneg(y)
}

/// `tanh x`: an odd polynomial (Cephes `tanhf`) below |x| = 0.625, `1 − 2/(e²ˣ + 1)` above.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    let ax = x.abs();
    let z = x * x;
    let small = x + x
        * z
        * ((((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_6e-2) * z + 0.133_314_42) * z
            - 0.333_332_8);
    let large = (1.0 - 2.0 / (exp_nonneg(2.0 * ax.min(9.0)) + 1.0)).copysign(x);
    if ax < 0.625 {
        small
    } else {
        large
    }
}

/// `erf x` (Abramowitz & Stegun 7.1.26, absolute error ≤ 1.5e-7), odd-extended.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let ax = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * ax);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_74) * t
        + 0.254_829_6)
        * t;
    (1.0 - poly * exp_neg(ax * ax)).copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 97th f32 in [-12, 12] (about 1e7 values, including tiny and subnormal ones).
    fn grid() -> impl Iterator<Item = f32> {
        let lo = (-12.0f32).to_bits();
        let hi = 12.0f32.to_bits();
        (0..hi)
            .step_by(97)
            .map(f32::from_bits)
            .chain((0x8000_0000..lo).step_by(97).map(f32::from_bits))
    }

    #[test]
    fn tanh_is_within_a_few_ulps() {
        let worst = grid()
            .map(|x| {
                let exact = f64::from(x).tanh();
                (f64::from(tanh(x)) - exact).abs() / exact.abs().max(f64::from(f32::MIN_POSITIVE))
            })
            .fold(0.0, f64::max);
        // f32 epsilon is 1.19e-7: about 2 ulps (observed 1.33e-7).
        assert!(worst < 2.5e-7, "max relative error {worst:e}");
    }

    #[test]
    fn gelu_and_its_derivative_are_close_to_f64() {
        let (mut worst, mut worst_grad) = (0.0f64, 0.0f64);
        for x in grid() {
            let e = f64::from(x);
            worst = worst.max((f64::from(x.train_gelu()) - e.train_gelu()).abs() / (1.0 + e.abs()));
            worst_grad =
                worst_grad.max((f64::from(x.train_gelu_grad()) - e.train_gelu_grad()).abs());
        }
        // A&S 7.1.26: |erf error| ≤ 1.5e-7, so |GELU error| ≤ ½|x|·1.5e-7 plus f32 rounding.
        assert!(worst < 2e-7, "GELU: {worst:e}");
        assert!(worst_grad < 5e-7, "GELU': {worst_grad:e}");
    }

    #[test]
    fn f64_gelu_grad_is_the_derivative() {
        for x in [-3.0, -0.7, 0.0, 0.4, 2.5] {
            let h = 1e-6;
            let fd = (gelu(x + h) - gelu(x - h)) / (2.0 * h);
            assert!((fd - x.train_gelu_grad()).abs() < 1e-9, "{x}");
        }
    }
}
