//! AURC / E-AURC / PRR against lm-polygraph 0.7.0's own code (issue 13 item 4), through
//! `tests/golden/lm_polygraph_golden.py`, whose output `tests/golden/lm_polygraph_golden.json`
//! is committed.
//!
//! At 1e-12: our AURC equals lm-polygraph's `RiskCoverageCurveAUC` ("rcc-auc") wherever no
//! score is tied (its value then does not depend on the row order), and the script's
//! `rect_tieavg` (the mean of rcc-auc over the orders within ties) everywhere; E-AURC equals
//! `rect_tieavg` minus the discrete oracle; PRR equals lm-polygraph's normalised PRR with
//! the exact random baseline (its literal value uses a 1000-shuffle Monte-Carlo baseline
//! and is off by up to 2e-3, which the JSON shows as `prr_normalized`).

use adue_compile::score::risk_coverage::SelectiveMetrics;
use adue_compile::score::LogitStats;
use serde_json::Value;

use crate::score_golden::read_split;
use crate::util::root;

const TOL: f64 = 1e-12;

fn golden() -> Value {
    let path = root().join("tests/golden/lm_polygraph_golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Checks one case; returns the largest |ours − lm-polygraph rcc-auc| where it applies.
fn check(name: &str, scores: &[f64], errors: &[bool], g: &Value) -> Option<f64> {
    let m = SelectiveMetrics::of_scores(scores, errors).unwrap();
    let num = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("{name}: {v}"));
    let close = |what: &str, ours: f64, want: f64| {
        assert!(
            (ours - want).abs() <= TOL,
            "{name} {what}: ours {ours} vs golden {want} (diff {:e})",
            ours - want
        );
    };
    assert_eq!(scores.len() as u64, g["n"].as_u64().unwrap(), "{name}");
    close("aurc (rect_tieavg)", m.aurc, num(&g["aurc"]["rect_tieavg"]));
    close("e_aurc", m.e_aurc, num(&g["e_aurc_tieavg"]));
    let prr = m.prr.unwrap();
    close("prr (rect_tieavg)", prr, num(&g["prr"]["rect_tieavg"]));
    let lm = &g["lm_polygraph"];
    if g["tied_rows"].as_u64() == Some(0) {
        close("aurc vs lm-polygraph rcc-auc", m.aurc, num(&lm["rcc_auc"]));
        close(
            "prr vs lm-polygraph (exact random)",
            prr,
            num(&lm["prr_exact_random"]),
        );
        return Some((m.aurc - num(&lm["rcc_auc"])).abs());
    }
    None
}

#[test]
fn aurc_and_prr_equal_lm_polygraph_on_the_fixtures() {
    let g = golden();
    let cases = g["fixtures"].as_object().unwrap();
    assert_eq!(cases.len(), 12);
    let (mut tie_free, mut worst) = (0, 0.0f64);
    for (key, row) in cases {
        let mut parts = key.split('/');
        let (case, split, method) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let f = read_split(&std::path::Path::new("fixtures").join(case), split);
        let stats = LogitStats::new(f.logits.as_ref().unwrap().view(), f.labels.view(), 1.0);
        let u = match method {
            "softmax_response" => stats.softmax_response(),
            "entropy" => stats.entropy.clone(),
            other => panic!("unknown method {other}"),
        };
        let errors = stats.errors.to_vec();
        assert_eq!(
            errors.iter().filter(|&&e| e).count() as u64,
            row["errors"].as_u64().unwrap(),
            "{key}"
        );
        if let Some(d) = check(key, &u.to_vec(), &errors, row) {
            tie_free += 1;
            worst = worst.max(d);
        }
    }
    // bbc-minilm-score/val and bbc-roberta/test have no tied score.
    assert!(tie_free >= 4, "only {tie_free} tie-free fixture cases");
    eprintln!("fixtures: {tie_free} tie-free cases, max |AURC − rcc-auc| {worst:e}");
}

#[test]
fn aurc_and_prr_equal_lm_polygraph_on_synthetic_ties() {
    let g = golden();
    let cases = g["synthetic"].as_object().unwrap();
    for name in [
        "hand_ties",
        "all_tied",
        "error_first_untied",
        "rounded_200",
        "untied_300",
    ] {
        let row = &cases[name];
        let u: Vec<f64> = row["u"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let e: Vec<bool> = row["e"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() == 1)
            .collect();
        check(name, &u, &e, row);
    }
    // The exact average of rcc-auc over all 24 orders of the 4-row hand case.
    let exact = g["tie_average_exact"]["mean_over_all_24_orders"]
        .as_f64()
        .unwrap();
    let u = [0.2, 0.1, 0.9, 0.2];
    let e = [true, false, true, false];
    let m = SelectiveMetrics::of_scores(&u, &e).unwrap();
    assert!((m.aurc - exact).abs() <= TOL, "{} vs {exact}", m.aurc);
}
