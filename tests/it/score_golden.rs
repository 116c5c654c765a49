//! The scorer against the independent numpy / scikit-learn / scipy computation in
//! `tests/golden/metrics_golden.py`, whose output `tests/golden/<case>.json` is committed.
//!
//! Tolerances: 1e-9 absolute on every metric and on the temperature (relative), 1e-9
//! relative on the per-row scores of methods computed from logits. Mahalanobis scores are
//! compared relative to `max(1e-9, 10·ε·κ⁺)`: the two sides factorise the same matrix with
//! different (blocked vs LAPACK) but backward-stable algorithms, so their distances agree
//! to about `ε·κ`, not to a fixed 1e-9 when `Σ` is nearly singular. `κ⁺` bounds κ from
//! above: with jitter `j`, `λ_min ≥ j` and `λ_max ≤ tr Σ = D·mean_variance`; without
//! jitter it is `D·κ̂` (κ̂ from the Cholesky diagonal is a lower bound). The relative
//! distance `min_c d²_c − d²_0` is held to that tolerance relative to its terms
//! (`max(min_c d²_c, d²_0)`), since a difference loses digits to cancellation. Metrics of the
//! Mahalanobis scores are still held to 1e-9: they depend on the ranking only, which such
//! differences do not change.

use std::path::Path;

use adue_compile::load::{read_features, FeatureSet};
use adue_compile::report::model::{CalibrationEstimates, Estimate, MethodMetrics};
use adue_compile::report::EvaluationSections;
use adue_compile::score::{evaluate, EvalConfig, Evaluation, SplitInputs, TrainInputs};
use serde_json::Value;

use crate::util::root;

/// Every committed golden file.
fn golden_files() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join("tests/golden"))
        .expect("tests/golden exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        // Case files are written by metrics_golden.py; crosscheck.json (torchmetrics /
        // lm-polygraph comparison) and the `*_golden.json` files of other scripts
        // (lm-polygraph's AURC/PRR, scipy's DeLong) have their own tests.
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n != "crosscheck.json" && !n.ends_with("_golden.json"))
        })
        .collect();
    v.sort();
    v
}

/// The inputs of one split of a feature file (no AdUE scores).
pub fn split_inputs<'a>(name: &'a str, f: &'a FeatureSet) -> SplitInputs<'a> {
    SplitInputs {
        name,
        labels: f.labels.view(),
        original_logits: f.logits.as_ref().expect("fixture has logits").view(),
        features: f.features.view(),
        adue: None,
    }
}

