//! The whitening transform `W = L⁻¹` of a factorised covariance (`Σ + j·I = L Lᵀ`), so that
//! `(x − μ)ᵀ (Σ + j·I)⁻¹ (x − μ) = ‖W (x − μ)‖²`.
//!
//! `W` is lower triangular and is computed by blocks of [`PANEL`]: each diagonal block is
//! `W_ii = L_ii⁻¹`, from linfa-linalg's triangular solver on a column-major copy of `L_ii`
//! (the layout that solver walks efficiently); below it, block forward substitution
//! `W_ij = −L_ii⁻¹ Σ_{j≤k<i} L_ik W_kj` is two matrix products per block (ndarray /
//! matrixmultiply), about `D³/6` multiply-adds in all. Block columns are independent, so
//! they run in parallel, each in a fixed order: the result does not depend on the thread
//! count.

use linfa_linalg::triangular::{SolveTriangularInplace, UPLO};
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, ShapeBuilder, Zip};
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
        let l = &factor.packed;
        let d = l.nrows();
        let blocks: Vec<(usize, usize)> = (0..d)
            .step_by(PANEL)
            .map(|b0| (b0, (b0 + PANEL).min(d)))
            .collect();
        // Diagonal blocks L_ii⁻¹ (lower triangular), each solved against the identity.
        let inv_diag: Vec<Array2<f64>> = blocks
            .par_iter()
            .map(|&(b0, b1)| {
                let w = b1 - b0;
                let mut lii = Array2::<f64>::zeros((w, w).f());
                lii.assign(&l.slice(s![b0..b1, b0..b1]));
                let mut inv = Array2::<f64>::eye(w).reversed_axes(); // column-major
                                                                     // Cannot fail: square system with matching rows and positive pivots (the
                                                                     // factorisation succeeded). The solver reads the lower triangle only.
                let _ = lii.solve_triangular_inplace(&mut inv, UPLO::Lower);
                inv
            })
            .collect();
        let mut w = Array2::<f64>::zeros((d, d));
        w.axis_chunks_iter_mut(Axis(1), PANEL)
            .into_par_iter()
            .enumerate()
            .for_each(|(j, mut col)| {
                let (j0, _) = blocks[j];
                col.slice_mut(s![j0..j0 + inv_diag[j].nrows(), ..])
                    .assign(&inv_diag[j]);
                for (i, &(i0, i1)) in blocks.iter().enumerate().skip(j + 1) {
                    // S = L[i, j0..i0] W[j0..i0, j]; W_ij = −L_ii⁻¹ S.
                    let (done, mut rest) = col.view_mut().split_at(Axis(0), i0);
                    let sum = l.slice(s![i0..i1, j0..i0]).dot(&done.slice(s![j0.., ..]));
                    let mut target = rest.slice_mut(s![..i1 - i0, ..]);
                    ndarray::linalg::general_mat_mul(-1.0, &inv_diag[i], &sum, 0.0, &mut target);
                }
            });
        Whitening {
            w_t: w.reversed_axes(),
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
        let rows = chunk_rows(d);
        z.axis_chunks_iter_mut(Axis(0), rows)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), rows).into_par_iter())
            .for_each(|(out, xs)| self.whiten_chunk(xs, center, out));
        z
    }

    /// Whitens `x` as [`Whitening::whiten`] does, but hands each chunk of whitened rows to
    /// `reduce`, which writes `k` numbers per row into its rows of the `[N, k]` result.
    /// Memory beyond the result is one chunk per thread, not a `[N, D]` f64 matrix (twice
    /// the f32 features); every row gets the same `z_i` as from `whiten`.
    pub fn reduce_rows<F>(
        &self,
        x: ArrayView2<f32>,
        center: ArrayView1<f64>,
        k: usize,
        reduce: F,
    ) -> Array2<f64>
    where
        F: Fn(ArrayView2<f64>, ArrayViewMut2<f64>) + Sync,
    {
        let (n, d) = x.dim();
        let mut out = Array2::<f64>::zeros((n, k));
        let rows = chunk_rows(d);
        out.axis_chunks_iter_mut(Axis(0), rows)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), rows).into_par_iter())
            .for_each(|(o, xs)| {
                let mut z = Array2::<f64>::zeros((xs.nrows(), d));
                self.whiten_chunk(xs, center, z.view_mut());
                reduce(z.view(), o);
            });
        out
    }

    /// `out_i = W (x_i − center)` for the rows of one chunk.
    fn whiten_chunk(
        &self,
        xs: ArrayView2<f32>,
        center: ArrayView1<f64>,
        mut out: ArrayViewMut2<f64>,
    ) {
        let mut xc = xs.mapv(f64::from);
        xc -= &center;
        ndarray::linalg::general_mat_mul(1.0, &xc, &self.w_t, 0.0, &mut out);
    }
}

/// Rows per chunk when whitening features of width `d` (about [`CHUNK_BYTES`] of f64).
///
/// [`CHUNK_BYTES`]: super::scatter::CHUNK_BYTES
fn chunk_rows(d: usize) -> usize {
    (super::scatter::CHUNK_BYTES / (8 * d.max(1))).clamp(16, 1024)
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
        let n = 2 * PANEL + 45;
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
