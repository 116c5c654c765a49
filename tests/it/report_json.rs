//! `report.json`: schema validation, CONTRACT §7 key paths, snapshots, determinism.

use adue_compile::report::schema::{validate_value, REPORT_SCHEMA};
use adue_compile::report::{Report, ReportError};
use serde_json::Value;

use crate::report_support::{case_report, report_cases, rounded};

#[test]
fn reports_validate_and_match_their_snapshots() {
    for (case, dir) in report_cases() {
        let (report, _) = case_report(&dir, 1000);
        let json = report.to_json().unwrap_or_else(|e| panic!("{case}: {e}"));
        let value: Value = serde_json::from_str(&json).unwrap();
        validate_value(&value).unwrap();
        insta::assert_json_snapshot!(format!("report-{case}"), rounded(&report), {
            ".timing" => "[timing]",
        });
    }
}

#[test]
fn contract_key_paths_exist() {
    let (report, _) = case_report(
        std::path::Path::new("tests/golden/synthetic/synth-4class"),
        50,
    );
    let v: Value = serde_json::to_value(&report).unwrap();
    let get = |path: &str| {
        path.split('.')
            .try_fold(&v, |node, key| node.get(key))
            .unwrap_or_else(|| panic!("missing {path}"))
    };
    for m in [
        "softmax_response",
        "entropy",
        "mahalanobis",
        "relative_mahalanobis",
        "adue",
    ] {
        for s in ["val", "test"] {
            for metric in ["roc_auc", "aurc", "e_aurc", "prr"] {
                assert!(get(&format!("methods.{m}.{s}.{metric}.value")).is_number());
                assert_eq!(
                    get(&format!("methods.{m}.{s}.{metric}.ci95"))
                        .as_array()
                        .unwrap()
                        .len(),
                    2
                );
            }
        }
    }
    for s in ["val", "test"] {
        for metric in [
            "accuracy",
            "ece",
            "ece_debiased",
            "adaptive_ece",
            "brier",
            "nll",
        ] {
            assert!(get(&format!("calibration.{s}.{metric}.value")).is_number());
            assert!(get(&format!("calibration.{s}.{metric}.ci95")).is_array());
            assert!(get(&format!("calibration.{s}.{metric}.ci_method")).is_string());
        }
        // MCE: a point value, no interval.
        assert!(get(&format!("calibration.{s}.mce.value")).is_number());
        assert!(get(&format!("calibration.{s}.mce")).get("ci95").is_none());
        assert!(
            get(&format!("calibration.{s}.temperature.value"))
                .as_f64()
                .unwrap()
                > 0.0
        );
        assert!(get(&format!(
            "comparisons.adue_vs_softmax_response.{s}.roc_auc_diff.value"
        ))
        .is_number());
        assert!(get(&format!(
            "comparisons.adue_vs_softmax_response.{s}.roc_auc_diff.ci95"
        ))
        .is_array());
    }
    // After temperature scaling: metrics on test; on val (where T was fitted) a reason.
    for metric in [
        "accuracy",
        "ece",
        "ece_debiased",
        "adaptive_ece",
        "mce",
        "brier",
        "nll",
    ] {
        assert!(get(&format!("calibration.test.temperature.{metric}.value")).is_number());
        assert!(get("calibration.val.temperature").get(metric).is_none());
    }
    assert!(get("calibration.val.temperature.reason")
        .as_str()
        .unwrap()
        .contains("in-sample"));
    // Interval methods, as the README's coverage study chose them.
    assert_eq!(get("calibration.test.ece.ci_method"), "basic");
    assert_eq!(get("calibration.test.ece_debiased.ci_method"), "percentile");
    assert_eq!(get("calibration.test.adaptive_ece.ci_method"), "basic");
    assert_eq!(get("methods.adue.test.roc_auc.ci_method"), "percentile");
    // AdUE's numbers on the selection split are labelled.
    let biased: Vec<&str> = get("selection_biased")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        biased,
        [
            "fit.selected.val_roc_auc",
            "methods.adue.val",
            "comparisons.adue_vs_mahalanobis.val",
            "comparisons.adue_vs_softmax_response.val"
        ]
    );
    for k in ["aurc", "e_aurc", "prr", "ece_debiased", "intervals"] {
        assert!(get(&format!("conventions.{k}")).is_string(), "{k}");
    }
    for k in ["alpha", "beta", "lr", "epochs", "lambda", "val_roc_auc"] {
        assert!(!get(&format!("fit.selected.{k}")).is_null(), "{k}");
    }
    assert!(get("fit.grid").as_array().unwrap()[0]
        .get("val_roc_auc")
        .is_some());
    for s in ["train", "val", "test"] {
        assert_eq!(
            get(&format!("inputs.{s}.sha256")).as_str().unwrap().len(),
            64
        );
        assert!(get(&format!("inputs.{s}.path")).is_string());
    }
    assert_eq!(get("schema_version"), adue_compile::report::SCHEMA_VERSION);
    assert_eq!(get("bootstrap.resamples"), 50);

    // And the schema defines them (not merely allows them through).
    let schema: Value = serde_json::from_str(REPORT_SCHEMA).unwrap();
    let props = &schema["properties"];
    for m in [
        "softmax_response",
        "entropy",
        "mahalanobis",
        "relative_mahalanobis",
        "adue",
    ] {
        assert!(props["methods"]["properties"].get(m).is_some(), "{m}");
    }
    for k in ["alpha", "beta", "lr", "epochs", "lambda", "val_roc_auc"] {
        assert!(
            props["fit"]["properties"]["selected"]["properties"]
                .get(k)
                .is_some(),
            "{k}"
        );
    }
    assert!(props["comparisons"]["properties"]
        .get("adue_vs_softmax_response")
        .is_some());
}

