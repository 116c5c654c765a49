//! `score::evaluate` end to end on the synthetic golden cases: stated outcomes for
//! degenerate splits, determinism across thread counts, paired intervals, typed errors.

use std::path::Path;

use adue_compile::head::{Activation, Head};
use adue_compile::report::EvaluationSections;
use adue_compile::score::{evaluate, method, EvalConfig, ScoreError, TrainInputs};
use ndarray::{Array1, Array2};

use crate::score_golden::{evaluate_case, read_split, split_inputs};

const FOUR: &str = "tests/golden/synthetic/synth-4class";
const DEGENERATE: &str = "tests/golden/synthetic/synth-degenerate";

/// The evaluation in the report's form (`report::evaluation` maps it).
fn sections(e: &adue_compile::score::Evaluation) -> EvaluationSections {
    EvaluationSections::new(e).unwrap()
}

fn json(e: &adue_compile::score::Evaluation) -> String {
    serde_json::to_string(&sections(e)).unwrap()
}

#[test]
fn identical_for_any_thread_count() {
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| json(&evaluate_case(Path::new(FOUR), 200)))
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn split_without_errors_states_why_metrics_are_null() {
    let e = evaluate_case(Path::new(DEGENERATE), 100);
    let s = &sections(&e);
    assert_eq!(s.data["test"].errors, 0);
    assert_eq!(s.data["test"].classes_present, 1);
    for m in [
        method::SOFTMAX_RESPONSE,
        method::MAHALANOBIS,
        method::ENTROPY,
    ] {
        let mm = &s.methods[m]["test"];
        for est in [&mm.roc_auc, &mm.prr] {
            assert!(est.value.is_none() && est.ci95.is_none());
            let why = est.reason.as_deref().unwrap();
            assert!(
                why.contains("no prediction in split `test` is wrong"),
                "{why}"
            );
            assert_eq!(est.skipped_resamples, 100);
        }
        // AURC is defined (0) without errors.
        assert_eq!(mm.aurc.value.map(f64::from), Some(0.0));
    }
    // Nothing non-finite reaches the JSON: every number parses back as a finite f64.
    let v: serde_json::Value = serde_json::from_str(&json(&e)).unwrap();
    fn walk(v: &serde_json::Value) {
        match v {
            serde_json::Value::Number(n) => assert!(n.as_f64().unwrap().is_finite()),
            serde_json::Value::Array(a) => a.iter().for_each(walk),
            serde_json::Value::Object(o) => o.values().for_each(walk),
            _ => {}
        }
    }
    walk(&v);
}

/// A split whose head is always wrong, with given AdUE scores.
fn run_with_adue(adue: &Array1<f32>, wrong: bool) -> adue_compile::score::Evaluation {
    let (train, val) = (
        read_split(Path::new(FOUR), "train"),
        read_split(Path::new(FOUR), "val"),
    );
    let mut labels = val.labels.clone();
    if wrong {
        let logits = val.logits.as_ref().unwrap();
        for (i, y) in labels.iter_mut().enumerate() {
            let pred = adue_compile::head::argmax(logits.row(i)).unwrap();
            *y = (pred + 1) % logits.ncols();
        }
    }
    let mut split = split_inputs("val", &val);
    split.labels = labels.view();
    split.adue = Some(adue.view());
    let train_in = TrainInputs {
        name: "train",
        labels: train.labels.view(),
        features: train.features.view(),
    };
    let mut cfg = EvalConfig::new(3);
    cfg.bootstrap.resamples = 100;
    evaluate(&train_in, &[split], None, &cfg).unwrap()
}

#[test]
fn all_errors_and_constant_scores_have_stated_outcomes() {
    let n = 300;
    let e = run_with_adue(&Array1::from_elem(n, 0.25), true);
    let a = &sections(&e).methods[method::ADUE]["val"];
    let why = a.roc_auc.reason.as_deref().unwrap();
    assert!(
        why.contains("every prediction in split `val` is wrong"),
        "{why}"
    );
    assert_eq!(a.aurc.value.map(f64::from), Some(1.0));
    assert_eq!(
        sections(&e).calibration["val"]
            .original
            .accuracy
            .value
            .map(f64::from),
        Some(0.0)
    );

    // Constant AdUE on an ordinary split: ROC-AUC 1/2 and PRR 0 exactly.
    let e = run_with_adue(&Array1::from_elem(n, 0.25), false);
    let a = &sections(&e).methods[method::ADUE]["val"];
    assert_eq!(a.roc_auc.value.map(f64::from), Some(0.5));
    assert_eq!(a.prr.value.map(f64::from), Some(0.0));
    let [lo, hi] = a.roc_auc.ci95.unwrap();
    assert_eq!((f64::from(lo), f64::from(hi)), (0.5, 0.5));
}

