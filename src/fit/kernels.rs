//! The element-wise and skinny-layer kernels of the training pass, dispatched at run time to
//! AVX-512/AVX2 builds ([`super::simd`]). Each gives the same bits on every instruction set:
//! fixed summation orders, no fused multiply-add.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, NdFloat};

use super::fastmath::TrainFloat;
use super::model::cast;
use super::simd::Kernel;
use crate::head::{gelu, Activation};

/// The exact activation, as [`Activation::apply`] computes it in f32 (used for evaluation).
pub(super) fn activate<F: NdFloat>(act: Activation, z: F) -> F {
    match act {
        Activation::Tanh => z.tanh(),
        Activation::Gelu => cast(gelu(z.to_f64().unwrap_or(f64::NAN))),
    }
}

/// `out[j] = Σ_i m[i, j]` without allocating.
pub(super) fn column_sums_into<F: NdFloat>(m: ArrayView2<F>, out: &mut ArrayViewMut1<F>) {
    out.fill(F::zero());
    for row in m.rows() {
        *out += &row;
    }
}

/// Lanes of the row kernels' dot products (a fixed summation order on every CPU).
const DOT_LANES: usize = 16;

/// `Σ_j x_j y_j` accumulated in [`DOT_LANES`] interleaved partial sums, then summed in lane
/// order, then the tail.
#[inline(always)]
fn dot<F: NdFloat>(x: &[F], y: &[F]) -> F {
    let mut acc = [F::zero(); DOT_LANES];
    let (xc, yc) = (x.chunks_exact(DOT_LANES), y.chunks_exact(DOT_LANES));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for l in 0..DOT_LANES {
            acc[l] += a[l] * b[l];
        }
    }
    let mut s = acc.iter().fold(F::zero(), |s, &v| s + v);
    for (&a, &b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

/// Training forward of a skinny linear head: `out[i, c] = x_i · W_c (+ b_c)`.
pub(super) struct LinearRows<'a, F> {
    pub(super) x: ArrayView2<'a, F>,
    pub(super) w: ArrayView2<'a, F>,
    pub(super) b: Option<ArrayView1<'a, F>>,
    pub(super) out: &'a mut [F],
}

impl<F: NdFloat> Kernel for LinearRows<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let c = self.w.nrows();
        for (xi, out) in self.x.rows().into_iter().zip(self.out.chunks_exact_mut(c)) {
            for (k, o) in out.iter_mut().enumerate() {
                let wk = self.w.row(k);
                *o = match (xi.as_slice(), wk.as_slice()) {
                    (Some(a), Some(b)) => dot(a, b),
                    _ => xi.dot(&wk),
                };
                if let Some(b) = &self.b {
                    *o += b[k];
                }
            }
        }
    }
}

/// Training backward of a skinny linear head: `∂W_c = Σ_i δ_ic x_i` (rows in order),
/// `∂b = Σ_i δ_i`.
pub(super) struct LinearRowsGrad<'a, F> {
    pub(super) x: ArrayView2<'a, F>,
    pub(super) d: ArrayView2<'a, F>,
    pub(super) gw: ArrayViewMut2<'a, F>,
    pub(super) gb: Option<ArrayViewMut1<'a, F>>,
}

impl<F: NdFloat> Kernel for LinearRowsGrad<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let LinearRowsGrad { x, d, mut gw, gb } = self;
        gw.fill(F::zero());
        for (xi, di) in x.rows().into_iter().zip(d.rows()) {
            for (mut g, &dk) in gw.rows_mut().into_iter().zip(di) {
                match (g.as_slice_mut(), xi.as_slice()) {
                    (Some(g), Some(xs)) => {
                        g.iter_mut().zip(xs).for_each(|(g, &v)| *g += dk * v);
                    }
                    (_, _) => g.zip_mut_with(&xi, |g, &v| *g += dk * v),
                }
            }
        }
        if let Some(mut gb) = gb {
            column_sums_into(d, &mut gb);
        }
    }
}

