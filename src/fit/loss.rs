//! The AdUE training loss (arXiv 2505.15443, Eq. 3–5) and its gradient with respect to the
//! logits.
//!
//! Per row: `p = softmax(z)`, `S = SmoothMax_λ(p) = (1/λ) log Σ exp(λ p_i)`,
//! `U = clamp(scale·(1 − S), eps, 1 − eps)`;
//! `L = w_bce · mean BCE(U, e) + α · mean (U − U_SR)² + β · Σ‖θ − θ₀‖²`.
//! The last (L2-SP) term lives in parameter space: [`l2sp_into`].

use ndarray::{ArrayView2, ArrayViewMut2, NdFloat};

use super::model::cast;
use super::simd::{dispatch, Kernel};
use crate::head::UeSpec;

/// [`UeSpec`] and the data-term weights, converted to `F` once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LossSpec<F> {
    lambda: F,
    scale: F,
    eps: F,
    /// Weight of the BCE term (1 in training; 0 isolates the other terms in the gradient checks).
    bce: F,
    /// α.
    alpha: F,
}

impl<F: NdFloat> LossSpec<F> {
    /// The loss of `spec` with BCE weight `bce` and alignment weight `alpha`.
    pub fn new(spec: &UeSpec, bce: f64, alpha: f64) -> Self {
        LossSpec {
            lambda: cast(spec.lambda),
            scale: cast(spec.scale),
            eps: cast(spec.eps),
            bce: cast(bce),
            alpha: cast(alpha),
        }
    }
}

/// Row sums of the two data terms of a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DataTerms<F> {
    /// `Σ_rows BCE(U, e)`.
    pub bce: F,
    /// `Σ_rows (U − U_SR)²`.
    pub align: F,
}

/// Evaluates the data terms of `logits` (`[B, C]`) against the targets `e` and `u_sr`, and
/// writes `∂(w_bce·mean BCE + α·mean align)/∂logits` into `dlogits` (`[B, C]`).
///
/// Backward chain (per row, `g = ∂L/∂U`):
/// `∂U/∂S = −scale` inside the clamp, 0 outside (PyTorch's clamp passes the gradient at the
/// bounds); `∂S/∂p_i = softmax(λp)_i`; `∂L/∂z_j = p_j (g_j − Σ_i p_i g_i)` with `g_i = ∂L/∂p_i`.
pub(crate) fn data_terms<F: NdFloat>(
    logits: ArrayView2<F>,
    e: &[F],
    u_sr: &[F],
    spec: &LossSpec<F>,
    mut dlogits: ArrayViewMut2<F>,
) -> DataTerms<F> {
    let rows = logits.nrows();
    let inv_rows = F::one() / cast::<F>(rows as f64);
    let two = cast::<F>(2.0);
    let (one, zero) = (F::one(), F::zero());
    let mut sums = DataTerms {
        bce: zero,
        align: zero,
    };
    for (r, (z, mut d)) in logits
        .rows()
        .into_iter()
        .zip(dlogits.rows_mut())
        .enumerate()
    {
        // p = softmax(z), max-shifted; stored in `d` until the gradient overwrites it.
        let zmax = z.fold(F::neg_infinity(), |m, &v| m.max(v));
        let mut zsum = zero;
        d.zip_mut_with(&z, |p, &v| {
            *p = (v - zmax).exp();
            zsum += *p;
        });
        d.mapv_inplace(|p| p / zsum);
        // SmoothMax with the max shift: S = m + (1/λ) log Σ exp(λ(p_i − m)), λ = 100 is safe.
        let pmax = d.fold(F::neg_infinity(), |m, &v| m.max(v));
        let qsum = d.fold(zero, |s, &p| s + (spec.lambda * (p - pmax)).exp());
        let smooth = pmax + qsum.ln() / spec.lambda;
        let raw = spec.scale * (one - smooth);
        let u = raw.max(spec.eps).min(one - spec.eps);
        let (er, sr) = (e[r], u_sr[r]);
        sums.bce += -(er * u.ln() + (one - er) * (one - u).ln());
        sums.align += (u - sr) * (u - sr);
        // ∂L/∂U of the mean terms; zero where the clamp is active.
        let inside = raw >= spec.eps && raw <= one - spec.eps;
        let du = if inside {
            (spec.bce * (u - er) / (u * (one - u)) + spec.alpha * two * (u - sr)) * inv_rows
        } else {
            zero
        };
        let ds = -spec.scale * du;
        // g_i = ∂L/∂p_i = ds · exp(λ(p_i − m)) / Σ; then the softmax Jacobian.
        let mut pg = zero;
        let g = |p: F| ds * (spec.lambda * (p - pmax)).exp() / qsum;
        d.for_each(|&p| pg += p * g(p));
        d.mapv_inplace(|p| p * (g(p) - pg));
    }
    sums
}

/// The L2-SP term: adds `2β(θ − θ₀)` to `grad` and returns `Σ(θ − θ₀)²` (its value before β),
/// summed in 16 interleaved partial sums so that the loop vectorises.
pub(crate) fn l2sp_into<F: NdFloat>(grad: &mut [F], theta: &[F], theta0: &[F], beta: F) -> F {
    dispatch(L2sp {
        grad,
        theta,
        theta0,
        two_beta: beta + beta,
    })
}

struct L2sp<'a, F> {
    grad: &'a mut [F],
    theta: &'a [F],
    theta0: &'a [F],
    two_beta: F,
}

impl<F: NdFloat> Kernel for L2sp<'_, F> {
    type Output = F;
    #[inline(always)]
    fn run(self) -> F {
        const LANES: usize = 16;
        let L2sp {
            grad,
            theta,
            theta0,
            two_beta,
        } = self;
        let mut acc = [F::zero(); LANES];
        let mut g = grad.chunks_exact_mut(LANES);
        let mut t = theta.chunks_exact(LANES);
        let mut t0 = theta0.chunks_exact(LANES);
        for ((g, t), t0) in (&mut g).zip(&mut t).zip(&mut t0) {
            for l in 0..LANES {
                let diff = t[l] - t0[l];
                g[l] += two_beta * diff;
                acc[l] += diff * diff;
            }
        }
        let mut sum = acc.iter().fold(F::zero(), |s, &v| s + v);
        let rest = g
            .into_remainder()
            .iter_mut()
            .zip(t.remainder())
            .zip(t0.remainder());
        for ((g, &t), &t0) in rest {
            let diff = t - t0;
            *g += two_beta * diff;
            sum += diff * diff;
        }
        sum
    }
}
