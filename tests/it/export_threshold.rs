//! The certified threshold: Clopper-Pearson bound against scipy.

use adue_compile::export::clopper_pearson_upper;

/// Golden values written by tests/onnx/clopper_pearson.py (scipy.stats.beta.ppf).
#[test]
fn clopper_pearson_matches_scipy() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/onnx/clopper_pearson_golden.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = golden["cases"].as_array().unwrap();
    assert!(cases.len() >= 60);
    let mut worst = 0.0f64;
    for c in cases {
        let k = c["k"].as_u64().unwrap() as usize;
        let n = c["n"].as_u64().unwrap() as usize;
        let delta = c["delta"].as_f64().unwrap();
        let want = c["upper"].as_f64().unwrap();
        let got = clopper_pearson_upper(k, n, delta);
        let rel = (got - want).abs() / want;
        worst = worst.max(rel);
        assert!(
            rel < 1e-10,
            "k={k} n={n} delta={delta}: {got} vs scipy {want} (rel {rel:e})"
        );
    }
    eprintln!("clopper-pearson: worst relative difference to scipy {worst:e}");
}
