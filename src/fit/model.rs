//! The head as a differentiable function of a flat parameter vector θ, with a hand-derived
//! backward pass. Generic over `F` (f32 for training, f64 for the gradient checks).
//!
//! θ is cut into tensors by the head's [`HeadLayout`] ([`super::theta`]):
//! - linear: `W [C, D]`, then `b [C]` if the head has a bias;
//! - dense:  `W₁ [H, D]`, `b₁ [H]`, `W₂ [C, H]`, `b₂ [C]`.
//!
//! The element-wise and skinny-layer kernels are in [`super::kernels`].
//!
//! Training forward (HF `RobertaClassificationHead`): `x̃ = dropout(x)`,
//! `z₁ = x̃W₁ᵀ + b₁`, `a = act(z₁)`, `ã = dropout(a)`, `logits = ãW₂ᵀ + b₂`
//! (a linear head: `logits = x̃Wᵀ + b`). The dropout on the input is applied by the caller
//! (it gathers the batch); the hidden one is a `keep` matrix of `0` or `1/(1 − p)`.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, NdFloat};

use super::fastmath::TrainFloat;
use super::kernels::{
    column_sums_into, DenseActivation, DenseActivationGrad, LinearRows, LinearRowsGrad,
    RowsTimesMatrix,
};
use super::simd::dispatch;
use super::theta::Theta;
use crate::head::{HeadKind, HeadLayout};

/// Casts an f64 constant to `F` (exact for f64; nearest for f32, never out of range for the
/// values used here, which are activations of finite f32 inputs and hyperparameters).
pub(crate) fn cast<F: NdFloat>(v: f64) -> F {
    F::from(v).unwrap_or_else(F::nan)
}

/// Which pass a forward computation belongs to.
#[derive(Clone, Copy)]
pub(crate) enum Pass<'a, F> {
    /// Training: the vectorised activations of [`TrainFloat`] and, for a dense head, an
    /// optional hidden dropout `keep` matrix (`[rows, H]` of 0 or `1/(1 − p)`).
    Train(Option<ArrayView2<'a, F>>),
    /// Evaluation: exact activations, no dropout, bit-identical to [`Head::logits`].
    Eval,
}

/// Linear heads with at most this many classes train through the row kernels below rather
/// than a GEMM, whose packing of the `[B, D]` input would dominate such skinny products.
const ROW_KERNEL_MAX_CLASSES: usize = 16;

/// Preallocated buffers for one forward/backward pass of up to `capacity` rows, row-major.
pub(crate) struct Workspace<F> {
    capacity: usize,
    /// `z₁ [B, H]`, dense pre-activation.
    pre: Vec<F>,
    /// `a = act(z₁) [B, H]`.
    act: Vec<F>,
    /// `ã = a ⊙ keep [B, H]`, input of `out_proj`.
    hid: Vec<F>,
    /// `∂L/∂ã`, then `∂L/∂z₁` `[B, H]`.
    dhid: Vec<F>,
    /// `[B, C]` logits.
    logits: Vec<F>,
    /// `[B, C]` `∂L/∂logits`, written by the loss.
    dlogits: Vec<F>,
    /// Classes C.
    c: usize,
}

/// `buf[..rows·cols]` as a `[rows, cols]` matrix. Every caller passes a buffer made for at
/// least `rows` rows of `cols` (batches never exceed the capacity), so the shape always fits.
pub(crate) fn view<F>(buf: &[F], rows: usize, cols: usize) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized for rows")
}

/// Mutable counterpart of [`view`].
fn view_mut<F>(buf: &mut [F], rows: usize, cols: usize) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols]).expect("buffer sized for rows")
}

impl<F: NdFloat> Workspace<F> {
    /// Buffers for `arch` and batches of at most `capacity` rows.
    pub fn new(arch: &HeadLayout, capacity: usize) -> Self {
        let (h, c) = (arch.hidden_dim(), arch.num_classes());
        let z = |n| vec![F::zero(); capacity * n];
        Workspace {
            capacity,
            pre: z(h),
            act: z(h),
            hid: z(h),
            dhid: z(h),
            logits: z(c),
            dlogits: z(c),
            c,
        }
    }

    /// Largest batch the buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The first `rows` logits.
    pub fn logits(&self, rows: usize) -> ArrayView2<'_, F> {
        view(&self.logits, rows, self.c)
    }

    /// The first `rows` logits, and the buffer for their gradient.
    pub fn logits_and_grad(&mut self, rows: usize) -> (ArrayView2<'_, F>, ArrayViewMut2<'_, F>) {
        (
            view(&self.logits, rows, self.c),
            view_mut(&mut self.dlogits, rows, self.c),
        )
    }
}

