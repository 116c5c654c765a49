//! Class means and the pooled within-class scatter `Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ`,
//! accumulated in f64 without materialising the `[N, D]` centred matrix.
//!
//! Rows are processed in chunks of [`CHUNK_BYTES`]: each chunk is centred and widened to
//! f64, then added into the lower triangle panel by panel, `S[j₀.., j₀..j₁] += X̃[:, j₀..]ᵀ
//! X̃[:, j₀..j₁]` (a syrk-like blocking that skips the upper triangle, ~half the flops of a
//! full `X̃ᵀX̃`). Panels are independent, so rayon runs them in parallel; each panel adds
//! the chunks in row order, so the sum does not depend on the thread count. Memory beyond
//! the features: one `D×D` f64 matrix and one chunk.

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};
use rayon::prelude::*;

/// Column width of a panel (also the Cholesky block size).
pub const PANEL: usize = 256;

/// Target size of one centred f64 chunk of rows.
pub const CHUNK_BYTES: usize = 16 << 20;

/// Per-class row counts and means (f64), `[C]` and `[C, D]`; also the overall mean.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassMeans {
    /// Rows of each class.
    pub counts: Vec<usize>,
    /// `[C, D]` class means; zero for a class without rows.
    pub means: Array2<f64>,
    /// `[D]` mean of all rows.
    pub overall: Array1<f64>,
}

/// Sums the rows of each class in f64. Columns are split across threads, each summing its
/// columns in row order, so the result is independent of the thread count.
pub fn class_means(x: ArrayView2<f32>, labels: ArrayView1<usize>, classes: usize) -> ClassMeans {
    let (n, d) = x.dim();
    let mut counts = vec![0usize; classes];
    for &y in labels {
        counts[y] += 1;
    }
    let mut sums = Array2::<f64>::zeros((classes, d));
    sums.axis_chunks_iter_mut(Axis(1), PANEL)
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut block)| {
            let cols = b * PANEL..b * PANEL + block.ncols();
            for (row, &y) in x.slice(s![.., cols]).axis_iter(Axis(0)).zip(labels) {
                Zip::from(block.row_mut(y))
                    .and(&row)
                    .for_each(|s, &v| *s += f64::from(v));
            }
        });
    let overall = if n > 0 {
        sums.sum_axis(Axis(0)) / n as f64
    } else {
        Array1::zeros(d)
    };
    for (mut row, &c) in sums.axis_iter_mut(Axis(0)).zip(&counts) {
        if c > 0 {
            row /= c as f64;
        }
    }
    ClassMeans {
        counts,
        means: sums,
        overall,
    }
}

/// The within-class scatter `Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ` (not divided by N),
/// as a full symmetric `D×D` row-major matrix.
pub fn within_class_scatter(
    x: ArrayView2<f32>,
    labels: ArrayView1<usize>,
    means: &Array2<f64>,
) -> Array2<f64> {
    let (n, d) = x.dim();
    let rows_per_chunk = (CHUNK_BYTES / (8 * d.max(1))).clamp(64, 4096);
    // Panel p holds S[p·PANEL.., p·PANEL..p·PANEL + w] (the lower trapezoid of its columns).
    let mut panels: Vec<Array2<f64>> = (0..d)
        .step_by(PANEL)
        .map(|j0| Array2::zeros((d - j0, PANEL.min(d - j0))))
        .collect();
    let mut chunk = Array2::<f64>::zeros((rows_per_chunk, d));
    for r0 in (0..n).step_by(rows_per_chunk) {
        let r1 = (r0 + rows_per_chunk).min(n);
        let mut c = chunk.slice_mut(s![..r1 - r0, ..]);
        Zip::from(c.rows_mut())
            .and(x.slice(s![r0..r1, ..]).rows())
            .and(labels.slice(s![r0..r1]))
            .par_for_each(|mut out, row, &y| {
                Zip::from(&mut out)
                    .and(&row)
                    .and(&means.row(y))
                    .for_each(|o, &v, &m| *o = f64::from(v) - m);
            });
        let c = c.view();
        panels.par_iter_mut().enumerate().for_each(|(p, panel)| {
            let j0 = p * PANEL;
            let w = panel.ncols();
            let a = c.slice(s![.., j0..]);
            let b = c.slice(s![.., j0..j0 + w]);
            ndarray::linalg::general_mat_mul(1.0, &a.t(), &b, 1.0, panel);
        });
    }
    drop(chunk);
    // Assemble the lower triangle, releasing each panel as it is copied, then mirror it.
    let mut full = Array2::<f64>::zeros((d, d));
    for (p, panel) in panels.into_iter().enumerate() {
        let j0 = p * PANEL;
        full.slice_mut(s![j0.., j0..j0 + panel.ncols()])
            .assign(&panel);
    }
    mirror_lower_to_upper(&mut full);
    full
}

/// Copies the strict lower triangle onto the strict upper triangle.
pub fn mirror_lower_to_upper(a: &mut Array2<f64>) {
    let n = a.nrows();
    for i in 0..n {
        for j in 0..i {
            a[[j, i]] = a[[i, j]];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    #[test]
    fn scatter_matches_the_direct_formula() {
        // D = 300 spans two panels; N = 150 rows.
        let (n, d, classes) = (150, 300, 3);
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            (((i * 7919 + j * 104729) % 1009) as f32 / 1009.0 - 0.5) + (i % classes) as f32
        });
        let y = Array1::from_shape_fn(n, |i| i % classes);
        let m = class_means(x.view(), y.view(), classes);
        assert_eq!(m.counts, vec![50, 50, 50]);
        let s = within_class_scatter(x.view(), y.view(), &m.means);
        let mut xc = x.mapv(f64::from);
        for (mut row, &yi) in xc.axis_iter_mut(Axis(0)).zip(&y) {
            row -= &m.means.row(yi);
        }
        let direct = xc.t().dot(&xc);
        let err = (&s - &direct).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
        assert!(err < 1e-9, "max abs diff {err}");
        assert_eq!(s, s.t());
    }
}
