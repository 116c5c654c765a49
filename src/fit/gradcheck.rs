//! Gradient checks: the hand-derived backward pass against central finite differences in
//! f64, for every head kind and every loss term, through dropout masks, the softmax, the
//! SmoothMax and the clamp.

use ndarray::{s, Array1, Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::loss::{data_terms, l2sp_into, LossSpec};
use super::model::{backward, forward, Pass, Workspace};

use crate::head::HeadLayout;
use crate::head::{softmax_rows, uncertainty_from_probs, Activation, UeSpec};

/// Weights of the three loss terms.
#[derive(Clone, Copy, Debug)]
struct Terms {
    bce: f64,
    alpha: f64,
    beta: f64,
}

/// A fixed mini-batch: inputs after dropout, hidden keep-mask, targets.
struct Batch {
    x: Array2<f64>,
    keep: Option<Array2<f64>>,
    e: Vec<f64>,
    u_sr: Vec<f64>,
}

fn random_batch(arch: &HeadLayout, rows: usize, rng: &mut Xoshiro256PlusPlus) -> Batch {
    let d = arch.input_dim();
    let keep_factor =
        |rng: &mut Xoshiro256PlusPlus| if rng.gen_bool(0.2) { 0.0 } else { 1.0 / 0.9 };
    let x = Array2::from_shape_fn((rows, d), |_| rng.gen_range(-1.5..1.5) * keep_factor(rng));
    let keep = (arch.hidden_dim() > 0)
        .then(|| Array2::from_shape_fn((rows, arch.hidden_dim()), |_| keep_factor(rng)));
    let e = (0..rows).map(|i| (i % 3 == 0) as u8 as f64).collect();
    let u_sr = (0..rows).map(|_| rng.gen_range(0.0..0.6)).collect();
    Batch { x, keep, e, u_sr }
}

/// The full loss and its analytic gradient at θ.
fn objective(
    arch: &HeadLayout,
    theta: &[f64],
    theta0: &[f64],
    batch: &Batch,
    spec: &UeSpec,
    w: Terms,
) -> (f64, Vec<f64>) {
    let rows = batch.x.nrows();
    let mut ws = Workspace::<f64>::new(arch, rows);
    let keep = batch.keep.as_ref().map(|k| k.view());
    forward(arch, theta, batch.x.view(), Pass::Train(keep), &mut ws);
    let (logits, dlogits) = ws.logits_and_grad(rows);
    let sums = data_terms(
        logits,
        &batch.e,
        &batch.u_sr,
        &LossSpec::new(spec, w.bce, w.alpha),
        dlogits,
    );
    let mut grad = vec![0.0; theta.len()];
    backward(arch, theta, batch.x.view(), keep, &mut ws, &mut grad);
    let sumsq = l2sp_into(&mut grad, theta, theta0, w.beta);
    let loss = (w.bce * sums.bce + w.alpha * sums.align) / rows as f64 + w.beta * sumsq;
    (loss, grad)
}

/// Largest `|finite difference − analytic|` over all parameters, relative to the largest
/// analytic gradient component; and that largest component.
fn check(arch: HeadLayout, spec: UeSpec, w: Terms, logit_scale: f64, seed: u64) -> (f64, f64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let n = arch.num_params();
    let theta0: Vec<f64> = (0..n)
        .map(|_| rng.gen_range(-0.5..0.5) * logit_scale)
        .collect();
    // Away from θ₀, so the L2-SP term has a gradient.
    let theta: Vec<f64> = theta0
        .iter()
        .map(|t| t + rng.gen_range(-0.1..0.1))
        .collect();
    let batch = random_batch(&arch, 7, &mut rng);
    let (_, grad) = objective(&arch, &theta, &theta0, &batch, &spec, w);
    let h = 1e-6;
    let mut worst = 0.0f64;
    let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for i in 0..n {
        let mut plus = theta.clone();
        plus[i] += h;
        let mut minus = theta.clone();
        minus[i] -= h;
        let fd = (objective(&arch, &plus, &theta0, &batch, &spec, w).0
            - objective(&arch, &minus, &theta0, &batch, &spec, w).0)
            / (2.0 * h);
        worst = worst.max((fd - grad[i]).abs());
    }
    (worst / scale.max(1e-300), scale)
}

fn archs() -> Vec<(&'static str, HeadLayout)> {
    vec![
        ("linear+bias", HeadLayout::linear(6, 3, true)),
        ("linear-no-bias", HeadLayout::linear(6, 4, false)),
        ("dense-tanh", HeadLayout::dense(5, 4, 3, Activation::Tanh)),
        ("dense-gelu", HeadLayout::dense(5, 4, 2, Activation::Gelu)),
        // More classes than the row kernels take: the GEMM paths.
        ("linear-wide", HeadLayout::linear(3, 20, true)),
        ("dense-wide", HeadLayout::dense(3, 4, 20, Activation::Tanh)),
    ]
}

const TERMS: [(&str, Terms); 4] = [
    (
        "bce",
        Terms {
            bce: 1.0,
            alpha: 0.0,
            beta: 0.0,
        },
    ),
    (
        "alpha",
        Terms {
            bce: 0.0,
            alpha: 1.0,
            beta: 0.0,
        },
    ),
    (
        "beta",
        Terms {
            bce: 0.0,
            alpha: 0.0,
            beta: 1.0,
        },
    ),
    (
        "all",
        Terms {
            bce: 1.0,
            alpha: 0.3,
            beta: 0.5,
        },
    ),
];

/// Central differences with h = 1e-6 in f64 have truncation error ~h²·|f'''| and rounding
/// error ~1e-16·|f|/h ~ 1e-10; the observed worst case over all kinds and terms is 1e-9
/// relative to the largest gradient component. 1e-7 keeps a margin of 100 while any wrong
/// factor or sign (errors of order 1) fails.
const TOL: f64 = 1e-7;

#[test]
fn every_kind_and_every_term_matches_finite_differences() {
    for (name, arch) in archs() {
        for (term, w) in TERMS {
            for (variant, spec) in [
                ("paper", UeSpec::paper()),
                (
                    "rescaled",
                    UeSpec {
                        scale: 1.0 / (1.0 - 1.0 / arch.num_classes() as f64),
                        ..UeSpec::paper()
                    },
                ),
            ] {
                let (rel, scale) = check(arch, spec, w, 1.0, 11);
                assert!(
                    scale > 1e-4,
                    "{name}/{term}/{variant}: degenerate gradient {scale}"
                );
                assert!(rel < TOL, "{name}/{term}/{variant}: relative error {rel:e}");
            }
        }
    }
}

/// Rows of `x` whose U is clamped to `eps`.
fn clamped_rows(arch: &HeadLayout, theta: &[f64], batch: &Batch) -> usize {
    let mut ws = Workspace::<f64>::new(arch, batch.x.nrows());
    forward(
        arch,
        theta,
        batch.x.view(),
        Pass::Train(batch.keep.as_ref().map(|k| k.view())),
        &mut ws,
    );
    softmax_rows(ws.logits(batch.x.nrows()).mapv(|v| v as f32).view())
        .rows()
        .into_iter()
        .filter(|r| uncertainty_from_probs(r.view(), &UeSpec::paper()) == 1e-7f32)
        .count()
}

#[test]
fn clamped_rows_have_zero_gradient_and_finite_differences_agree() {
    let w = Terms {
        bce: 1.0,
        alpha: 1.0,
        beta: 0.0,
    };
    for (name, arch) in archs() {
        // Huge weights saturate the softmax: 1 − SmoothMax ≤ 0 < eps on every row, so the BCE
        // and α terms are flat in θ and their gradient is exactly zero.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let theta: Vec<f64> = (0..arch.num_params())
            .map(|_| rng.gen_range(-0.5..0.5) * 4000.0)
            .collect();
        let batch = random_batch(&arch, 7, &mut rng);
        assert_eq!(clamped_rows(&arch, &theta, &batch), 7, "{name}");
        let (_, grad) = objective(&arch, &theta, &theta, &batch, &UeSpec::paper(), w);
        assert!(
            grad.iter().all(|&g| g == 0.0),
            "{name}: gradient leaks through the clamp"
        );
        assert_eq!(check(arch, UeSpec::paper(), w, 4000.0, 5).0, 0.0, "{name}");
    }
    // Mixed batch on a linear head: rows scaled ×300 are clamped, the others are not; the
    // finite differences still match the analytic gradient.
    let arch = HeadLayout::linear(6, 3, true);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
    let theta: Vec<f64> = (0..arch.num_params())
        .map(|_| rng.gen_range(-0.5..0.5))
        .collect();
    let mut batch = random_batch(&arch, 8, &mut rng);
    batch.x.slice_mut(s![..4, ..]).mapv_inplace(|v| v * 300.0);
    let clamped = clamped_rows(&arch, &theta, &batch);
    assert!((1..8).contains(&clamped), "{clamped} rows clamped");
    let (_, grad) = objective(&arch, &theta, &theta, &batch, &UeSpec::paper(), w);
    let h = 1e-6;
    let gmax = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for i in 0..theta.len() {
        let f = |d: f64| {
            let mut t = theta.clone();
            t[i] += d;
            objective(&arch, &t, &theta, &batch, &UeSpec::paper(), w).0
        };
        let fd = (f(h) - f(-h)) / (2.0 * h);
        assert!(
            (fd - grad[i]).abs() < TOL * gmax,
            "param {i}: {fd} vs {}",
            grad[i]
        );
    }
}

#[test]
fn loss_uncertainty_is_the_shared_definition_and_survives_large_logits() {
    // The U inside the loss is U of crate::head (within f64 rounding), also for logits where
    // an unshifted exp(λ p) or exp(z) would overflow.
    let spec = UeSpec {
        lambda: 100.0,
        ..UeSpec::paper()
    };
    for scale in [1.0, 50.0, 2000.0] {
        let logits =
            Array2::from_shape_fn((6, 4), |(i, j)| ((i * 7 + j * 3) % 5) as f64 * 0.37 * scale);
        let e = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        // With w_bce = 0 and α = 1, U_SR = 0: the α term sums U², so U = sqrt of each row's term.
        let mut d = Array2::zeros((6, 4));
        let u_sr = [0.0; 6];
        for r in 0..6 {
            let row: ArrayView2<f64> = logits.slice(s![r..r + 1, ..]);
            let sums = data_terms(
                row,
                &e[r..r + 1],
                &u_sr[r..r + 1],
                &LossSpec::new(&spec, 1.0, 1.0),
                d.slice_mut(s![r..r + 1, ..]),
            );
            assert!(
                sums.bce.is_finite() && d.iter().all(|v: &f64| v.is_finite()),
                "scale {scale}"
            );
            let u = sums.align.sqrt();
            let p: Array1<f32> = softmax_rows(row.mapv(|v| v as f32).view())
                .row(0)
                .to_owned();
            let reference = f64::from(uncertainty_from_probs(p.view(), &spec));
            // The reference rounds p to f32 first: agreement to f32 resolution.
            assert!(
                (u - reference).abs() < 1e-6,
                "scale {scale} row {r}: {u} vs {reference}"
            );
        }
    }
}

#[test]
fn f32_forward_and_backward_track_f64() {
    let arch = HeadLayout::dense(16, 8, 3, Activation::Tanh);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let theta: Vec<f64> = (0..arch.num_params())
        .map(|_| rng.gen_range(-0.3..0.3))
        .collect();
    let batch = random_batch(&arch, 9, &mut rng);
    let w = Terms {
        bce: 1.0,
        alpha: 0.3,
        beta: 0.1,
    };
    let (l64, g64) = objective(&arch, &theta, &theta, &batch, &UeSpec::paper(), w);
    let theta32: Vec<f32> = theta.iter().map(|&v| v as f32).collect();
    let mut ws = Workspace::<f32>::new(&arch, 9);
    let x = batch.x.mapv(|v| v as f32);
    let keep = batch.keep.as_ref().map(|k| k.mapv(|v| v as f32));
    forward(
        &arch,
        &theta32,
        x.view(),
        Pass::Train(keep.as_ref().map(|k| k.view())),
        &mut ws,
    );
    let e: Vec<f32> = batch.e.iter().map(|&v| v as f32).collect();
    let u: Vec<f32> = batch.u_sr.iter().map(|&v| v as f32).collect();
    let (logits, dlogits) = ws.logits_and_grad(9);
    let sums = data_terms(
        logits,
        &e,
        &u,
        &LossSpec::new(&UeSpec::paper(), 1.0, 0.3),
        dlogits,
    );
    let mut g32 = vec![0.0f32; theta32.len()];
    backward(
        &arch,
        &theta32,
        x.view(),
        keep.as_ref().map(|k| k.view()),
        &mut ws,
        &mut g32,
    );
    let l32 = f64::from(sums.bce + 0.3 * sums.align) / 9.0;
    assert!((l32 - l64).abs() < 1e-5 * l64.abs(), "{l32} vs {l64}");
    let gmax = g64.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for (a, b) in g32.iter().zip(&g64) {
        assert!((f64::from(*a) - b).abs() < 1e-4 * gmax, "{a} vs {b}");
    }
}
