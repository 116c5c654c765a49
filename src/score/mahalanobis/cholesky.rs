//! Blocked Cholesky factorisation of a covariance, with jitter when it is singular.
//!
//! Right-looking, block size [`PANEL`]: each diagonal block is factorised by linfa-linalg
//! (`cholesky_inplace_dirty`), the panel below it by linfa-linalg's triangular solver,
//! and the trailing matrix is updated by matrix products (ndarray / matrixmultiply), in
//! parallel over column panels. Only the lower triangle is touched: the strict upper
//! triangle keeps the original covariance, so a failed attempt is restarted with more
//! jitter without a second `D×D` copy.
//!
//! Condition number: `κ̂ = (max_i L_ii / min_i L_ii)²`, from the Cholesky diagonal. It is a
//! lower bound on the 2-norm condition number `κ₂ = λ_max / λ_min`, because
//! `λ_min ≤ L_ii² ≤ A_ii ≤ λ_max` for every pivot (`L_ii²` is a Schur complement).

use linfa_linalg::cholesky::CholeskyInplace;
use linfa_linalg::triangular::{SolveTriangularInplace, UPLO};
use linfa_linalg::LinalgError;
use ndarray::{s, Array1, Array2, Axis, ShapeBuilder};
use rayon::prelude::*;

use super::scatter::PANEL;
use crate::score::ScoreError;

/// Rows of the panel solved per parallel task.
const SOLVE_ROWS: usize = 64;

/// Relative jitters tried after the plain factorisation fails or is too ill-conditioned,
/// as multiples of the mean variance `tr(Σ)/D`.
pub const RELATIVE_JITTERS: [f64; 11] = [
    1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0,
];

/// What the factorisation of one covariance needed (recorded in the report).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CovarianceFactorInfo {
    /// Dimension `D`.
    pub dim: usize,
    /// Absolute jitter `j` added to the diagonal (`Σ + j·I = L Lᵀ`); 0 when none was needed.
    pub jitter: f64,
    /// `j / (tr(Σ)/D)`.
    pub relative_jitter: f64,
    /// Mean variance `tr(Σ)/D`.
    pub mean_variance: f64,
    /// Factorisations attempted (1 when no jitter was needed).
    pub attempts: usize,
    /// `κ̂ = (max L_ii / min L_ii)²` of `Σ + j·I`, a lower bound on `κ₂` (module docs).
    pub condition_number: f64,
}

/// A factorised covariance: `L` in the lower triangle of `packed`, the original
/// covariance in its strict upper triangle and in `diag`.
#[derive(Debug, Clone)]
pub struct Factor {
    /// Row-major `D×D`: lower triangle (with diagonal) = `L`; strict upper = `Σ`.
    pub packed: Array2<f64>,
    /// Diagonal of `Σ` (before jitter).
    pub diag: Array1<f64>,
    /// Jitter and conditioning.
    pub info: CovarianceFactorInfo,
}

impl Factor {
    /// Rebuilds the full symmetric `Σ` (without jitter), consuming the factor.
    pub fn into_covariance(mut self) -> Array2<f64> {
        restore_lower(&mut self.packed, &self.diag);
        self.packed
    }
}

/// Factorises the symmetric `cov` (consumed), adding the smallest jitter of
/// `0, RELATIVE_JITTERS·tr(Σ)/D` with which the factorisation succeeds and `κ̂ ≤ max_condition`.
pub fn factor_with_jitter(
    mut cov: Array2<f64>,
    max_condition: f64,
    what: &str,
) -> Result<Factor, ScoreError> {
    let d = cov.nrows();
    let diag = cov.diag().to_owned();
    let mean_variance = diag.sum() / d as f64;
    // A zero (constant features) or non-finite scale falls back to absolute jitters.
    let scale = if mean_variance.is_finite() && mean_variance > 0.0 {
        mean_variance
    } else {
        1.0
    };
    let schedule = std::iter::once(0.0).chain(RELATIVE_JITTERS);
    let mut last = 0.0;
    for (attempt, rel) in schedule.enumerate() {
        if attempt > 0 {
            restore_lower(&mut cov, &diag);
        }
        let jitter = rel * scale;
        last = jitter;
        cov.diag_mut().mapv_inplace(|v| v + jitter);
        if cholesky_lower_inplace(&mut cov).is_err() {
            continue;
        }
        let condition = condition_from_diagonal(&cov);
        if condition <= max_condition {
            let info = CovarianceFactorInfo {
                dim: d,
                jitter,
                relative_jitter: rel,
                mean_variance,
                attempts: attempt + 1,
                condition_number: condition,
            };
            return Ok(Factor {
                packed: cov,
                diag,
                info,
            });
        }
    }
    Err(ScoreError::NotPositiveDefinite {
        what: what.to_string(),
        dim: d,
        jitter: last,
        max_condition,
    })
}

/// `(max L_ii / min L_ii)²`; infinite when a pivot is zero or not finite (NaN input).
fn condition_from_diagonal(l: &Array2<f64>) -> f64 {
    if l.diag().iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return f64::INFINITY;
    }
    let (lo, hi) = l.diag().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    (hi / lo).powi(2)
}

