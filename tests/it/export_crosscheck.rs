//! Cross-runtime proof: the ONNX checker (full check) and Python onnxruntime accept
//! our files and reproduce the Rust reference (tests/onnx/crosscheck.py).

use adue_compile::export::{build_model, export};
use adue_compile::validate::parity::{diff_stats, ABS_TOL, REL_TOL};

use super::export_support::{crosscheck_output, python_crosscheck, Case, Kind, ALL_KINDS};
use super::util::python_has;

#[test]
fn onnx_checker_and_python_onnxruntime_agree_with_rust() {
    // Skips (loudly) only outside CI; under CI=true a missing module fails.
    if !python_has(&["onnx", "onnxruntime", "numpy"]) {
        return;
    }
    for (i, kind) in ALL_KINDS.into_iter().enumerate() {
        let c = 2 + i; // 2, 3, 4, 5 classes
        let extras = i % 2 == 1 || kind == Kind::LinearBias;
        let case = Case::new(kind, 384, c, 1000, extras, 500 + i as u64);
        let dir = case.dir.path();
        let onnx = dir.join("m.onnx");
        export(&case.spec(), &onnx).unwrap();
        let result = python_crosscheck(&onnx, &case.features, dir);
        assert_eq!(result["checker"], "ok");
        assert_eq!(result["ir_version"], 8);
        assert_eq!(result["opset"]["ai.onnx"], 18);
        // Metadata survives the round trip through the official protobuf schema.
        let m = build_model(&case.spec()).unwrap();
        for e in &m.metadata_props {
            assert_eq!(result["metadata"][e.key()], e.value(), "{}", e.key());
        }
        let o = &result["outputs"];
        let x = case.features.view();
        let (n, label) = (case.features.nrows(), format!("{kind:?} C={c}"));
        let logits: Vec<f32> = case.original.logits(x).iter().copied().collect();
        let probs: Vec<f32> = case.original.probabilities(x).iter().copied().collect();
        let u = case.ue.uncertainty(x).to_vec();
        assert_eq!(o["logits"]["shape"], serde_json::json!([n, c]));
        assert_eq!(o["uncertainty"]["shape"], serde_json::json!([n]));
        let s = diff_stats(&crosscheck_output(&result, "logits"), &logits);
        eprintln!(
            "{label} python ort logits: max abs {:.3e} rel {:.3e}",
            s.max_abs, s.max_rel
        );
        assert!(s.max_rel <= REL_TOL, "{label}: {s:?}");
        let s = diff_stats(&crosscheck_output(&result, "probabilities"), &probs);
        eprintln!(
            "{label} python ort probabilities: max abs {:.3e}",
            s.max_abs
        );
        assert!(s.max_abs <= ABS_TOL, "{label}: {s:?}");
        let s = diff_stats(&crosscheck_output(&result, "uncertainty"), &u);
        eprintln!("{label} python ort uncertainty: max abs {:.3e}", s.max_abs);
        assert!(s.max_abs <= ABS_TOL, "{label}: {s:?}");
        if let Some(m) = &case.mahalanobis {
            let s = diff_stats(
                &crosscheck_output(&result, "mahalanobis"),
                &m.min_sq_distance(x).to_vec(),
            );
            eprintln!("{label} python ort mahalanobis: max rel {:.3e}", s.max_rel);
            assert!(s.max_rel <= REL_TOL, "{label}: {s:?}");
        }
        if let Some(t) = &case.threshold {
            let got: Vec<bool> = o["accept"]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_bool().unwrap())
                .collect();
            let hard = got
                .iter()
                .zip(&u)
                .filter(|(&a, &ur)| a != (ur <= t.tau) && (ur - t.tau).abs() as f64 > ABS_TOL)
                .count();
            assert_eq!(hard, 0, "{label}: accept disagrees with U <= tau");
            assert!(got.iter().any(|&a| a) && got.iter().any(|&a| !a));
        } else {
            assert!(o.get("accept").is_none() && o.get("mahalanobis").is_none());
        }
    }
}
