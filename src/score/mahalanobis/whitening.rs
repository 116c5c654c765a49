//! The whitening transform `W = L⁻¹` of a factorised covariance (`Σ + j·I = L Lᵀ`), so that
//! `(x − μ)ᵀ (Σ + j·I)⁻¹ (x − μ) = ‖W (x − μ)‖²`.
//!
//! `W` is kept as `Wᵀ = (Lᵀ)⁻¹` in column-major layout, computed by linfa-linalg's
//! triangular solver on `Lᵀ` (itself a column-major view of the row-major factor):
//! column-major is what that solver walks efficiently, and `Wᵀ` column-major is `W`
//! row-major. Column blocks of the inverse are independent, so they are solved in parallel;
//! block `[c₀, c₁)` of the upper-triangular `(Lᵀ)⁻¹` only involves the leading `c₁×c₁`
//! system, about `D³/6` flops in all.

use linfa_linalg::triangular::{SolveTriangularInplace, UPLO};
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis, ShapeBuilder, Zip};
use rayon::prelude::*;

use super::cholesky::{CovarianceFactorInfo, Factor};
use super::scatter::PANEL;

/// A whitening transform with the record of how its covariance was factorised.
#[derive(Debug, Clone)]
pub struct Whitening {
    /// `Wᵀ = (Lᵀ)⁻¹`, `D×D`, column-major (so `.t()` is `W` row-major, lower triangular).
    pub w_t: Array2<f64>,
    /// Jitter and condition number of the factorisation.
    pub info: CovarianceFactorInfo,
}

impl Whitening {
    /// Inverts the factor in `factor.packed` (its lower triangle).
    pub fn new(factor: &Factor) -> Self {
        let d = factor.packed.nrows();
        // Lᵀ: the transpose of a row-major matrix is a column-major view; the solver reads
        // only its upper triangle (= L) and diagonal.
        let u = factor.packed.t();
        let mut w_t = Array2::<f64>::zeros((d, d).f());
        w_t.axis_chunks_iter_mut(Axis(1), PANEL)
            .into_par_iter()
            .enumerate()
            .for_each(|(t, mut cols)| {
                let c0 = t * PANEL;
                let c1 = c0 + cols.ncols();
                for k in 0..cols.ncols() {
                    cols[[c0 + k, k]] = 1.0;
                }
                let mut b = cols.slice_mut(s![..c1, ..]);
                // Cannot fail: the system is square (c1×c1) and b has c1 rows; the pivots
                // are positive (the factorisation succeeded).
                let _ = u
                    .slice(s![..c1, ..c1])
                    .solve_triangular_inplace(&mut b, UPLO::Upper);
            });
        Whitening {
            w_t,
            info: factor.info,
        }
    }

    /// `W`, `D×D` row-major, lower triangular.
    pub fn w(&self) -> ArrayView2<'_, f64> {
        self.w_t.t()
    }

    /// `W v` for every row `v` of `rows` (`[K, D]` → `[K, D]`).
    pub fn apply_rows(&self, rows: ArrayView2<f64>) -> Array2<f64> {
        rows.dot(&self.w_t)
    }

    /// Whitens rows of f32 features after subtracting `center`, in f64:
    /// `z_i = W (x_i − center)`, `[N, D]` → `[N, D]`, in parallel chunks of rows.
    pub fn whiten(&self, x: ArrayView2<f32>, center: ArrayView1<f64>) -> Array2<f64> {
        let (n, d) = x.dim();
        let mut z = Array2::<f64>::zeros((n, d));
        let rows = (super::scatter::CHUNK_BYTES / (8 * d.max(1))).clamp(16, 1024);
        z.axis_chunks_iter_mut(Axis(0), rows)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), rows).into_par_iter())
            .for_each(|(mut out, xs)| {
                let mut xc = xs.mapv(f64::from);
                xc -= &center;
                ndarray::linalg::general_mat_mul(1.0, &xc, &self.w_t, 0.0, &mut out);
            });
        z
    }
}

/// Squared distances `‖z_i − m_c‖²`, `[N, K]`, of whitened rows `z` to whitened means `m`.
pub fn squared_distances(z: ArrayView2<f64>, m: ArrayView2<f64>) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((z.nrows(), m.nrows()));
    Zip::from(out.rows_mut())
        .and(z.rows())
        .par_for_each(|mut o, zi| {
            for (oc, mc) in o.iter_mut().zip(m.rows()) {
                *oc = zi
                    .iter()
                    .zip(mc.iter())
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
            }
        });
    out
}

/// Row-wise minimum of a `[N, K]` matrix (`+∞` for `K = 0`).
pub fn row_min(a: &Array2<f64>) -> Array1<f64> {
    a.map_axis(Axis(1), |r| r.fold(f64::INFINITY, |m, &v| m.min(v)))
}

#[cfg(test)]
mod tests {
    use super::super::cholesky::factor_with_jitter;
    use super::*;

    #[test]
    fn w_inverts_the_factor_and_whitens_the_covariance() {
        let n = PANEL + 45;
        let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 13 + j * 7) % 19) as f64 / 19.0);
        let mut cov = b.t().dot(&b) / n as f64;
        cov.diag_mut().mapv_inplace(|v| v + 0.25);
        let f = factor_with_jitter(cov.clone(), 1e12, "test").unwrap();
        assert_eq!(f.info.jitter, 0.0);
        let w = Whitening::new(&f);
        // W Σ Wᵀ = I.
        let eye = w.w().dot(&cov).dot(&w.w().t());
        let err = (&eye - &Array2::<f64>::eye(n))
            .mapv(f64::abs)
            .fold(0.0f64, |m, &v| m.max(v));
        assert!(err < 1e-10, "{err}");
        // Lower triangular.
        assert!((0..n).all(|i| (i + 1..n).all(|j| w.w()[[i, j]] == 0.0)));
    }
}
