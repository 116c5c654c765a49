//! The Mahalanobis baseline in exportable form, its graph and its reference.
//!
//! With a shared covariance `Σ = L Lᵀ` and whitener `W = L⁻¹` (so `Σ⁻¹ = WᵀW`),
//! the squared distance to class `c` is `d²_c = ‖W(x − μ₀) − m_c‖²` with
//! pre-whitened means `m_c = W(μ_c − μ₀)`. Any centre `μ₀` gives the same
//! distances; the training mean keeps `‖z‖²` and `‖m_c‖²` small so that the
//! graph's expansion `d²_c = ‖z‖² − 2 z·m_c + ‖m_c‖²` does not cancel in f32.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::graph::{attr_float, attr_int, Axes, GraphBuilder};
use super::ExportError;

/// A fitted Mahalanobis scorer in whitened form (CONTRACT §5 baseline).
#[derive(Debug, Clone, PartialEq)]
pub struct MahalanobisExport {
    /// `[D]` centre `μ₀` subtracted before whitening (the training mean is best).
    pub center: Array1<f32>,
    /// `[D, D]` whitener `W` with `WᵀW = Σ⁻¹`.
    pub whitener: Array2<f32>,
    /// `[C, D]` class means whitened the same way, `m_c = W(μ_c − μ₀)`.
    pub whitened_means: Array2<f32>,
}

impl MahalanobisExport {
    /// Width `D` of the features it scores.
    pub fn input_dim(&self) -> usize {
        self.center.len()
    }

    /// Checks shapes against the feature width `dim` and that every value is finite.
    pub fn check(&self, dim: usize) -> Result<(), ExportError> {
        let d = self.center.len();
        let shape_err = |tensor: &str, expected: String, got: &[usize]| ExportError::Shape {
            tensor: tensor.to_string(),
            expected,
            got: format!("{got:?}"),
        };
        if d != dim {
            return Err(shape_err("mahalanobis.center", format!("[{dim}]"), &[d]));
        }
        if self.whitener.dim() != (d, d) {
            return Err(shape_err(
                "mahalanobis.whitener",
                format!("[{d}, {d}]"),
                self.whitener.shape(),
            ));
        }
        if self.whitened_means.ncols() != d || self.whitened_means.nrows() == 0 {
            return Err(shape_err(
                "mahalanobis.whitened_means",
                format!("[C >= 1, {d}]"),
                self.whitened_means.shape(),
            ));
        }
        super::model::check_finite("mahalanobis.center", self.center.iter())?;
        super::model::check_finite("mahalanobis.whitener", self.whitener.iter())?;
        super::model::check_finite("mahalanobis.whitened_means", self.whitened_means.iter())?;
        Ok(())
    }

    /// Reference score per row: `min_c ‖W(x − μ₀) − m_c‖²`, computed directly (no
    /// expansion) in f64 and rounded to f32.
    pub fn min_sq_distance(&self, features: ArrayView2<f32>) -> Array1<f32> {
        let x = features.mapv(f64::from) - self.center.mapv(f64::from);
        let z = x.dot(&self.whitener.mapv(f64::from).t());
        let means = self.whitened_means.mapv(f64::from);
        z.axis_iter(Axis(0))
            .map(|zr| {
                means
                    .axis_iter(Axis(0))
                    .map(|m| {
                        zr.iter()
                            .zip(m)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min) as f32
            })
            .collect()
    }

    /// Adds the scorer to `g`, reading `input` and writing `output` (`[batch]`).
    /// `axes` is the int64 `[1]` initializer holding the class axis.
    pub(crate) fn add_to_graph(
        &self,
        g: &mut GraphBuilder,
        input: &str,
        axes: &Axes,
        output: &str,
    ) {
        let (d, c) = (self.input_dim(), self.whitened_means.nrows());
        let center = g.weight("mahalanobis.center", &[d], &to_vec(&self.center));
        let w = g.weight(
            "mahalanobis.whitener",
            &[d, d],
            &to_vec_2d(self.whitener.view()),
        );
        let m = g.weight(
            "mahalanobis.whitened_means",
            &[c, d],
            &to_vec_2d(self.whitened_means.view()),
        );
        // ‖m_c‖² in f64, rounded once.
        let mm: Vec<f32> = self
            .whitened_means
            .axis_iter(Axis(0))
            .map(|r| r.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() as f32)
            .collect();
        let mm = g.weight("mahalanobis.means_sq_norm", &[c], &mm);
        let xc = g.node("Sub", &[input, &center], "mahalanobis/centered", vec![]);
        // z = (x − μ₀) Wᵀ
        let z = g.node(
            "Gemm",
            &[&xc, &w, ""],
            "mahalanobis/z",
            vec![attr_int("transB", 1)],
        );
        let zz = g.reduce("ReduceSumSquare", &z, axes, true, "mahalanobis/z_sq_norm");
        // −2 z·m_c + ‖m_c‖² in one Gemm.
        let cross = g.node(
            "Gemm",
            &[&z, &m, &mm],
            "mahalanobis/cross",
            vec![
                attr_float("alpha", -2.0),
                attr_float("beta", 1.0),
                attr_int("transB", 1),
            ],
        );
        let d2 = g.node("Add", &[&cross, &zz], "mahalanobis/sq_dist", vec![]);
        let dmin = g.reduce("ReduceMin", &d2, axes, false, "mahalanobis/min_sq_dist");
        // The expansion can round a tiny distance below zero; the true value is ≥ 0.
        g.node("Relu", &[&dmin], output, vec![]);
    }
}

/// Row-major copy of a 1-D array.
pub(crate) fn to_vec(a: &Array1<f32>) -> Vec<f32> {
    a.iter().copied().collect()
}

/// Row-major copy of a 2-D array (whatever its memory layout).
pub(crate) fn to_vec_2d(a: ArrayView2<f32>) -> Vec<f32> {
    a.iter().copied().collect()
}
