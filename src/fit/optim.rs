//! Adam and the one-cycle learning-rate schedule, with PyTorch's semantics so that a run can be
//! compared number for number with `torch.optim.Adam` + `torch.optim.lr_scheduler.OneCycleLR`
//! (see `tests/it/fit_reference/`).

use ndarray::NdFloat;

use super::model::cast;
use super::simd::{dispatch, Kernel};

/// Adam (Kingma & Ba 2015) over one flat parameter vector, as `torch.optim.Adam` with
/// `betas = (0.9, 0.999)`, `eps = 1e-8`, no weight decay, no AMSGrad. Step `t` (from 1):
///
/// `m ← m + (1 − β₁)(g − m)`, `v ← β₂v + (1 − β₂)g²`,
/// `θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.
#[derive(Debug, Clone)]
pub struct Adam<F> {
    beta1: f64,
    beta2: f64,
    eps: f64,
    m: Vec<F>,
    v: Vec<F>,
    t: i32,
}

impl<F: NdFloat> Adam<F> {
    /// Zero moments for `n` parameters, PyTorch's default coefficients.
    pub fn new(n: usize) -> Self {
        Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            m: vec![F::zero(); n],
            v: vec![F::zero(); n],
            t: 0,
        }
    }

    /// Number of steps taken.
    pub fn steps(&self) -> i32 {
        self.t
    }

    /// One update of `params` with gradient `grad` and learning rate `lr`.
    ///
    /// Scalars are formed in f64 and rounded to `F` as PyTorch does with Python floats.
    /// Panics if `params`, `grad` and the moments differ in length (a programming error).
    pub fn step(&mut self, params: &mut [F], grad: &[F], lr: f64) {
        assert!(
            params.len() == self.m.len() && grad.len() == self.m.len(),
            "Adam::step: {} params, {} grads, {} moments",
            params.len(),
            grad.len(),
            self.m.len()
        );
        self.t += 1;
        let bias1 = 1.0 - self.beta1.powi(self.t);
        let bias2 = 1.0 - self.beta2.powi(self.t);
        dispatch(AdamUpdate {
            params,
            grad,
            m: &mut self.m,
            v: &mut self.v,
            w1: cast(1.0 - self.beta1),
            b2: cast(self.beta2),
            w2: cast(1.0 - self.beta2),
            bias2_sqrt: cast(bias2.sqrt()),
            eps: cast(self.eps),
            neg_step: cast(-(lr / bias1)),
        });
    }
}

/// The element-wise Adam update, in PyTorch's operation order (`lerp`, `mul_`/`addcmul_`,
/// `sqrt / √bias2 + eps`, `addcdiv_`).
struct AdamUpdate<'a, F> {
    params: &'a mut [F],
    grad: &'a [F],
    m: &'a mut [F],
    v: &'a mut [F],
    w1: F,
    b2: F,
    w2: F,
    bias2_sqrt: F,
    eps: F,
    neg_step: F,
}

impl<F: NdFloat> Kernel for AdamUpdate<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let AdamUpdate {
            params,
            grad,
            m,
            v,
            w1,
            b2,
            w2,
            bias2_sqrt,
            eps,
            neg_step,
        } = self;
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            *m = *m + w1 * (g - *m);
            *v = *v * b2 + w2 * g * g;
            let denom = v.sqrt() / bias2_sqrt + eps;
            *p += neg_step * (*m / denom);
        }
    }
}

/// `OneCycleLR(max_lr, total_steps, pct_start=0.1, anneal_strategy='cos', div_factor=25,
/// final_div_factor=1e4, three_phase=False, cycle_momentum=False)`: cosine warm-up from
/// `max_lr/25` to `max_lr` over the first 10% of the steps, then cosine annealing to
/// `max_lr/25/1e4` at the last step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneCycle {
    initial_lr: f64,
    max_lr: f64,
    min_lr: f64,
    warmup_end: f64,
    last_step: f64,
}

impl OneCycle {
    /// The schedule for `total_steps` optimizer steps peaking at `max_lr`.
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        let initial_lr = max_lr / 25.0;
        OneCycle {
            initial_lr,
            max_lr,
            min_lr: initial_lr / 1e4,
            warmup_end: 0.1 * total_steps as f64 - 1.0,
            last_step: total_steps as f64 - 1.0,
        }
    }

    /// Learning rate of optimizer step `step` (0-based), i.e. `get_last_lr()` before the
    /// `step`-th `optimizer.step()`.
    ///
    /// PyTorch divides by zero (and raises) when the warm-up phase has zero length
    /// (`0.1·total_steps = 1`) or the annealing one does; here such a degenerate phase yields
    /// its end value.
    pub fn lr(&self, step: usize) -> f64 {
        let step = step as f64;
        let (start_step, end_step, from, to) = if step <= self.warmup_end {
            (0.0, self.warmup_end, self.initial_lr, self.max_lr)
        } else {
            (self.warmup_end, self.last_step, self.max_lr, self.min_lr)
        };
        let span = end_step - start_step;
        let pct = if span == 0.0 {
            1.0
        } else {
            (step - start_step) / span
        };
        to + (from - to) / 2.0 * ((std::f64::consts::PI * pct).cos() + 1.0)
    }
}
