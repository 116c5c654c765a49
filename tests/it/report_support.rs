//! Building full reports from feature files for the report tests.
//!
//! No fitted AdUE head exists for these cases here, so the `adue` scores are the AdUE
//! uncertainty of the *initial* head, `U(θ₀) = clamp(1 − SmoothMax_λ(softmax(z)))` from the
//! stored logits (the point the fit starts from), and the grid is that single zero-epoch
//! configuration. Everything else is computed exactly as the pipeline does.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use adue_compile::fit::{Config, FitOutcome, GridResult, Schedule};
use adue_compile::head::{softmax_rows, uncertainty_from_probs, Head, UeHead, UeSpec};
use adue_compile::report::{
    EvaluationSections, FitSection, InputFile, Report, ReportParts, SelectionContext,
};
use adue_compile::score::{
    evaluate, roc_auc, EvalConfig, Evaluation, SplitInputs, SplitScores, TrainInputs,
};
use ndarray::{Array1, Axis};

use crate::score_golden::{read_split, split_inputs};
use crate::util::{case_dir, reader_cases, root};
use adue_compile::load::FeatureSet;

/// `U(θ₀)` per row of logits.
pub fn initial_u(logits: &ndarray::Array2<f32>) -> Array1<f32> {
    let p = softmax_rows(logits.view());
    p.axis_iter(Axis(0))
        .map(|r| uncertainty_from_probs(r, &UeSpec::paper()))
        .collect()
}

/// Mean BCE of `u` against the errors `e` (the AdUE loss at θ₀, where both regularisers are 0).
fn bce(u: &Array1<f32>, errors: &Array1<bool>) -> f64 {
    let s: f64 = u
        .iter()
        .zip(errors)
        .map(|(&u, &e)| {
            let u = f64::from(u);
            if e {
                -u.ln()
            } else {
                -(1.0 - u).ln()
            }
        })
        .sum();
    s / u.len() as f64
}

/// The report and scores of the case in `dir` (relative to the crate root).
pub fn case_report(dir: &Path, resamples: usize) -> (Report, Evaluation) {
    let (train, val, test) = (
        read_split(dir, "train"),
        read_split(dir, "val"),
        read_split(dir, "test"),
    );
    let logits = |f: &FeatureSet| f.logits.clone().expect("logits");
    let (u_val, u_test) = (initial_u(&logits(&val)), initial_u(&logits(&test)));
    fn split<'a>(name: &'a str, f: &'a FeatureSet, u: &'a Array1<f32>) -> SplitInputs<'a> {
        SplitInputs {
            adue: Some(u.view()),
            ..split_inputs(name, f)
        }
    }
    let mut cfg = EvalConfig::new(0);
    cfg.bootstrap.resamples = resamples;
    let train_in = TrainInputs {
        name: "train",
        labels: train.labels.view(),
        features: train.features.view(),
    };
    let started = std::time::Instant::now();
    let eval = evaluate(
        &train_in,
        &[split("val", &val, &u_val), split("test", &test, &u_test)],
        None,
        &cfg,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let seconds = started.elapsed().as_secs_f64();

    let errors_of = |s: &SplitScores| s.errors.clone();
    let val_scores = eval.scores.iter().find(|s| s.split == "val").unwrap();
    let val_auc = roc_auc(
        &u_val.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
        &errors_of(val_scores).to_vec(),
    );
    let train_errors: Array1<bool> = adue_compile::score::LogitStats::new(
        train.logits.as_ref().unwrap().view(),
        train.labels.view(),
        1.0,
    )
    .errors;
    let u_train = initial_u(&logits(&train));
    // The single zero-epoch configuration "selected" on val (hold-out), no calibration split.
    let cfg = Config {
        index: 0,
        alpha: 0.0,
        beta: 0.0,
        lr: 0.0,
        lambda: UeSpec::paper().lambda,
        epochs: 0,
        schedule: Schedule::OneCycle,
    };
    let result = GridResult::new(&cfg, 0, val_auc, bce(&u_train, &train_errors));
    let outcome = FitOutcome {
        ue: UeHead {
            head: Head::Linear {
                weight: ndarray::Array2::zeros((2, 1)),
                bias: None,
            },
            spec: UeSpec::paper(),
        },
        selected: result.clone(),
        selected_index: 0,
        grid: vec![result],
        cv: None,
    };
    let context = SelectionContext {
        seed: 0,
        split: "val".into(),
        rows: val_scores.labels.len(),
        errors: val_scores.errors.iter().filter(|&&e| e).count(),
        stratified_on: "none".into(),
        biased_splits: vec!["val".into()],
    };
    let fit = FitSection::from_outcome(&outcome, context, None).unwrap();

    let inputs: BTreeMap<String, InputFile> = ["train", "val", "test"]
        .iter()
        .map(|s| {
            let rel = dir.join(format!("{s}.safetensors"));
            let hashed = InputFile::hash(&root().join(&rel)).unwrap();
            let f = InputFile {
                path: rel.display().to_string(),
                sha256: hashed.sha256,
            };
            (s.to_string(), f)
        })
        .collect();
    let report = Report::new(ReportParts {
        seed: 0,
        label_names: None,
        inputs,
        head: None,
        fit,
        evaluation: EvaluationSections::new(&eval).unwrap(),
        timing: BTreeMap::from([("evaluate".to_string(), seconds)]),
    })
    .unwrap();
    (report, eval)
}

/// The synthetic cases, then the real fixtures and the reader-coverage cases that are present
/// (directories relative to the crate root).
pub fn report_cases() -> Vec<(String, std::path::PathBuf)> {
    let mut v: Vec<(String, std::path::PathBuf)> =
        ["synth-4class", "synth-singular", "synth-degenerate"]
            .iter()
            .map(|c| (c.to_string(), Path::new("tests/golden/synthetic").join(c)))
            .collect();
    for c in reader_cases() {
        let d = case_dir(&c)
            .strip_prefix(root())
            .expect("case directories are under the crate root")
            .to_path_buf();
        if root().join(&d).join("train.safetensors").exists() {
            v.push((c, d));
        }
    }
    v
}

/// The report as JSON with every float rounded to 9 significant digits (deterministic,
/// independent of last-bit differences between CPUs) for snapshots.
pub fn rounded(report: &Report) -> serde_json::Value {
    fn round(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap_or(0.0);
                let r: f64 = format!("{x:.8e}").parse().unwrap_or(x);
                *v = serde_json::json!(r);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(round),
            serde_json::Value::Object(o) => o.values_mut().for_each(round),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(report).unwrap();
    round(&mut v);
    v
}