/// `out_i = Σ_c d_ic W_c` (`[rows, H]`), the gradient flowing back through a skinny layer;
/// classes in order for every row.
pub(super) struct RowsTimesMatrix<'a, F> {
    pub(super) d: ArrayView2<'a, F>,
    pub(super) w: ArrayView2<'a, F>,
    pub(super) out: &'a mut [F],
}

impl<F: NdFloat> Kernel for RowsTimesMatrix<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let h = self.w.ncols();
        for (di, out) in self.d.rows().into_iter().zip(self.out.chunks_exact_mut(h)) {
            out.fill(F::zero());
            for (&dk, wk) in di.iter().zip(self.w.rows()) {
                match wk.as_slice() {
                    Some(wk) => out.iter_mut().zip(wk).for_each(|(o, &v)| *o += dk * v),
                    None => out
                        .iter_mut()
                        .zip(wk.iter())
                        .for_each(|(o, &v)| *o += dk * v),
                }
            }
        }
    }
}

/// Dense head, after `z₁ = x̃W₁ᵀ`: `z₁ += b₁`, `a = act(z₁)`, `ã = a ⊙ keep` (all
/// `[rows, H]`, row-major). `train` picks the vectorised activations, else the exact ones.
pub(super) struct DenseActivation<'a, F> {
    pub(super) act: Activation,
    pub(super) train: bool,
    pub(super) bias: Option<&'a [F]>,
    pub(super) keep: Option<&'a [F]>,
    pub(super) pre: &'a mut [F],
    pub(super) act_out: &'a mut [F],
    pub(super) hid: &'a mut [F],
    pub(super) h: usize,
}

impl<F: TrainFloat> Kernel for DenseActivation<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let DenseActivation {
            act,
            train,
            bias,
            keep,
            pre,
            act_out,
            hid,
            h,
        } = self;
        if let Some(b) = bias {
            for row in pre.chunks_exact_mut(h) {
                row.iter_mut().zip(b).for_each(|(z, &b)| *z += b);
            }
        }
        let a = act_out.iter_mut().zip(&*pre);
        match (train, act) {
            (false, _) => a.for_each(|(a, &z)| *a = activate(act, z)),
            (true, Activation::Tanh) => a.for_each(|(a, &z)| *a = z.train_tanh()),
            (true, Activation::Gelu) => a.for_each(|(a, &z)| *a = z.train_gelu()),
        }
        match keep {
            Some(k) => hid
                .iter_mut()
                .zip(&*act_out)
                .zip(k)
                .for_each(|((h, &a), &k)| *h = a * k),
            None => hid.copy_from_slice(act_out),
        }
    }
}

/// Dense head backward through the activation: `∂z₁ = ∂ã ⊙ keep ⊙ act'(z₁)` and
/// `∂b₁ = Σ_rows ∂z₁`.
pub(super) struct DenseActivationGrad<'a, F> {
    pub(super) act: Activation,
    pub(super) pre: &'a [F],
    pub(super) act_out: &'a [F],
    pub(super) keep: Option<&'a [F]>,
    pub(super) dz: &'a mut [F],
    pub(super) db: Option<&'a mut [F]>,
    pub(super) h: usize,
}

impl<F: TrainFloat> Kernel for DenseActivationGrad<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let DenseActivationGrad {
            act,
            pre,
            act_out,
            keep,
            dz,
            db,
            h,
        } = self;
        let grad = |z: F, a: F| match act {
            Activation::Tanh => F::one() - a * a,
            Activation::Gelu => z.train_gelu_grad(),
        };
        match keep {
            Some(k) => dz
                .iter_mut()
                .zip(pre.iter().zip(act_out))
                .zip(k)
                .for_each(|((d, (&z, &a)), &k)| *d *= k * grad(z, a)),
            None => dz
                .iter_mut()
                .zip(pre.iter().zip(act_out))
                .for_each(|(d, (&z, &a))| *d *= grad(z, a)),
        }
        if let Some(db) = db {
            db.fill(F::zero());
            for row in dz.chunks_exact(h) {
                db.iter_mut().zip(row).for_each(|(b, &v)| *b += v);
            }
        }
    }
}