#[test]
fn schema_rejects_what_the_contract_forbids() {
    let (report, _) = case_report(
        std::path::Path::new("tests/golden/synthetic/synth-4class"),
        20,
    );
    let good: Value = serde_json::to_value(&report).unwrap();
    let reject = |mutate: &dyn Fn(&mut Value), needle: &str| {
        let mut v = good.clone();
        mutate(&mut v);
        let e = validate_value(&v).unwrap_err();
        assert!(matches!(e, ReportError::Schema { .. }));
        assert!(
            e.to_string().contains(needle),
            "expected `{needle}` in:\n{e}"
        );
    };
    reject(
        &|v| {
            v["methods"].as_object_mut().unwrap().remove("mahalanobis");
        },
        "mahalanobis",
    );
    // A null value must say why.
    reject(
        &|v| v["methods"]["adue"]["test"]["roc_auc"]["value"] = Value::Null,
        "/methods/adue/test/roc_auc",
    );
    reject(
        &|v| v["inputs"]["val"]["sha256"] = "xyz".into(),
        "/inputs/val/sha256",
    );
    reject(
        &|v| v["calibration"]["test"]["temperature"]["value"] = (-1.0).into(),
        "/calibration/test/temperature/value",
    );
    reject(
        &|v| v["data"]["test"]["error_rate"] = 1.5.into(),
        "/data/test/error_rate",
    );
    reject(&|v| v["unexpected"] = 1.into(), "unexpected");
    // MCE has no interval; an interval method must be one of the three.
    reject(
        &|v| v["calibration"]["test"]["mce"]["ci95"] = serde_json::json!([0.1, 0.2]),
        "/calibration/test/mce",
    );
    reject(
        &|v| v["calibration"]["test"]["ece"]["ci_method"] = "normal".into(),
        "/calibration/test/ece/ci_method",
    );
    // After-temperature metrics and a reason for their absence exclude each other.
    reject(
        &|v| v["calibration"]["test"]["temperature"]["reason"] = "x".into(),
        "/calibration/test/temperature",
    );
    reject(
        &|v| {
            let t = v["calibration"]["test"]["temperature"]["ece"].clone();
            v["calibration"]["val"]["temperature"]["ece"] = t;
        },
        "/calibration/val/temperature",
    );
}

#[test]
fn identical_runs_give_identical_bytes_and_round_trip() {
    let dir = std::path::Path::new("tests/golden/synthetic/synth-singular");
    let (mut a, _) = case_report(dir, 200);
    let (mut b, _) = case_report(dir, 200);
    a.timing.clear();
    b.timing.clear();
    let ja = a.to_json().unwrap();
    assert_eq!(ja, b.to_json().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("report.json");
    a.write(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ja);
    assert_eq!(Report::read(&path).unwrap(), a);
    std::fs::write(
        &path,
        ja.replace(
            &format!(
                "\"schema_version\": \"{}\"",
                adue_compile::report::SCHEMA_VERSION
            ),
            "\"schema_version\": \"2\"",
        ),
    )
    .unwrap();
    let e = Report::read(&path).unwrap_err();
    assert!(e.to_string().contains("schema_version"), "{e}");
}
