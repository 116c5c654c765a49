//! The head as a differentiable function of a flat parameter vector θ, with a hand-derived
//! backward pass. Generic over `F` (f32 for training, f64 for the gradient checks).
//!
//! Layout of θ (row-major, PyTorch's `[out, in]` weights):
//! - linear: `W [C, D]`, then `b [C]` if the head has a bias;
//! - dense:  `W₁ [H, D]`, `b₁ [H]`, `W₂ [C, H]`, `b₂ [C]`.
//!
//! Training forward (HF `RobertaClassificationHead`): `x̃ = dropout(x)`,
//! `z₁ = x̃W₁ᵀ + b₁`, `a = act(z₁)`, `ã = dropout(a)`, `logits = ãW₂ᵀ + b₂`
//! (a linear head: `logits = x̃Wᵀ + b`). The dropout on the input is applied by the caller
//! (it gathers the batch); the hidden one is a `keep` matrix of `0` or `1/(1 − p)`.

use ndarray::linalg::general_mat_mul;
use ndarray::NdFloat;

use super::fastmath::TrainFloat;
use super::simd::{dispatch, Kernel};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::head::{gelu, Activation, Head};

/// Casts an f64 constant to `F` (exact for f64; nearest for f32, never out of range for the
/// values used here, which are activations of finite f32 inputs and hyperparameters).
pub(crate) fn cast<F: NdFloat>(v: f64) -> F {
    F::from(v).unwrap_or_else(F::nan)
}

/// Shape of a trainable head: everything needed to interpret θ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arch {
    /// `logits = xWᵀ (+ b)`.
    Linear {
        /// Input width D.
        d: usize,
        /// Classes C.
        c: usize,
        /// Whether θ holds a bias.
        bias: bool,
    },
    /// `logits = act(xW₁ᵀ + b₁)W₂ᵀ + b₂`.
    Dense {
        /// Input width D.
        d: usize,
        /// Hidden width H.
        h: usize,
        /// Classes C.
        c: usize,
        /// The non-linearity.
        act: Activation,
    },
}

/// Borrowed parameter tensors of one θ (or of one gradient vector).
pub(crate) struct Parts<W, B> {
    /// `W` (linear) or `W₁` (dense).
    pub w1: W,
    /// `b` (linear, if any) or `b₁` (dense).
    pub b1: Option<B>,
    /// `W₂` (dense only).
    pub w2: Option<W>,
    /// `b₂` (dense only).
    pub b2: Option<B>,
}

impl Arch {
    /// The architecture of `head`.
    pub fn of(head: &Head) -> Arch {
        match head {
            Head::Linear { weight, bias } => Arch::Linear {
                d: weight.ncols(),
                c: weight.nrows(),
                bias: bias.is_some(),
            },
            Head::Dense {
                dense_weight,
                activation,
                out_weight,
                ..
            } => Arch::Dense {
                d: dense_weight.ncols(),
                h: dense_weight.nrows(),
                c: out_weight.nrows(),
                act: *activation,
            },
        }
    }

    /// Input width D.
    pub fn input_dim(&self) -> usize {
        match *self {
            Arch::Linear { d, .. } | Arch::Dense { d, .. } => d,
        }
    }

    /// Number of classes C.
    pub fn num_classes(&self) -> usize {
        match *self {
            Arch::Linear { c, .. } | Arch::Dense { c, .. } => c,
        }
    }

    /// Hidden width H (0 for a linear head).
    pub fn hidden_dim(&self) -> usize {
        match *self {
            Arch::Linear { .. } => 0,
            Arch::Dense { h, .. } => h,
        }
    }

    /// Length of θ.
    pub fn num_params(&self) -> usize {
        match *self {
            Arch::Linear { d, c, bias } => c * d + if bias { c } else { 0 },
            Arch::Dense { d, h, c, .. } => h * d + h + c * h + c,
        }
    }

    /// `(rows, cols)` of `w1`, length of `b1`, `(rows, cols)` of `w2`, length of `b2`
    /// (zeros where a tensor is absent).
    fn sizes(&self) -> ((usize, usize), usize, (usize, usize), usize) {
        match *self {
            Arch::Linear { d, c, bias } => ((c, d), if bias { c } else { 0 }, (0, 0), 0),
            Arch::Dense { d, h, c, .. } => ((h, d), h, (c, h), c),
        }
    }

