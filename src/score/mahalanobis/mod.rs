//! Mahalanobis-distance baselines as linfa estimators (CONTRACT §5):
//! class means and one shared covariance (divided by N) on training features; the score
//! is the minimum over classes of the squared distance
//! `d²_c(x) = (x − μ_c)ᵀ (Σ + j·I)⁻¹ (x − μ_c) = ‖W x − W μ_c‖²`, `W = L⁻¹`.
//!
//! The relative Mahalanobis distance (Ren et al. 2021, "A simple fix to Mahalanobis
//! distance for improving near-OOD detection") subtracts the distance to one background
//! Gaussian fitted on all training rows, `RMD(x) = min_c d²_c(x) − d²_0(x)`; its covariance
//! is `Σ₀ = Σ + Σ_c (n_c/N)(μ_c − μ₀)(μ_c − μ₀)ᵀ` (total = within + between scatter).
//!
//! Distances are evaluated centred on the overall training mean `μ₀`,
//! `‖W(x − μ₀) − W(μ_c − μ₀)‖²`, which is the same quantity with less cancellation in f64.

mod cholesky;
mod scatter;
mod whitening;

pub use cholesky::{cholesky_lower_inplace, CovarianceFactorInfo, RELATIVE_JITTERS};
pub use scatter::{class_means, within_class_scatter, ClassMeans, PANEL};
pub use whitening::Whitening;

use linfa::traits::{Fit, PredictInplace};
use linfa::{DatasetBase, ParamGuard};
use ndarray::{Array1, Array2, ArrayBase, ArrayView1, ArrayView2, Axis, Data, Ix1, Ix2, Zip};

use super::logits::{check_finite, check_labels};
use super::ScoreError;
use cholesky::factor_with_jitter;
use whitening::{row_min, squared_distances};

/// Checked hyperparameters of [`Mahalanobis`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MahalanobisValidParams {
    classes: usize,
    max_condition: f64,
    background: bool,
}

/// Hyperparameters of [`Mahalanobis`]; [`ParamGuard::check`] validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MahalanobisParams(MahalanobisValidParams);

impl MahalanobisParams {
    /// `classes` classes; jitter until the condition estimate is at most 1e10; fit the
    /// background Gaussian too (for the relative distance).
    pub fn new(classes: usize) -> Self {
        MahalanobisParams(MahalanobisValidParams {
            classes,
            max_condition: 1e10,
            background: true,
        })
    }

    /// Largest accepted condition estimate `κ̂` of `Σ + j·I` before more jitter is added.
    pub fn max_condition(mut self, max_condition: f64) -> Self {
        self.0.max_condition = max_condition;
        self
    }

    /// Whether to fit the background Gaussian of the relative distance (default true).
    pub fn background(mut self, background: bool) -> Self {
        self.0.background = background;
        self
    }
}

impl ParamGuard for MahalanobisParams {
    type Checked = MahalanobisValidParams;
    type Error = ScoreError;

    fn check_ref(&self) -> Result<&MahalanobisValidParams, ScoreError> {
        let p = &self.0;
        if p.classes == 0 {
            return Err(ScoreError::InvalidParameter {
                name: "classes",
                reason: "must be at least 1".into(),
            });
        }
        if !(p.max_condition.is_finite() && p.max_condition > 1.0) {
            return Err(ScoreError::InvalidParameter {
                name: "max_condition",
                reason: format!("must be finite and > 1, got {}", p.max_condition),
            });
        }
        Ok(p)
    }