#[test]
fn paired_difference_uses_the_same_resamples() {
    // AdUE = softmax response exactly: every paired difference is 0.
    let val = read_split(Path::new(FOUR), "val");
    let sr = adue_compile::score::LogitStats::new(
        val.logits.as_ref().unwrap().view(),
        val.labels.view(),
        1.0,
    )
    .softmax_response()
    .mapv(|v| v as f32);
    let e = run_with_adue(&sr, false);
    let c = &sections(&e).comparisons["adue_vs_softmax_response"]["val"].roc_auc_diff;
    assert!(f64::from(c.value.unwrap()).abs() < 1e-6);
    let [lo, hi] = c.ci95.unwrap();
    assert!(
        f64::from(lo).abs() < 1e-6 && f64::from(hi).abs() < 1e-6,
        "{lo:?} {hi:?}"
    );
    // While each method's own interval has width.
    let [lo, hi] = sections(&e).methods[method::SOFTMAX_RESPONSE]["val"]
        .roc_auc
        .ci95
        .unwrap();
    assert!(f64::from(hi) - f64::from(lo) > 0.02);
}

#[test]
fn intervals_bracket_the_point_estimates() {
    let e = evaluate_case(Path::new(FOUR), 300);
    for (m, per_split) in &sections(&e).methods {
        for (split, mm) in per_split {
            for est in [&mm.roc_auc, &mm.aurc, &mm.prr] {
                let v = f64::from(est.value.unwrap());
                let [lo, hi] = est.ci95.unwrap();
                assert!(
                    f64::from(lo) <= v + 1e-12 && v <= f64::from(hi) + 0.02,
                    "{m} {split}"
                );
                assert!(f64::from(lo) < f64::from(hi), "{m} {split}: empty interval");
            }
        }
    }
    assert_eq!(sections(&e).bootstrap.resamples, 300);
}

#[test]
fn dense_head_adds_hidden_layer_mahalanobis() {
    let dir = Path::new(FOUR);
    let (train, val) = (read_split(dir, "train"), read_split(dir, "val"));
    let (d, h, c) = (48, 24, 4);
    let head = Head::Dense {
        dense_weight: Array2::from_shape_fn((h, d), |(i, j)| {
            ((i * 7 + j * 3) % 11) as f32 / 40.0 - 0.12
        }),
        dense_bias: Array1::from_shape_fn(h, |i| i as f32 / 100.0),
        activation: Activation::Tanh,
        out_weight: Array2::from_shape_fn((c, h), |(i, j)| ((i + j) % 5) as f32 / 10.0),
        out_bias: Array1::zeros(c),
    };
    let train_in = TrainInputs {
        name: "train",
        labels: train.labels.view(),
        features: train.features.view(),
    };
    let mut cfg = EvalConfig::new(0);
    cfg.bootstrap.resamples = 20;
    let e = evaluate(&train_in, &[split_inputs("val", &val)], Some(&head), &cfg).unwrap();
    let s = sections(&e);
    let info = s.baselines.mahalanobis_hidden.as_ref().unwrap();
    assert_eq!((info.dim, info.features.as_str()), (h, "dense_hidden"));
    assert!(s.methods.contains_key(method::MAHALANOBIS_HIDDEN));
    assert!(e.mahalanobis_hidden.is_some());
}

#[test]
fn bad_inputs_are_typed_errors_naming_the_split() {
    let dir = Path::new(FOUR);
    let (train, val) = (read_split(dir, "train"), read_split(dir, "val"));
    let train_in = TrainInputs {
        name: "train",
        labels: train.labels.view(),
        features: train.features.view(),
    };
    let cfg = EvalConfig::new(0);
    let ok = split_inputs("val", &val);

    let mut test = split_inputs("test", &val);
    test.name = "val";
    let e = evaluate(&train_in, &[ok.clone(), test], None, &cfg).unwrap_err();
    assert!(matches!(e, ScoreError::DuplicateSplit { .. }), "{e}");

    let mut named = ok.clone();
    named.name = "test";
    let e = evaluate(&train_in, &[named], None, &cfg).unwrap_err();
    assert!(e.to_string().contains("split `val` is required"), "{e}");

    let short = Array1::<f32>::zeros(5);
    let mut bad = ok.clone();
    bad.adue = Some(short.view());
    let e = evaluate(&train_in, &[bad], None, &cfg).unwrap_err();
    assert!(
        e.to_string().contains("`adue` has 5 rows, expected 300"),
        "{e}"
    );

    let mut nan = Array1::<f32>::zeros(300);
    nan[17] = f32::NAN;
    let mut bad = ok.clone();
    bad.adue = Some(nan.view());
    let e = evaluate(&train_in, &[bad], None, &cfg).unwrap_err();
    assert!(
        e.to_string()
            .contains("`adue` holds a non-finite value at row 17"),
        "{e}"
    );

    let mut no_resamples = cfg.clone();
    no_resamples.bootstrap.resamples = 0;
    let e = evaluate(&train_in, std::slice::from_ref(&ok), None, &no_resamples).unwrap_err();
    assert!(e.to_string().contains("at least 1 resample"), "{e}");

    let narrow = val.features.slice(ndarray::s![.., ..40]).to_owned();
    let mut bad = ok.clone();
    bad.features = narrow.view();
    let e = evaluate(&train_in, &[bad], None, &cfg).unwrap_err();
    assert!(e.to_string().contains("40 columns, expected 48"), "{e}");
}