    /// Views of θ as tensors. `theta.len()` must be [`Arch::num_params`].
    pub fn split<'a, F: NdFloat>(
        &self,
        theta: &'a [F],
    ) -> Parts<ArrayView2<'a, F>, ArrayView1<'a, F>> {
        let (w1s, b1n, w2s, b2n) = self.sizes();
        let (w1, rest) = theta.split_at(w1s.0 * w1s.1);
        let (b1, rest) = rest.split_at(b1n);
        let (w2, b2) = rest.split_at(w2s.0 * w2s.1);
        // The lengths were cut to exactly these shapes just above.
        let view2 = |d: &'a [F], sh| ArrayView2::from_shape(sh, d).expect("length matches shape");
        Parts {
            w1: view2(w1, w1s),
            b1: (b1n > 0).then(|| ArrayView1::from(b1)),
            w2: (w2s.0 > 0).then(|| view2(w2, w2s)),
            b2: (b2n > 0).then(|| ArrayView1::from(&b2[..b2n])),
        }
    }

    /// Mutable views of a gradient (or θ) vector as tensors.
    pub fn split_mut<'a, F: NdFloat>(
        &self,
        theta: &'a mut [F],
    ) -> Parts<ArrayViewMut2<'a, F>, ArrayViewMut1<'a, F>> {
        let (w1s, b1n, w2s, b2n) = self.sizes();
        let (w1, rest) = theta.split_at_mut(w1s.0 * w1s.1);
        let (b1, rest) = rest.split_at_mut(b1n);
        let (w2, b2) = rest.split_at_mut(w2s.0 * w2s.1);
        // The lengths were cut to exactly these shapes just above.
        let view2 =
            |d: &'a mut [F], sh| ArrayViewMut2::from_shape(sh, d).expect("length matches shape");
        Parts {
            w1: view2(w1, w1s),
            b1: (b1n > 0).then(|| ArrayViewMut1::from(b1)),
            w2: (w2s.0 > 0).then(|| view2(w2, w2s)),
            b2: (b2n > 0).then(|| ArrayViewMut1::from(&mut b2[..b2n])),
        }
    }

    /// θ₀: the head's weights flattened in the layout above.
    pub fn flatten<F: NdFloat>(head: &Head) -> Vec<F> {
        let to_f = |a: &[f32]| {
            a.iter()
                .map(|&v| cast::<F>(f64::from(v)))
                .collect::<Vec<F>>()
        };
        let mut out = Vec::with_capacity(Arch::of(head).num_params());
        let mut push = |a: ArrayView1<f32>| out.extend(to_f(&a.to_vec()));
        match head {
            Head::Linear { weight, bias } => {
                weight.rows().into_iter().for_each(&mut push);
                if let Some(b) = bias {
                    push(b.view());
                }
            }
            Head::Dense {
                dense_weight,
                dense_bias,
                out_weight,
                out_bias,
                ..
            } => {
                dense_weight.rows().into_iter().for_each(&mut push);
                push(dense_bias.view());
                out_weight.rows().into_iter().for_each(&mut push);
                push(out_bias.view());
            }
        }
        out
    }

    /// The [`Head`] whose weights are θ.
    pub fn head_from(&self, theta: &[f32]) -> Head {
        let p = self.split(theta);
        match *self {
            Arch::Linear { .. } => Head::Linear {
                weight: p.w1.to_owned(),
                bias: p.b1.map(|b| b.to_owned()),
            },
            Arch::Dense { act, h, c, .. } => Head::Dense {
                dense_weight: p.w1.to_owned(),
                dense_bias: p.b1.map_or_else(|| Array1::zeros(h), |b| b.to_owned()),
                activation: act,
                out_weight: p.w2.map_or_else(|| Array2::zeros((c, h)), |w| w.to_owned()),
                out_bias: p.b2.map_or_else(|| Array1::zeros(c), |b| b.to_owned()),
            },
        }
    }
}