    fn check(self) -> Result<MahalanobisValidParams, ScoreError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted Mahalanobis model. As a linfa predictor it gives `min_c d²_c(x)` per row.
#[derive(Debug, Clone)]
pub struct Mahalanobis {
    /// Classes with at least one training row (the others are left out of the minimum).
    classes: Vec<usize>,
    /// Training rows per class, `[C]`.
    counts: Vec<usize>,
    /// `[K, D]` class means of the fitted classes.
    means: Array2<f64>,
    /// Overall training mean `μ₀`.
    center: Array1<f64>,
    /// Within-class whitening.
    within: Whitening,
    /// `[K, D]` `W(μ_c − μ₀)`.
    centered_whitened_means: Array2<f64>,
    /// Whitening of the background Gaussian `N(μ₀, Σ₀)`.
    background: Option<Whitening>,
}

/// The within-class whitening in the form an exporter needs:
/// `d²_c(x) = ‖W x − m_c‖²` with `m_c = W μ_c`, or equivalently (better conditioned in f32)
/// `‖W (x − μ₀) − m̃_c‖²` with `m̃_c = W (μ_c − μ₀)`.
#[derive(Debug, Clone)]
pub struct WhiteningExport<'a> {
    /// `W`, `D×D`, lower triangular, row-major view.
    pub w: ArrayView2<'a, f64>,
    /// `[K, D]` `m_c = W μ_c`.
    pub class_means: Array2<f64>,
    /// `μ₀`, the overall training mean.
    pub center: ArrayView1<'a, f64>,
    /// `[K, D]` `m̃_c = W (μ_c − μ₀)`.
    pub centered_class_means: ArrayView2<'a, f64>,
    /// Class index of each row of the means.
    pub classes: &'a [usize],
}

impl<D, L> Fit<ArrayBase<D, Ix2>, ArrayBase<L, Ix1>, ScoreError> for MahalanobisValidParams
where
    D: Data<Elem = f32>,
    L: Data<Elem = usize>,
{
    type Object = Mahalanobis;

    /// Fits on `(features [N, D] f32, labels [N])`.
    fn fit(
        &self,
        data: &DatasetBase<ArrayBase<D, Ix2>, ArrayBase<L, Ix1>>,
    ) -> Result<Mahalanobis, ScoreError> {
        let (x, y) = (&data.records, data.targets.view());
        let split = "mahalanobis train";
        let (n, d) = x.dim();
        if n == 0 {
            return Err(ScoreError::EmptySplit {
                split: split.into(),
            });
        }
        if y.len() != n {
            return Err(ScoreError::RowMismatch {
                split: split.into(),
                tensor: "features",
                expected: y.len(),
                got: n,
            });
        }
        if d == 0 {
            return Err(ScoreError::InvalidParameter {
                name: "features",
                reason: "have no columns".into(),
            });
        }
        check_labels(split, y, self.classes)?;
        check_finite(split, "features", x.view())?;

        let m = class_means(x.view(), y, self.classes);
        let mut cov = within_class_scatter(x.view(), y, &m.means);
        cov /= n as f64;
        let factor = factor_with_jitter(cov, self.max_condition, "mahalanobis within-class")?;
        let within = Whitening::new(&factor);
        let classes: Vec<usize> = (0..self.classes).filter(|&c| m.counts[c] > 0).collect();
        let means = m.means.select(Axis(0), &classes);
        let centered = &means - &m.overall;
        let background = if self.background {
            // Σ₀ = Σ + Σ_c (n_c/N)(μ_c − μ₀)(μ_c − μ₀)ᵀ, reusing the factor's buffer.
            let mut total = factor.into_covariance();
            let weights = Array1::from_iter(classes.iter().map(|&c| m.counts[c] as f64 / n as f64));
            let weighted = &centered * &weights.view().insert_axis(Axis(1));
            ndarray::linalg::general_mat_mul(1.0, &weighted.t(), &centered, 1.0, &mut total);
            let f0 = factor_with_jitter(total, self.max_condition, "mahalanobis background")?;
            Some(Whitening::new(&f0))
        } else {
            None
        };
        Ok(Mahalanobis {
            centered_whitened_means: within.apply_rows(centered.view()),
            classes,
            counts: m.counts,
            means,
            center: m.overall,
            within,
            background,
        })
    }
}

impl Mahalanobis {
    /// Feature dimension `D`.
    pub fn dim(&self) -> usize {
        self.center.len()
    }

