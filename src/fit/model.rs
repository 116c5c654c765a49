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
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

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

/// Applies an activation element-wise in `F` (GELU through f64, as [`Activation::apply`]).
fn activate<F: NdFloat>(act: Activation, z: F) -> F {
    match act {
        Activation::Tanh => z.tanh(),
        Activation::Gelu => cast(gelu(z.to_f64().unwrap_or(f64::NAN))),
    }
}

/// `act'(z)` given `z` and `a = act(z)`: `1 − a²` for tanh; `Φ(z) + z·φ(z)` for exact GELU.
fn activate_grad<F: NdFloat>(act: Activation, z: F, a: F) -> F {
    match act {
        Activation::Tanh => F::one() - a * a,
        Activation::Gelu => {
            let z = z.to_f64().unwrap_or(f64::NAN);
            let cdf = 0.5 * (1.0 + libm::erf(z * std::f64::consts::FRAC_1_SQRT_2));
            let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
            cast(cdf + z * pdf)
        }
    }
}

/// Preallocated buffers for one forward/backward pass of up to `capacity` rows.
pub(crate) struct Workspace<F> {
    /// `z₁ [B, H]`, dense pre-activation.
    pre: Array2<F>,
    /// `a = act(z₁) [B, H]`.
    act: Array2<F>,
    /// `ã = a ⊙ keep [B, H]`, input of `out_proj`.
    hid: Array2<F>,
    /// `∂L/∂ã`, then `∂L/∂z₁` `[B, H]`.
    dhid: Array2<F>,
    /// `[B, C]` logits.
    pub logits: Array2<F>,
    /// `[B, C]` `∂L/∂logits`, written by the loss.
    pub dlogits: Array2<F>,
}

impl<F: NdFloat> Workspace<F> {
    /// Buffers for `arch` and batches of at most `capacity` rows.
    pub fn new(arch: &Arch, capacity: usize) -> Self {
        let (h, c) = (arch.hidden_dim(), arch.num_classes());
        let z = |n| Array2::zeros((capacity, n));
        Workspace {
            pre: z(h),
            act: z(h),
            hid: z(h),
            dhid: z(h),
            logits: z(c),
            dlogits: z(c),
        }
    }

    /// The first `rows` logits.
    pub fn logits(&self, rows: usize) -> ArrayView2<'_, F> {
        self.logits.slice(s![..rows, ..])
    }
}

/// Forward pass over `x` (`[rows, D]`, dropout already applied) into `ws.logits[..rows]`.
/// `keep` (`[rows, H]`, dense heads in training) multiplies the hidden layer; `None` = eval.
pub(crate) fn forward<F: NdFloat>(
    arch: &Arch,
    theta: &[F],
    x: ArrayView2<F>,
    keep: Option<ArrayView2<F>>,
    ws: &mut Workspace<F>,
) {
    let rows = x.nrows();
    let p = arch.split(theta);
    let mut logits = ws.logits.slice_mut(s![..rows, ..]);
    match *arch {
        Arch::Linear { .. } => {
            general_mat_mul(F::one(), &x, &p.w1.t(), F::zero(), &mut logits);
            if let Some(b) = &p.b1 {
                logits += b;
            }
        }
        Arch::Dense { act, .. } => {
            let mut pre = ws.pre.slice_mut(s![..rows, ..]);
            general_mat_mul(F::one(), &x, &p.w1.t(), F::zero(), &mut pre);
            if let Some(b) = &p.b1 {
                pre += b;
            }
            let mut a = ws.act.slice_mut(s![..rows, ..]);
            a.zip_mut_with(&pre, |a, &z| *a = activate(act, z));
            let mut hid = ws.hid.slice_mut(s![..rows, ..]);
            match &keep {
                Some(k) => ndarray::Zip::from(&mut hid)
                    .and(&a)
                    .and(k)
                    .for_each(|h, &a, &k| *h = a * k),
                None => hid.assign(&a),
            }
            if let Some(w2) = &p.w2 {
                general_mat_mul(F::one(), &hid, &w2.t(), F::zero(), &mut logits);
            }
            if let Some(b) = &p.b2 {
                logits += b;
            }
        }
    }
}

/// Backward pass: from `ws.dlogits[..rows]` (set by the loss after [`forward`] on the same
/// `x` and `keep`) writes `∂L/∂θ` into `grad` (overwriting it).
///
/// Linear: `∂W = δᵀx̃`, `∂b = Σ_rows δ`. Dense: `∂W₂ = δᵀã`, `∂b₂ = Σ δ`,
/// `∂z₁ = (δW₂) ⊙ keep ⊙ act'(z₁)`, `∂W₁ = ∂z₁ᵀx̃`, `∂b₁ = Σ ∂z₁`.
pub(crate) fn backward<F: NdFloat>(
    arch: &Arch,
    theta: &[F],
    x: ArrayView2<F>,
    keep: Option<ArrayView2<F>>,
    ws: &mut Workspace<F>,
    grad: &mut [F],
) {
    let rows = x.nrows();
    let dlogits = ws.dlogits.slice(s![..rows, ..]);
    let g = arch.split_mut(grad);
    match *arch {
        Arch::Linear { .. } => {
            let mut gw = g.w1;
            general_mat_mul(F::one(), &dlogits.t(), &x, F::zero(), &mut gw);
            if let Some(mut gb) = g.b1 {
                column_sums_into(dlogits, &mut gb);
            }
        }
        Arch::Dense { act, .. } => {
            let p = arch.split(theta);
            let hid = ws.hid.slice(s![..rows, ..]);
            if let (Some(mut gw2), Some(mut gb2), Some(w2)) = (g.w2, g.b2, p.w2) {
                general_mat_mul(F::one(), &dlogits.t(), &hid, F::zero(), &mut gw2);
                column_sums_into(dlogits, &mut gb2);
                let mut dz = ws.dhid.slice_mut(s![..rows, ..]);
                general_mat_mul(F::one(), &dlogits, &w2, F::zero(), &mut dz);
                let pre = ws.pre.slice(s![..rows, ..]);
                let a = ws.act.slice(s![..rows, ..]);
                match &keep {
                    Some(k) => ndarray::Zip::from(&mut dz)
                        .and(&pre)
                        .and(&a)
                        .and(k)
                        .for_each(|d, &z, &a, &k| *d *= k * activate_grad(act, z, a)),
                    None => ndarray::Zip::from(&mut dz)
                        .and(&pre)
                        .and(&a)
                        .for_each(|d, &z, &a| *d *= activate_grad(act, z, a)),
                }
                let mut gw1 = g.w1;
                general_mat_mul(F::one(), &dz.t(), &x, F::zero(), &mut gw1);
                if let Some(mut gb1) = g.b1 {
                    column_sums_into(dz.view(), &mut gb1);
                }
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