/// Forward pass over `x` (`[rows, D]`, input dropout already applied, `rows` at most the
/// workspace capacity) into the workspace logits.
pub(crate) fn forward<F: TrainFloat>(
    arch: &HeadLayout,
    theta: &[F],
    x: ArrayView2<F>,
    pass: Pass<F>,
    ws: &mut Workspace<F>,
) {
    let rows = x.nrows();
    let p = arch.split(theta);
    let c = ws.c;
    match (arch.kind(), pass) {
        (HeadKind::Linear, Pass::Train(_)) if c <= ROW_KERNEL_MAX_CLASSES => {
            dispatch(LinearRows {
                x: x.view(),
                w: p.w1.view(),
                b: p.b1.as_ref().map(|b| b.view()),
                out: &mut ws.logits[..rows * c],
            });
        }
        (HeadKind::Linear, _) => {
            let mut logits = view_mut(&mut ws.logits, rows, c);
            general_mat_mul(F::one(), &x, &p.w1.t(), F::zero(), &mut logits);
            if let Some(b) = &p.b1 {
                logits += b;
            }
        }
        (HeadKind::Dense, pass) => {
            // A dense layout always has the activation after its first layer.
            let (Some(act), h) = (arch.activation(), arch.hidden_dim()) else {
                return;
            };
            general_mat_mul(
                F::one(),
                &x,
                &p.w1.t(),
                F::zero(),
                &mut view_mut(&mut ws.pre, rows, h),
            );
            let n = rows * h;
            let keep = match &pass {
                Pass::Train(Some(k)) => k.as_slice(),
                _ => None,
            };
            dispatch(DenseActivation {
                act,
                train: matches!(pass, Pass::Train(_)),
                bias: p.b1.as_ref().and_then(|b| b.as_slice()),
                keep,
                pre: &mut ws.pre[..n],
                act_out: &mut ws.act[..n],
                hid: &mut ws.hid[..n],
                h,
            });
            let Some(w2) = &p.w2 else { return };
            if matches!(pass, Pass::Train(_)) && c <= ROW_KERNEL_MAX_CLASSES {
                dispatch(LinearRows {
                    x: view(&ws.hid, rows, h),
                    w: w2.view(),
                    b: p.b2.as_ref().map(|b| b.view()),
                    out: &mut ws.logits[..rows * c],
                });
                return;
            }
            let mut logits = view_mut(&mut ws.logits, rows, c);
            general_mat_mul(
                F::one(),
                &view(&ws.hid, rows, h),
                &w2.t(),
                F::zero(),
                &mut logits,
            );
            if let Some(b) = &p.b2 {
                logits += b;
            }
        }
    }
}

/// Backward pass: from the logit gradient (set by the loss after a training [`forward`] on
/// the same `x` with the same `keep`) writes `∂L/∂θ` into `grad` (overwriting it).
///
/// Linear: `∂W = δᵀx̃`, `∂b = Σ_rows δ`. Dense: `∂W₂ = δᵀã`, `∂b₂ = Σ δ`,
/// `∂z₁ = (δW₂) ⊙ keep ⊙ act'(z₁)`, `∂W₁ = ∂z₁ᵀx̃`, `∂b₁ = Σ ∂z₁`.
pub(crate) fn backward<F: TrainFloat>(
    arch: &HeadLayout,
    theta: &[F],
    x: ArrayView2<F>,
    keep: Option<ArrayView2<F>>,
    ws: &mut Workspace<F>,
    grad: &mut [F],
) {
    let rows = x.nrows();
    let dlogits = view(&ws.dlogits, rows, ws.c);
    let g = arch.split_mut(grad);
    match arch.kind() {
        HeadKind::Linear if ws.c <= ROW_KERNEL_MAX_CLASSES => dispatch(LinearRowsGrad {
            x: x.view(),
            d: dlogits,
            gw: g.w1,
            gb: g.b1,
        }),
        HeadKind::Linear => {
            let mut gw = g.w1;
            general_mat_mul(F::one(), &dlogits.t(), &x, F::zero(), &mut gw);
            if let Some(mut gb) = g.b1 {
                column_sums_into(dlogits, &mut gb);
            }
        }
        HeadKind::Dense => {
            let (Some(act), h) = (arch.activation(), arch.hidden_dim()) else {
                return;
            };
            let p = arch.split(theta);
            let hid = view(&ws.hid, rows, h);
            if let (Some(mut gw2), Some(mut gb2), Some(w2)) = (g.w2, g.b2, p.w2) {
                let c = w2.nrows();
                if c <= ROW_KERNEL_MAX_CLASSES {
                    dispatch(LinearRowsGrad {
                        x: hid.view(),
                        d: dlogits.view(),
                        gw: gw2.view_mut(),
                        gb: Some(gb2.view_mut()),
                    });
                    dispatch(RowsTimesMatrix {
                        d: dlogits.view(),
                        w: w2.view(),
                        out: &mut ws.dhid[..rows * h],
                    });
                } else {
                    general_mat_mul(F::one(), &dlogits.t(), &hid, F::zero(), &mut gw2);
                    column_sums_into(dlogits, &mut gb2);
                    general_mat_mul(
                        F::one(),
                        &dlogits,
                        &w2,
                        F::zero(),
                        &mut view_mut(&mut ws.dhid, rows, h),
                    );
                }
                let n = rows * h;
                let mut gb1 = g.b1;
                dispatch(DenseActivationGrad {
                    act,
                    pre: &ws.pre[..n],
                    act_out: &ws.act[..n],
                    keep: keep.as_ref().and_then(|k| k.as_slice()),
                    dz: &mut ws.dhid[..n],
                    db: gb1.as_mut().and_then(|b| b.as_slice_mut()),
                    h,
                });
                let mut gw1 = g.w1;
                general_mat_mul(
                    F::one(),
                    &view(&ws.dhid, rows, h).t(),
                    &x,
                    F::zero(),
                    &mut gw1,
                );
            }
        }
    }
}