/// The exact activation, as [`Activation::apply`] computes it in f32 (used for evaluation).
fn activate<F: NdFloat>(act: Activation, z: F) -> F {
    match act {
        Activation::Tanh => z.tanh(),
        Activation::Gelu => cast(gelu(z.to_f64().unwrap_or(f64::NAN))),
    }
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

/// `buf[..rows·cols]` as a `[rows, cols]` matrix. Callers keep `rows` within the capacity the
/// buffer was made for, so the length always matches.
fn view<F>(buf: &[F], rows: usize, cols: usize) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized for rows")
}

/// Mutable counterpart of [`view`].
fn view_mut<F>(buf: &mut [F], rows: usize, cols: usize) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols]).expect("buffer sized for rows")
}

impl<F: NdFloat> Workspace<F> {
    /// Buffers for `arch` and batches of at most `capacity` rows.
    pub fn new(arch: &Arch, capacity: usize) -> Self {
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
    arch: &Arch,
    theta: &[F],
    x: ArrayView2<F>,
    pass: Pass<F>,
    ws: &mut Workspace<F>,
) {
    let rows = x.nrows();
    let p = arch.split(theta);
    let c = ws.c;
    match (*arch, pass) {
        (Arch::Linear { c, .. }, Pass::Train(_)) if c <= ROW_KERNEL_MAX_CLASSES => {
            dispatch(LinearRows {
                x: x.view(),
                w: p.w1.view(),
                b: p.b1.as_ref().map(|b| b.view()),
                out: &mut ws.logits[..rows * c],
            });
        }
        (Arch::Linear { .. }, _) => {
            let mut logits = view_mut(&mut ws.logits, rows, c);
            general_mat_mul(F::one(), &x, &p.w1.t(), F::zero(), &mut logits);
            if let Some(b) = &p.b1 {
                logits += b;
            }
        }
        (Arch::Dense { act, h, .. }, pass) => {
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
    arch: &Arch,
    theta: &[F],
    x: ArrayView2<F>,
    keep: Option<ArrayView2<F>>,
    ws: &mut Workspace<F>,
    grad: &mut [F],
) {
    let rows = x.nrows();
    let dlogits = view(&ws.dlogits, rows, ws.c);
    let g = arch.split_mut(grad);
    match *arch {
        Arch::Linear { c, .. } if c <= ROW_KERNEL_MAX_CLASSES => dispatch(LinearRowsGrad {
            x: x.view(),
            d: dlogits,
            gw: g.w1,
            gb: g.b1,
        }),
        Arch::Linear { .. } => {
            let mut gw = g.w1;
            general_mat_mul(F::one(), &dlogits.t(), &x, F::zero(), &mut gw);
            if let Some(mut gb) = g.b1 {
                column_sums_into(dlogits, &mut gb);
            }
        }
        Arch::Dense { act, h, .. } => {
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

/// `out[j] = Σ_i m[i, j]` without allocating.
fn column_sums_into<F: NdFloat>(m: ArrayView2<F>, out: &mut ArrayViewMut1<F>) {
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
struct LinearRows<'a, F> {
    x: ArrayView2<'a, F>,
    w: ArrayView2<'a, F>,
    b: Option<ArrayView1<'a, F>>,
    out: &'a mut [F],
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
struct LinearRowsGrad<'a, F> {
    x: ArrayView2<'a, F>,
    d: ArrayView2<'a, F>,
    gw: ArrayViewMut2<'a, F>,
    gb: Option<ArrayViewMut1<'a, F>>,
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
struct RowsTimesMatrix<'a, F> {
    d: ArrayView2<'a, F>,
    w: ArrayView2<'a, F>,
    out: &'a mut [F],
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
struct DenseActivation<'a, F> {
    act: Activation,
    train: bool,
    bias: Option<&'a [F]>,
    keep: Option<&'a [F]>,
    pre: &'a mut [F],
    act_out: &'a mut [F],
    hid: &'a mut [F],
    h: usize,
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
struct DenseActivationGrad<'a, F> {
    act: Activation,
    pre: &'a [F],
    act_out: &'a [F],
    keep: Option<&'a [F]>,
    dz: &'a mut [F],
    db: Option<&'a mut [F]>,
    h: usize,
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
