//! Temperature scaling (Guo et al. 2017): one scalar `T > 0` dividing the logits, fitted
//! by minimising the negative log-likelihood on a held-out split.
//!
//! With `β = 1/T`, `NLL(β) = mean_i [logsumexp(β z_i) − β z_{i,y_i}]` is convex in β
//! (`NLL'' = mean_i Var_{p_i}(z_i) ≥ 0`), hence unimodal in `s = ln T`. The fit is a
//! golden-section search over `s` on a bracket, then Newton steps on β using
//! `NLL'(β) = mean_i (E_{p_i}[z_i] − z_{i,y_i})` to polish the minimiser to machine
//! precision. Parameterising by `ln T` makes `T ≤ 0` impossible.

use linfa::traits::{Fit, PredictInplace};
use linfa::{DatasetBase, ParamGuard};
use ndarray::{Array1, ArrayBase, ArrayView1, ArrayView2, Axis, Data, Ix1, Ix2};

use super::baselines::per_row;
use super::logits::{check_logits, log_softmax, row_confidence};
use super::ScoreError;

/// Hyperparameters of the temperature search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemperatureScalingValidParams {
    t_min: f64,
    t_max: f64,
}

/// Unchecked hyperparameters; [`ParamGuard::check`] turns them into valid ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemperatureScalingParams(TemperatureScalingValidParams);

impl Default for TemperatureScalingParams {
    fn default() -> Self {
        Self::new()
    }
}

impl TemperatureScalingParams {
    /// Search bracket `T ∈ [0.01, 100]`.
    pub fn new() -> Self {
        TemperatureScalingParams(TemperatureScalingValidParams {
            t_min: 0.01,
            t_max: 100.0,
        })
    }

    /// Sets the search bracket `[t_min, t_max]` (both positive and finite, `t_min < t_max`).
    pub fn bracket(mut self, t_min: f64, t_max: f64) -> Self {
        self.0.t_min = t_min;
        self.0.t_max = t_max;
        self
    }
}

impl ParamGuard for TemperatureScalingParams {
    type Checked = TemperatureScalingValidParams;
    type Error = ScoreError;

    fn check_ref(&self) -> Result<&Self::Checked, ScoreError> {
        let p = &self.0;
        let ok = |t: f64| t.is_finite() && t > 0.0;
        if !(ok(p.t_min) && ok(p.t_max) && p.t_min < p.t_max) {
            return Err(ScoreError::InvalidParameter {
                name: "temperature bracket",
                reason: format!(
                    "needs 0 < t_min < t_max < ∞, got [{}, {}]",
                    p.t_min, p.t_max
                ),
            });
        }
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, ScoreError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// How the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemperatureStatus {
    /// An interior minimum, polished by Newton steps.
    Converged,
    /// The NLL keeps decreasing towards an end of the bracket (e.g. no validation error:
    /// the NLL falls as `T → 0`); `T` is that end.
    AtBracketEdge,
    /// The NLL does not depend on `T` (every row's logits are constant); `T = 1`.
    Flat,
}

/// A fitted temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemperatureScaling {
    /// The fitted `T`.
    pub temperature: f64,
    /// NLL of the fitting split at `T = 1`.
    pub nll_before: f64,
    /// NLL of the fitting split at the fitted `T`.
    pub nll_after: f64,
    /// How the search ended.
    pub status: TemperatureStatus,
    /// The bracket searched.
    pub bracket: (f64, f64),
}

/// `NLL(β)` with its first two derivatives in β.
fn nll_derivatives(logits: ArrayView2<f32>, labels: ArrayView1<usize>, beta: f64) -> [f64; 3] {
    let mut logp = vec![0.0; logits.ncols()];
    let (mut f, mut g, mut h) = (0.0, 0.0, 0.0);
    for (row, &y) in logits.axis_iter(Axis(0)).zip(labels.iter()) {
        log_softmax(row, beta, &mut logp);
        let (mut mean, mut sq) = (0.0, 0.0);
        for (&lp, &z) in logp.iter().zip(row.iter()) {
            let (p, z) = (lp.exp(), f64::from(z));
            mean += p * z;
            sq += p * z * z;
        }
        f -= logp[y];
        g += mean - f64::from(row[y]);
        h += (sq - mean * mean).max(0.0);
    }
    let n = labels.len() as f64;
    [f / n, g / n, h / n]
}

