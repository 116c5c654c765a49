//! Tests of the Mahalanobis estimators against the textbook formula with an explicit inverse.

use super::*;
use linfa::traits::Predict;
use linfa_linalg::cholesky::InverseC;
use ndarray::{Array1, Array2};

/// Deterministic pseudo-random features: class c is shifted by c along a few directions.
fn data(n: usize, d: usize, classes: usize) -> (Array2<f32>, Array1<usize>) {
    let y = Array1::from_shape_fn(n, |i| (i * 7) % classes);
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        let h = (i as u64 * 2_654_435_761 + j as u64 * 40_503) % 10_007;
        (h as f32 / 10_007.0 - 0.5) * (1.0 + j as f32 / 4.0) + (y[i] * (j % 3)) as f32
    });
    (x, y)
}

/// `(x − μ)ᵀ Σ⁻¹ (x − μ)` with `Σ⁻¹` from linfa-linalg's `invc`.
fn direct(x: &Array2<f32>, mean: &Array1<f64>, cov_inv: &Array2<f64>) -> Array1<f64> {
    x.rows()
        .into_iter()
        .map(|r| {
            let v = r.mapv(f64::from) - mean;
            v.dot(&cov_inv.dot(&v))
        })
        .collect()
}

fn covariance(x: &Array2<f32>, y: &Array1<usize>, means: &Array2<f64>) -> Array2<f64> {
    let mut xc = x.mapv(f64::from);
    for (mut r, &c) in xc.rows_mut().into_iter().zip(y) {
        r -= &means.row(c);
    }
    xc.t().dot(&xc) / x.nrows() as f64
}

#[test]
fn scores_match_the_explicit_inverse() {
    let (x, y) = data(400, 24, 3);
    let model = MahalanobisParams::new(3)
        .fit(&DatasetBase::new(x.view(), y.view()))
        .unwrap();
    assert_eq!(model.within_info().jitter, 0.0);
    let means = class_means(x.view(), y.view(), 3).means;
    let cov = covariance(&x, &y, &means);
    let inv = cov.invc().unwrap();
    let (test, _) = data(50, 24, 3);
    let dist = model.distances(test.view()).unwrap();
    for c in 0..3 {
        let expect = direct(&test, &means.row(c).to_owned(), &inv);
        for (a, b) in dist.column(c).iter().zip(expect.iter()) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
    let score: Array1<f64> = model.predict(&test);
    assert_eq!(score, whitening::row_min(&dist));

    // Relative: minus the distance to N(μ₀, Σ₀), Σ₀ the covariance of all rows about μ₀.
    let overall = x.mapv(f64::from).mean_axis(Axis(0)).unwrap();
    let all = Array2::from_shape_fn((1, 24), |(_, j)| overall[j]);
    let cov0 = covariance(&x, &Array1::zeros(x.nrows()), &all);
    let d0 = direct(&test, &overall, &cov0.invc().unwrap());
    let rel: Array1<f64> = model.relative().unwrap().predict(&test);
    for i in 0..test.nrows() {
        let expect = score[i] - d0[i];
        assert!((rel[i] - expect).abs() <= 1e-9 * expect.abs().max(1.0));
    }

    // Export form: ‖W x − m_c‖² is the same distance.
    let e = model.whitening();
    let wx = test.mapv(f64::from).dot(&e.w.t());
    for c in 0..3 {
        let d: Array1<f64> = wx
            .rows()
            .into_iter()
            .map(|r| (&r - &e.class_means.row(c)).mapv(|v| v * v).sum())
            .collect();
        for (a, b) in d.iter().zip(dist.column(c)) {
            assert!((a - b).abs() <= 1e-8 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
}

#[test]
fn singular_covariance_is_jittered_and_recorded() {
    // N = 20 rows in D = 40 dimensions: rank ≤ 18 after removing two class means.
    let (x, y) = data(20, 40, 2);
    let model = MahalanobisParams::new(2)
        .fit(&DatasetBase::new(x.view(), y.view()))
        .unwrap();
    let info = model.within_info();
    assert!(info.jitter > 0.0 && info.attempts > 1, "{info:?}");
    assert!(info.condition_number <= 1e10);
    let s: Array1<f64> = model.predict(&x);
    assert!(s.iter().all(|v| v.is_finite() && *v >= 0.0));
}

#[test]
fn classes_without_rows_are_left_out() {
    let (x, y) = data(60, 5, 2);
    let model = MahalanobisParams::new(4)
        .fit(&DatasetBase::new(x.view(), y.view()))
        .unwrap();
    assert_eq!(model.classes(), &[0, 1]);
    assert_eq!(model.class_counts(), &[30, 30, 0, 0]);
    assert_eq!(model.distances(x.view()).unwrap().ncols(), 2);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let (mut x, y) = data(30, 4, 2);
    let p = MahalanobisParams::new(2);
    let wide = Array2::<f32>::zeros((3, 5));
    let model = p.fit(&DatasetBase::new(x.view(), y.view())).unwrap();
    let e = model.distances(wide.view()).unwrap_err();
    assert!(e.to_string().contains("5 columns, expected 4"), "{e}");
    let s: Array1<f64> = model.predict(&wide);
    assert!(s.iter().all(|v| v.is_nan()));
    x[[7, 2]] = f32::INFINITY;
    let e = p.fit(&DatasetBase::new(x.view(), y.view())).unwrap_err();
    assert!(e.to_string().contains("row 7"), "{e}");
    let e = MahalanobisParams::new(1)
        .fit(&DatasetBase::new(x.view(), y.view()))
        .unwrap_err();
    assert!(e.to_string().contains("outside 0..1"), "{e}");
    let e = MahalanobisParams::new(2)
        .max_condition(f64::NAN)
        .fit(&DatasetBase::new(x.view(), y.view()))
        .unwrap_err();
    assert!(e.to_string().contains("max_condition"), "{e}");
}

#[test]
fn chunked_scores_equal_whitening_all_rows_at_once() {
    // More rows than one whitening chunk (1024 rows at D = 24), the last chunk partial.
    let (x, y) = data(300, 24, 3);
    let model = MahalanobisParams::new(3)
        .fit(&DatasetBase::new(x.view(), y.view()))
        .unwrap();
    let (test, _) = data(2 * 1024 + 3, 24, 3);
    let z = model.within.whiten(test.view(), model.center.view());
    let full = whitening::squared_distances(z.view(), model.centered_whitened_means.view());
    assert_eq!(model.distances(test.view()).unwrap(), full);
    let bg = model.background.as_ref().unwrap();
    let z0 = bg.whiten(test.view(), model.center.view());
    let rel = whitening::row_min(&full) - z0.map_axis(Axis(1), |r| r.dot(&r));
    assert_eq!(model.relative_scores(test.view()).unwrap().unwrap(), rel);
}