    /// Classes that had training rows (the columns of [`Mahalanobis::distances`]).
    pub fn classes(&self) -> &[usize] {
        &self.classes
    }

    /// Training rows per class.
    pub fn class_counts(&self) -> &[usize] {
        &self.counts
    }

    /// How the within-class covariance was factorised (jitter, condition number).
    pub fn within_info(&self) -> CovarianceFactorInfo {
        self.within.info
    }

    /// How the background covariance was factorised; `None` when not fitted.
    pub fn background_info(&self) -> Option<CovarianceFactorInfo> {
        self.background.as_ref().map(|b| b.info)
    }

    /// Squared distances `d²_c(x)` of every row to every fitted class, `[N, K]`.
    /// `Err` when `x` does not have `D` columns.
    pub fn distances(&self, x: ArrayView2<f32>) -> Result<Array2<f64>, ScoreError> {
        self.check_width(x)?;
        let means = self.centered_whitened_means.view();
        Ok(self
            .within
            .reduce_rows(x, self.center.view(), means.nrows(), |z, mut out| {
                out.assign(&squared_distances(z, means));
            }))
    }

    /// `min_c d²_c(x)` per row (the Mahalanobis score); `Err` on a wrong width.
    pub fn scores(&self, x: ArrayView2<f32>) -> Result<Array1<f64>, ScoreError> {
        Ok(row_min(&self.distances(x)?))
    }

    /// Relative Mahalanobis distance `min_c d²_c(x) − d²_0(x)` per row;
    /// `Ok(None)` when the background Gaussian was not fitted.
    pub fn relative_scores(&self, x: ArrayView2<f32>) -> Result<Option<Array1<f64>>, ScoreError> {
        let Some(bg) = &self.background else {
            return Ok(None);
        };
        let md = self.scores(x)?;
        let d0 = bg.reduce_rows(x, self.center.view(), 1, |z, mut out| {
            Zip::from(out.rows_mut())
                .and(z.rows())
                .for_each(|mut o, r| o[0] = r.dot(&r));
        });
        Ok(Some(md - d0.column(0)))
    }

    /// The predictor of the relative distance; `None` when the background was not fitted.
    pub fn relative(&self) -> Option<RelativeMahalanobis<'_>> {
        self.background.as_ref().map(|_| RelativeMahalanobis(self))
    }

    /// `W`, `W μ_c` and the centred form, for the ONNX exporter.
    pub fn whitening(&self) -> WhiteningExport<'_> {
        WhiteningExport {
            w: self.within.w(),
            class_means: self.within.apply_rows(self.means.view()),
            center: self.center.view(),
            centered_class_means: self.centered_whitened_means.view(),
            classes: &self.classes,
        }
    }

    fn check_width(&self, x: ArrayView2<f32>) -> Result<(), ScoreError> {
        if x.ncols() != self.dim() {
            return Err(ScoreError::ColumnMismatch {
                split: "mahalanobis input".into(),
                tensor: "features",
                expected: self.dim(),
                got: x.ncols(),
            });
        }
        Ok(())
    }
}

/// The relative Mahalanobis predictor of a fitted [`Mahalanobis`] with a background.
#[derive(Debug, Clone, Copy)]
pub struct RelativeMahalanobis<'a>(&'a Mahalanobis);

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Mahalanobis {
    /// `min_c d²_c(x)` per row. A wrong width (use [`Mahalanobis::distances`] to get the
    /// error) gives NaN scores rather than a panic.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, u: &mut Array1<f64>) {
        match self.scores(x.view()) {
            Ok(s) => u.assign(&s),
            Err(_) => u.fill(f64::NAN),
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>>
    for RelativeMahalanobis<'_>
{
    /// `min_c d²_c(x) − d²_0(x)` per row; NaN for a wrong width, as for [`Mahalanobis`].
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, u: &mut Array1<f64>) {
        match self.0.relative_scores(x.view()) {
            Ok(Some(r)) => u.assign(&r),
            _ => u.fill(f64::NAN),
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests;