/// Golden-section minimisation of a unimodal `f` on `[a, b]` to interval width `tol`.
fn golden_section(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64, tol: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    while b - a > tol {
        if fc <= fd {
            (b, d, fd) = (d, c, fc);
            c = b - r * (b - a);
            fc = f(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    (a + b) / 2.0
}

impl<D: Data<Elem = f32>, L: Data<Elem = usize>>
    Fit<ArrayBase<D, Ix2>, ArrayBase<L, Ix1>, ScoreError> for TemperatureScalingValidParams
{
    type Object = TemperatureScaling;

    /// Fits `T` on `(logits [N, C], labels [N])`.
    fn fit(
        &self,
        data: &DatasetBase<ArrayBase<D, Ix2>, ArrayBase<L, Ix1>>,
    ) -> Result<TemperatureScaling, ScoreError> {
        let (z, y) = (data.records.view(), data.targets.view());
        if y.is_empty() {
            return Err(ScoreError::EmptySplit {
                split: "temperature fit".into(),
            });
        }
        check_logits("temperature fit", z, y, z.ncols())?;
        let nll = |s: f64| nll_derivatives(z, y, (-s).exp())[0];
        let (s_lo, s_hi) = (self.t_min.ln(), self.t_max.ln());
        let nll_before = nll_derivatives(z, y, 1.0)[0];
        let mut s = golden_section(nll, s_lo, s_hi, 1e-10);
        // Constant logits in every row: the NLL is ln C whatever T is.
        let flat = z.axis_iter(Axis(0)).all(|r| r.iter().all(|&v| v == r[0]));
        let edge_tol = 1e-6 * (s_hi - s_lo);
        let status = if flat {
            s = 0.0;
            TemperatureStatus::Flat
        } else if s - s_lo < edge_tol || s_hi - s < edge_tol {
            s = if s - s_lo < edge_tol { s_lo } else { s_hi };
            TemperatureStatus::AtBracketEdge
        } else {
            // Newton on β: the NLL is convex there, and golden section left it close.
            let mut beta = (-s).exp();
            for _ in 0..50 {
                let [_, g, h] = nll_derivatives(z, y, beta);
                let next = beta - g / h;
                let inside = next > 1.0 / self.t_max && next < 1.0 / self.t_min;
                if !(h > 0.0 && inside) {
                    break;
                }
                let done = (next - beta).abs() <= 4.0 * f64::EPSILON * beta;
                beta = next;
                if done {
                    break;
                }
            }
            s = -beta.ln();
            TemperatureStatus::Converged
        };
        let temperature = s.exp();
        Ok(TemperatureScaling {
            temperature,
            nll_before,
            nll_after: nll_derivatives(z, y, 1.0 / temperature)[0],
            status,
            bracket: (self.t_min, self.t_max),
        })
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for TemperatureScaling {
    /// Uncertainty `1 − max_k softmax(z / T)_k` of every row of logits.
    fn predict_inplace(&self, logits: &ArrayBase<D, Ix2>, u: &mut Array1<f64>) {
        per_row(logits, 1.0 / self.temperature, u, |lp| {
            1.0 - row_confidence(lp)
        });
    }

    fn default_target(&self, logits: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(logits.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::Predict;
    use ndarray::{array, Array2};

    fn fit(z: &Array2<f32>, y: &Array1<usize>) -> TemperatureScaling {
        let data = DatasetBase::new(z.view(), y.view());
        TemperatureScalingParams::new().fit(&data).unwrap()
    }

    /// Logits of an over-confident classifier: correct 70% of the time, logit margin 4.
    fn overconfident() -> (Array2<f32>, Array1<usize>) {
        let n = 200;
        let z = Array2::from_shape_fn((n, 3), |(i, k)| {
            let pred = i % 3;
            if k == pred {
                4.0 + (i % 7) as f32 * 0.3
            } else {
                (k as f32) * 0.1
            }
        });
        let y = Array1::from_shape_fn(n, |i| if i % 10 < 7 { i % 3 } else { (i + 1) % 3 });
        (z, y)
    }

    #[test]
    fn gradient_vanishes_at_the_fit_and_nll_drops() {
        let (z, y) = overconfident();
        let t = fit(&z, &y);
        assert_eq!(t.status, TemperatureStatus::Converged);
        assert!(
            t.temperature > 1.0,
            "over-confident logits need T > 1: {}",
            t.temperature
        );
        let [f, g, _] = nll_derivatives(z.view(), y.view(), 1.0 / t.temperature);
        assert!(g.abs() < 1e-12, "NLL'(β) = {g}");
        assert!(f < t.nll_before);
        for s in [-1e-3, 1e-3] {
            let other = nll_derivatives(z.view(), y.view(), 1.0 / (t.temperature * (1.0 + s)))[0];
            assert!(other > f);
        }
    }

    #[test]
    fn no_error_runs_to_the_bracket_edge_and_constant_logits_are_flat() {
        let z = array![[2.0f32, 0.0], [0.0, 1.0], [3.0, 0.5]];
        let t = fit(&z, &array![0usize, 1, 0]);
        assert_eq!(t.status, TemperatureStatus::AtBracketEdge);
        assert!((t.temperature - 0.01).abs() < 1e-12);
        let z = array![[1.0f32, 1.0], [0.5, 0.5]];
        let t = fit(&z, &array![0usize, 1]);
        assert_eq!((t.status, t.temperature), (TemperatureStatus::Flat, 1.0));
    }

    #[test]
    fn rejects_bad_brackets_and_predicts_scaled_softmax_response() {
        let data = DatasetBase::new(array![[0.0f32, 1.0]], array![1usize]);
        let e = TemperatureScalingParams::new()
            .bracket(0.0, 1.0)
            .fit(&data)
            .unwrap_err();
        assert!(e.to_string().contains("t_min"), "{e}");
        let t = TemperatureScaling {
            temperature: 2.0,
            nll_before: 0.0,
            nll_after: 0.0,
            status: TemperatureStatus::Converged,
            bracket: (0.01, 100.0),
        };
        let z = array![[0.0f32, 2.0 * 3f32.ln()]];
        let u: Array1<f64> = t.predict(&z);
        assert!((u[0] - 0.25).abs() < 1e-7, "{u}");
    }
}