/// Restores the lower triangle from the strict upper one and the diagonal from `diag`.
fn restore_lower(a: &mut Array2<f64>, diag: &Array1<f64>) {
    let n = a.nrows();
    for i in 0..n {
        for j in 0..i {
            a[[i, j]] = a[[j, i]];
        }
        a[[i, i]] = diag[i];
    }
}

/// Overwrites the lower triangle of the symmetric `a` with its Cholesky factor `L`
/// (`A = L Lᵀ`), leaving the strict upper triangle untouched.
pub fn cholesky_lower_inplace(a: &mut Array2<f64>) -> Result<(), LinalgError> {
    let n = a.nrows();
    for k0 in (0..n).step_by(PANEL) {
        let k1 = (k0 + PANEL).min(n);
        // Diagonal block: reads and writes its lower triangle only ("dirty").
        a.slice_mut(s![k0..k1, k0..k1]).cholesky_inplace_dirty()?;
        if k1 == n {
            break;
        }
        // L_kk copied column-major: linfa-linalg's solver walks its columns.
        let mut lkk = Array2::<f64>::zeros((k1 - k0, k1 - k0).f());
        lkk.assign(&a.slice(s![k0..k1, k0..k1]));
        // Panel P = A[k1.., k0..k1] L_kk⁻ᵀ, i.e. L_kk Pᵀ = A[k1.., k0..k1]ᵀ. Rows of P are
        // contiguous, so Pᵀ is column-major for the solver.
        a.slice_mut(s![k1.., k0..k1])
            .axis_chunks_iter_mut(Axis(0), SOLVE_ROWS)
            .into_par_iter()
            .try_for_each(|rows| {
                let mut pt = rows.reversed_axes();
                lkk.solve_triangular_inplace(&mut pt, UPLO::Lower)
                    .map(|_| ())
            })?;
        // Trailing update of the lower triangle: A[k1.., k1..] −= P Pᵀ.
        let (left, mut right) = a.view_mut().split_at(Axis(1), k1);
        let p = left.slice(s![k1.., k0..k1]);
        right
            .slice_mut(s![k1.., ..])
            .axis_chunks_iter_mut(Axis(1), PANEL)
            .into_par_iter()
            .enumerate()
            .for_each(|(t, mut cols)| {
                let (j0, w) = (t * PANEL, cols.ncols());
                let pj = p.slice(s![j0..j0 + w, ..]);
                // Diagonal tile: only its lower triangle may change.
                let tile = pj.dot(&pj.t());
                for i in 0..w {
                    for j in 0..=i {
                        cols[[j0 + i, j]] -= tile[[i, j]];
                    }
                }
                let below = p.slice(s![j0 + w.., ..]);
                let mut target = cols.slice_mut(s![j0 + w.., ..]);
                ndarray::linalg::general_mat_mul(-1.0, &below, &pj.t(), 1.0, &mut target);
            });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symmetric positive definite matrix spanning several blocks.
    fn spd(n: usize) -> Array2<f64> {
        let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 31 + j * 17) % 23) as f64 / 23.0);
        let mut a = b.t().dot(&b) / n as f64;
        a.diag_mut().mapv_inplace(|v| v + 0.5);
        a
    }

    #[test]
    fn blocked_factor_reproduces_the_matrix_and_keeps_the_upper_triangle() {
        let n = 2 * PANEL + 37;
        let a = spd(n);
        let mut f = a.clone();
        cholesky_lower_inplace(&mut f).unwrap();
        let mut l = f.clone();
        for i in 0..n {
            for j in i + 1..n {
                assert_eq!(f[[i, j]], a[[i, j]], "upper triangle changed at {i},{j}");
                l[[i, j]] = 0.0;
            }
        }
        let err = (&l.dot(&l.t()) - &a)
            .mapv(f64::abs)
            .fold(0.0f64, |m, &v| m.max(v));
        assert!(err < 1e-12, "{err}");
    }

    #[test]
    fn singular_covariance_gets_the_smallest_sufficient_jitter() {
        // Rank one: x xᵀ with x = (1, 2, 3).
        let x = ndarray::array![1.0, 2.0, 3.0];
        let cov = x
            .view()
            .insert_axis(Axis(1))
            .dot(&x.view().insert_axis(Axis(0)));
        let f = factor_with_jitter(cov.clone(), 1e10, "test").unwrap();
        assert!(f.info.jitter > 0.0 && f.info.attempts > 1);
        assert!(f.info.condition_number <= 1e10);
        // The previous jitter in the schedule was not enough.
        let prev = match f.info.attempts {
            2 => 0.0,
            k => RELATIVE_JITTERS[k - 3] * f.info.mean_variance,
        };
        let mut p = cov.clone();
        p.diag_mut().mapv_inplace(|v| v + prev);
        let failed = cholesky_lower_inplace(&mut p).is_err() || condition_from_diagonal(&p) > 1e10;
        assert!(failed);
        assert_eq!(f.into_covariance(), cov);
    }

    #[test]
    fn nan_covariance_is_an_error_naming_it() {
        let cov = Array2::from_elem((2, 2), f64::NAN);
        let e = factor_with_jitter(cov, 1e10, "within-class").unwrap_err();
        assert!(e.to_string().contains("within-class"), "{e}");
    }
}