/// Reads `<dir>/<split>.safetensors` (relative to the crate root).
pub fn read_split(dir: &Path, split: &str) -> FeatureSet {
    read_features(&root().join(dir).join(format!("{split}.safetensors")))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs the evaluation on the case in `dir`, without AdUE and without a head.
pub fn evaluate_case(dir: &Path, resamples: usize) -> Evaluation {
    let (train, val, test) = (
        read_split(dir, "train"),
        read_split(dir, "val"),
        read_split(dir, "test"),
    );
    let train_in = TrainInputs {
        name: "train",
        labels: train.labels.view(),
        features: train.features.view(),
    };
    let mut cfg = EvalConfig::new(0);
    cfg.bootstrap.resamples = resamples;
    let splits = [split_inputs("val", &val), split_inputs("test", &test)];
    evaluate(&train_in, &splits, None, &cfg).unwrap_or_else(|e| panic!("{e}"))
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

thread_local! {
    /// Largest |ours − golden| over the metrics of the current case (printed).
    static MAX_METRIC_DIFF: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

fn close(what: &str, ours: &Estimate, golden: &Value, tol: f64) {
    match (ours.value.map(f64::from), num(golden)) {
        (Some(a), Some(b)) => {
            assert!((a - b).abs() <= tol, "{what}: {a} vs golden {b}");
            MAX_METRIC_DIFF.with(|m| m.set(m.get().max((a - b).abs())));
        }
        (None, None) => assert!(ours.reason.is_some(), "{what}: null without a reason"),
        (a, b) => panic!("{what}: ours {a:?}, golden {b:?}"),
    }
}

fn check_methods(what: &str, m: &MethodMetrics, g: &Value) {
    close(&format!("{what}.roc_auc"), &m.roc_auc, &g["roc_auc"], 1e-9);
    close(&format!("{what}.aurc"), &m.aurc, &g["aurc"], 1e-9);
    close(&format!("{what}.e_aurc"), &m.e_aurc, &g["e_aurc"], 1e-9);
    close(&format!("{what}.prr"), &m.prr, &g["prr"], 1e-9);
}

fn check_calibration(what: &str, c: &CalibrationEstimates, g: &Value) {
    for (name, e) in [
        ("accuracy", &c.accuracy),
        ("ece", &c.ece),
        ("ece_debiased", &c.ece_debiased),
        ("adaptive_ece", &c.adaptive_ece),
        ("brier", &c.brier),
        ("nll", &c.nll),
    ] {
        close(&format!("{what}.{name}"), e, &g[name], 1e-9);
    }
    // MCE: a point value, no interval.
    let mce = c.mce.value.map(f64::from).expect("MCE is defined");
    let want = g["mce"].as_f64().unwrap();
    assert!((mce - want).abs() <= 1e-9, "{what}.mce: {mce} vs {want}");
}

#[test]
fn metrics_agree_with_the_numpy_golden_values() {
    let files = golden_files();
    assert!(files.len() >= 3, "golden files missing: {files:?}");
    for file in files {
        let g: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let case = g["case"].as_str().unwrap().to_string();
        let dir = Path::new(g["dir"].as_str().unwrap());
        if !root().join(dir).join("train.safetensors").exists() {
            eprintln!("skipped {case}: {} is absent", dir.display());
            continue;
        }
        for split in ["train", "val", "test"] {
            let path = root().join(dir).join(format!("{split}.safetensors"));
            let sha = adue_compile::report::InputFile::hash(&path).unwrap().sha256;
            assert_eq!(
                Some(sha.as_str()),
                g["inputs"][split].as_str(),
                "{case}: {} changed since the golden file was written; rerun \
                 tests/golden/metrics_golden.py {case}",
                path.display()
            );
        }
        let eval = evaluate_case(dir, 50);
        let s = &EvaluationSections::new(&eval).unwrap();

        // Temperature and covariance factorisations.
        let t = f64::from(s.baselines.temperature_scaling.temperature);
        let gt = g["temperature"]["value"].as_f64().unwrap();
        assert!((t / gt - 1.0).abs() < 1e-9, "{case}: T {t} vs {gt}");
        assert_eq!(
            s.baselines.temperature_scaling.status,
            g["temperature"]["status"].as_str().unwrap()
        );
        let md = &s.baselines.mahalanobis;
        MAX_METRIC_DIFF.with(|m| m.set(0.0));
        let (mut max_rel_md, mut max_rel_other) = (0.0f64, 0.0f64);
        let dim = md.dim as f64;
        let upper = |c: &adue_compile::report::model::CovarianceInfo| {
            let j = f64::from(c.jitter);
            if j > 0.0 {
                (dim * f64::from(c.mean_variance) + j) / j
            } else {
                dim * f64::from(c.condition_number)
            }
        };
        let kappa = upper(&md.within).max(upper(md.background.as_ref().unwrap()));
        for (ours, gi) in [
            (&md.within, &g["mahalanobis"]["within"]),
            (
                md.background.as_ref().unwrap(),
                &g["mahalanobis"]["background"],
            ),
        ] {
            // Same step of the jitter schedule; the absolute jitter is that step times the
            // mean variance, whose last bit depends on the summation order.
            assert_eq!(
                f64::from(ours.relative_jitter),
                gi["relative_jitter"].as_f64().unwrap(),
                "{case}"
            );
            let (j, gj) = (f64::from(ours.jitter), gi["jitter"].as_f64().unwrap());
            assert!((j - gj).abs() <= 1e-12 * gj, "{case}: jitter {j} vs {gj}");
            assert_eq!(
                ours.attempts as u64,
                gi["attempts"].as_u64().unwrap(),
                "{case}"
            );
            let (k, gk) = (
                f64::from(ours.condition_number),
                gi["condition_number"].as_f64().unwrap(),
            );
            // The smallest pivot of a nearly singular matrix is known to about ε·κ.
            let tol = (10.0 * f64::EPSILON * kappa).max(1e-9);
            assert!((k / gk - 1.0).abs() < tol, "{case}: κ̂ {k} vs {gk}");
        }

        for split in ["val", "test"] {
            let gs = &g["splits"][split];
            let data = &s.data[split];
            assert_eq!(data.rows as u64, gs["rows"].as_u64().unwrap());
            assert_eq!(data.errors as u64, gs["errors"].as_u64().unwrap());
            for (method, gm) in gs["methods"].as_object().unwrap() {
                let what = format!("{case}.{split}.{method}");
                check_methods(&what, &s.methods[method][split], gm);
                let ours = &eval
                    .scores
                    .iter()
                    .find(|x| x.split == split)
                    .unwrap()
                    .uncertainty[method];
                let golden: Vec<f64> = gs["scores"][method]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                let rel = if method.contains("mahalanobis") {
                    (10.0 * f64::EPSILON * kappa).max(1e-9)
                } else {
                    1e-9
                };
                // The relative distance is a difference, min_c d²_c − d²_0: its error is
                // relative to the terms, not to the (possibly much smaller) difference.
                let md: Vec<f64> = gs["scores"]["mahalanobis"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                let scale = |i: usize, b: f64| {
                    if method == "relative_mahalanobis" {
                        md[i].abs().max((md[i] - b).abs()).max(1.0)
                    } else {
                        b.abs().max(1.0)
                    }
                };
                assert_eq!(ours.len(), golden.len());
                for (i, (a, b)) in ours.iter().zip(&golden).enumerate() {
                    let r = (a - b).abs() / scale(i, *b);
                    if method.contains("mahalanobis") {
                        max_rel_md = max_rel_md.max(r);
                    } else {
                        max_rel_other = max_rel_other.max(r);
                    }
                    assert!(
                        r <= rel,
                        "{what} row {i}: {a} vs golden {b} (tolerance {rel:e} relative)"
                    );
                }
            }
            let cal = &s.calibration[split];
            check_calibration(
                &format!("{case}.{split}"),
                &cal.original,
                &gs["calibration"],
            );
            // After temperature scaling: only where T was not fitted (val is its split).
            match (&cal.temperature.metrics, split) {
                (Some(m), "test") => {
                    check_calibration(&format!("{case}.{split}.ts"), m, &gs["calibration_ts"])
                }
                (None, "val") => assert!(cal.temperature.reason.is_some(), "{case}"),
                (m, _) => panic!("{case}.{split}: after-temperature metrics {}", m.is_some()),
            }
        }
        eprintln!(
            "{case}: max |metric diff| {:.1e}; max rel score diff: logits-based {:.1e}, \
             Mahalanobis {:.1e} (κ⁺ {:.1e})",
            MAX_METRIC_DIFF.with(|m| m.get()),
            max_rel_other,
            max_rel_md,
            kappa
        );
    }
}
