//! Adam + OneCycle against PyTorch: `fit_reference/adam_onecycle.py` recorded the learning
//! rate, the gradient and the parameters at every step; the recorded gradients are replayed
//! through `adue_compile::fit::optim` and every learning rate and parameter is compared.

use adue_compile::fit::optim::{Adam, OneCycle};
use ndarray::NdFloat;
use serde_json::Value;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fit_reference/adam_onecycle.json"
    );
    let text = std::fs::read_to_string(path).expect("reference file is committed");
    let json: Value = serde_json::from_str(&text).expect("reference file is JSON");
    json["cases"].as_array().expect("cases").clone()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Replays one case in `F`; returns the largest relative parameter error over all steps
/// (relative to max(|torch value|, 1e-3)).
fn replay<F: NdFloat>(case: &Value) -> f64 {
    let total = case["total_steps"].as_u64().unwrap() as usize;
    let schedule = OneCycle::new(case["max_lr"].as_f64().unwrap(), total);
    let mut theta: Vec<F> = floats(&case["theta0"])
        .iter()
        .map(|&v| F::from(v).unwrap())
        .collect();
    let mut adam = Adam::<F>::new(theta.len());
    let lrs = floats(&case["lrs"]);
    let mut worst = 0.0f64;
    for step in 0..total {
        let lr = schedule.lr(step);
        assert!(
            (lr - lrs[step]).abs() <= 1e-15 * lrs[step],
            "step {step}: lr {lr} vs {}",
            lrs[step]
        );
        let grad: Vec<F> = floats(&case["grads"][step])
            .iter()
            .map(|&v| F::from(v).unwrap())
            .collect();
        adam.step(&mut theta, &grad, lr);
        for (ours, torch) in theta.iter().zip(floats(&case["params"][step])) {
            let ours = ours.to_f64().unwrap();
            worst = worst.max((ours - torch).abs() / torch.abs().max(1e-3));
        }
    }
    assert_eq!(adam.steps() as usize, total);
    worst
}

#[test]
fn adam_and_one_cycle_match_pytorch_in_f64() {
    let mut n = 0;
    for case in cases().iter().filter(|c| c["dtype"] == "float64") {
        let worst = replay::<f64>(case);
        // Same operations in the same order: agreement to a few ulps.
        assert!(
            worst < 1e-13,
            "total_steps {}: {worst:e}",
            case["total_steps"]
        );
        n += 1;
    }
    assert_eq!(n, 5);
}

#[test]
fn adam_matches_pytorch_in_f32() {
    let mut n = 0;
    for case in cases().iter().filter(|c| c["dtype"] == "float32") {
        let worst = replay::<f32>(case);
        // f32 kernels may fuse or reorder (√v/c + ε, m/denom): a few f32 ulps (1.2e-7); observed 1.6e-7.
        assert!(
            worst < 1e-6,
            "total_steps {}: {worst:e}",
            case["total_steps"]
        );
        n += 1;
    }
    assert_eq!(n, 5);
}

#[test]
fn one_cycle_shape_and_degenerate_warmup() {
    let s = OneCycle::new(1e-3, 100);
    assert!((s.lr(0) - 1e-3 / 25.0).abs() < 1e-18);
    // Peak at the end of the warm-up (step 0.1·100 − 1 = 9), floor at the last step.
    assert!((s.lr(9) - 1e-3).abs() < 1e-18);
    assert!((s.lr(99) - 1e-3 / 25.0 / 1e4).abs() < 1e-18);
    // PyTorch raises ZeroDivisionError for a zero-length warm-up (total_steps = 10); the
    // degenerate phase yields its end value, then annealing proceeds normally.
    let s = OneCycle::new(1e-3, 10);
    assert_eq!(s.lr(0), 1e-3);
    assert!(s.lr(1) < 1e-3 && s.lr(9) < s.lr(1));
}
