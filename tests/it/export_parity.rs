//! Exported heads in ONNX Runtime against the Rust reference, and determinism.

use adue_compile::export::{build_model, encode, export, model};
use adue_compile::validate::{all_passed, validate, Check, ValidateInputs};

use super::export_support::{Case, Kind, ALL_KINDS};

const D: usize = 384;
const ROWS: usize = 3000;

fn run_validate(case: &Case) -> Vec<Check> {
    let path = case.dir.path().join("head.onnx");
    export(&case.spec(), &path).unwrap();
    let hashed = case.hashed_inputs();
    validate(&ValidateInputs {
        onnx: &path,
        features: case.features.view(),
        reference: case.reference(),
        hashed_inputs: &hashed,
    })
    .unwrap()
}

fn assert_all_pass(label: &str, checks: &[Check]) {
    for c in checks.iter().filter(|c| c.name.starts_with("parity.")) {
        eprintln!("{label}: {} {}", c.name, c.detail);
    }
    let failed: Vec<_> = checks.iter().filter(|c| !c.passed).collect();
    assert!(all_passed(checks), "{label}: failed checks {failed:#?}");
}

/// Every head kind, C = 2..5, with and without the optional outputs.
#[test]
fn ort_matches_reference_for_every_head_kind() {
    for (i, kind) in ALL_KINDS.into_iter().enumerate() {
        for c in 2..=5 {
            // Extras on alternate class counts keep the run short but cover both.
            for extras in [false, true] {
                if (c % 2 == 0) != extras && c > 3 {
                    continue;
                }
                let seed = 100 * i as u64 + 10 * c as u64 + u64::from(extras);
                let case = Case::new(kind, D, c, ROWS, extras, seed);
                let checks = run_validate(&case);
                let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
                assert!(names.contains(&"parity.uncertainty"), "{names:?}");
                assert_eq!(names.contains(&"parity.mahalanobis"), extras, "{names:?}");
                assert_eq!(names.contains(&"parity.accept"), extras, "{names:?}");
                assert_all_pass(&format!("{kind:?} C={c} extras={extras}"), &checks);
            }
        }
    }
}

/// The thresholded model accepts some rows and rejects others (so the parity of
/// `accept` is not trivially all-true or all-false).
#[test]
fn accept_output_splits_rows() {
    let case = Case::new(Kind::DenseGelu, 64, 3, 500, true, 9);
    let checks = run_validate(&case);
    let accept = checks.iter().find(|c| c.name == "parity.accept").unwrap();
    assert!(accept.passed, "{accept:?}");
    let accepted: usize = accept
        .detail
        .split(": ")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((200..=300).contains(&accepted), "{accept:?}");
}

#[test]
fn exporting_twice_gives_identical_bytes() {
    let case = Case::new(Kind::DenseTanh, 32, 4, 10, true, 5);
    let (a, b) = (
        case.dir.path().join("a.onnx"),
        case.dir.path().join("b.onnx"),
    );
    export(&case.spec(), &a).unwrap();
    export(&case.spec(), &b).unwrap();
    let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(!ba.is_empty());
    assert_eq!(ba, bb);
    assert_eq!(encode(&build_model(&case.spec()).unwrap()), ba);
}

#[test]
fn model_declares_contract_io_and_provenance() {
    let case = Case::new(Kind::LinearNoBias, 16, 3, 4, true, 6);
    let m = build_model(&case.spec()).unwrap();
    assert_eq!(m.ir_version, Some(model::IR_VERSION));
    assert_eq!(m.opset_import.len(), 1);
    assert_eq!(
        (m.opset_import[0].domain(), m.opset_import[0].version()),
        ("", 18)
    );
    let g = m.graph.as_ref().unwrap();
    let outputs: Vec<&str> = g.output.iter().map(|o| o.name()).collect();
    assert_eq!(
        outputs,
        [
            "logits",
            "probabilities",
            "uncertainty",
            "mahalanobis",
            "accept"
        ]
    );
    assert_eq!(g.input.len(), 1);
    // Linear head without bias: a MatMul against the transposed weight, no bias.
    assert!(!g.initializer.iter().any(|t| t.name() == "original.bias"));
    let w_t = g
        .initializer
        .iter()
        .find(|t| t.name() == "original.weight_t")
        .unwrap();
    assert_eq!(w_t.dims, vec![16, 3]);
    let keys: Vec<&str> = m.metadata_props.iter().map(|e| e.key()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "metadata is written in key order");
    for k in [
        "adue.lambda",
        "adue.threshold.tau",
        "adue.threshold.guarantee",
        "adue.sha256.train",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
}
