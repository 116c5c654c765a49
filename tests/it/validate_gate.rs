//! The DeLong variances behind `validate --baseline` against the independent scipy
//! computation in `tests/golden/delong_golden.py` (midranks, `tests/golden/delong_golden.json`),
//! on the softmax response and the entropy of every fixture split: AUCs, standard errors and
//! the paired difference with its standard error, to 1e-12; and the gate's numbers from them.

use adue_compile::score::delong::{paired_difference, Components};
use adue_compile::score::LogitStats;
use adue_compile::validate::gate::{non_inferiority, Pairing, RunScores, Z95};
use serde_json::Value;

use crate::score_golden::read_split;
use crate::util::root;

const TOL: f64 = 1e-12;

#[test]
fn delong_matches_scipy_on_the_fixtures() {
    let path = root().join("tests/golden/delong_golden.json");
    let g: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = g.as_object().unwrap();
    assert_eq!(cases.len(), 6);
    for (key, row) in cases {
        let (case, split) = key.split_once('/').unwrap();
        let f = read_split(&std::path::Path::new("fixtures").join(case), split);
        let stats = LogitStats::new(f.logits.as_ref().unwrap().view(), f.labels.view(), 1.0);
        let errors = stats.errors.to_vec();
        let (sr, ent) = (stats.softmax_response().to_vec(), stats.entropy.to_vec());
        let num = |k: &str| row[k].as_f64().unwrap();
        let close = |what: &str, ours: f64, want: f64| {
            assert!((ours - want).abs() <= TOL, "{key} {what}: {ours} vs {want}");
        };
        let (a, b) = (
            Components::new(&sr, &errors).unwrap(),
            Components::new(&ent, &errors).unwrap(),
        );
        close("auc_sr", a.auc, num("auc_sr"));
        close("auc_entropy", b.auc, num("auc_entropy"));
        close("se_sr", a.variance().sqrt(), num("se_sr"));
        close("se_entropy", b.variance().sqrt(), num("se_entropy"));
        let (d, se) = paired_difference(&a, &b).unwrap();
        close("paired_d", d, num("paired_d"));
        close("paired_se", se, num("paired_se"));

        // The gate on SR (old) against entropy (new): the same numbers, paired or not.
        fn run<'a>(u: &'a [f64], e: &'a [bool]) -> RunScores<'a> {
            RunScores {
                uncertainty: u,
                errors: e,
            }
        }
        let (old, new) = (run(&sr, &errors), run(&ent, &errors));
        let p = non_inferiority(old, new, true, 0.01).unwrap();
        assert_eq!(p.pairing, Pairing::Paired);
        close("gate D", p.drop, num("paired_d"));
        close(
            "gate bound",
            p.bound,
            num("paired_d") + Z95 * num("paired_se"),
        );
        assert_eq!(p.passed, p.bound <= 0.01, "{key}");
        let u = non_inferiority(old, new, false, 0.01).unwrap();
        let se_u = (num("se_sr").powi(2) + num("se_entropy").powi(2)).sqrt();
        close("unpaired SE", u.se, se_u);
        // Pairing shrinks the SE by more than an order of magnitude on these scores.
        assert!(
            p.se * 10.0 < u.se,
            "{key}: paired {} unpaired {}",
            p.se,
            u.se
        );
    }
}
