//! `export --graft` and `validate --texts` on the real end-to-end fixtures: each exported
//! MiniLM classifier (`$ADUE_E2E_MODELS`, rebuilt by `scripts/setup-e2e.sh`) with a fit of
//! its fixture's features grafted on, run in ONNX Runtime against the original; bad models
//! refused with exit 2 and no output; `fixtures/e2e/check_graft.py` (Python onnxruntime)
//! as the independent cross-check.

use std::path::{Path, PathBuf};
use std::process::Output;

use adue_compile::export::graft::{GRAFT_KEYS, ORIGINAL_SHA256, POOLING};
use adue_compile::onnx::pb::{self, tensor_proto::DataLocation, ModelProto};
use adue_compile::onnx::{read_model, write_model};

use crate::util::{
    assert_exit, e2e_max_length, e2e_model, fit_fixture, fixture, python, python_has, root, run,
    stderr, stdout, MAIN_CASES,
};

/// Fits `case`'s committed features (quick grid) into `dir/fit`.
fn fit(case: &str, dir: &Path) -> PathBuf {
    let out = dir.join("fit");
    let o = fit_fixture(case, &out, &["--grid", "quick", "--threads", "2"]);
    assert_exit(&o, 0);
    out
}

/// `export --fit FIT --graft MODEL --out OUT --with-mahalanobis --target-risk 0.1 --delta 0.1`.
fn graft(fit: &Path, model: &Path, out: &Path) -> Output {
    run(&[
        &"export",
        &"--fit",
        &fit,
        &"--graft",
        &model,
        &"--out",
        &out,
        &"--with-mahalanobis",
        &"--target-risk",
        &"0.1",
        &"--delta",
        &"0.1",
    ])
}

/// `validate --texts` of the grafted `full` against `case`'s original model.
fn validate(case: &str, full: &Path, fit: &Path, texts: &Path, batch: usize) -> Output {
    run(&[
        &"validate",
        &"--onnx",
        &full,
        &"--fit",
        &fit,
        &"--texts",
        &texts,
        &"--model",
        &e2e_model(case),
        &"--tokenizer",
        &fixture(case, "e2e/tokenizer.json"),
        &"--max-length",
        &e2e_max_length(case).to_string(),
        &"--batch-size",
        &batch.to_string(),
        &"--threads",
        &"2",
    ])
}

/// The detail of check `name` in `validate`'s table, asserting it passed.
fn passed<'a>(table: &'a str, name: &str) -> &'a str {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no check {name} in\n{table}"));
    assert!(line.starts_with("PASS"), "{line}");
    line
}

fn e2e_json(case: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(case, "e2e/e2e.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn grafted_models_keep_logits_and_match_the_reference_on_every_case() {
    for case in MAIN_CASES {
        let dir = tempfile::tempdir().unwrap();
        let fit = fit(case, dir.path());
        let full = dir.path().join("full.onnx");
        assert_exit(&graft(&fit, &e2e_model(case), &full), 0);

        let info = e2e_json(case);
        let (original, grafted) = (
            read_model(&e2e_model(case)).unwrap(),
            read_model(&full).unwrap(),
        );
        assert_eq!(
            grafted.opset_version(""),
            info["model"]["opset"].as_i64(),
            "{case}"
        );
        assert_eq!(grafted.opset_import, original.opset_import);
        assert_eq!(grafted.ir_version, original.ir_version);
        assert_eq!(
            grafted.metadata(ORIGINAL_SHA256),
            info["model"]["sha256"].as_str(),
            "{case}: the recipe's SHA-256 of the original model"
        );
        for key in GRAFT_KEYS {
            assert!(grafted.metadata(key).is_some(), "{case}: {key}");
        }
        let want_pooling = match info["head"]["pooling"].as_str().unwrap() {
            "last non-pad token" => "last_token",
            "token 0" => "first_token",
            _ => "as_is",
        };
        assert_eq!(grafted.metadata(POOLING), Some(want_pooling), "{case}");
        let (o, g) = (
            original.graph.as_ref().unwrap(),
            grafted.graph.as_ref().unwrap(),
        );
        assert_eq!(g.input, o.input);
        assert_eq!(
            &g.node[..o.node.len()],
            &o.node[..],
            "{case}: original nodes"
        );
        let outputs: Vec<&str> = g.output.iter().map(|v| v.name()).collect();
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
        // Every new name is new: none was in the original's namespace.
        let before = original.all_names();
        let added = grafted.all_names().len() - before.len();
        let new_nodes = g.node.len() - o.node.len();
        let new_inits = g.initializer.len() - o.initializer.len();
        assert!(added >= new_nodes + new_inits, "{case}: {added} new names");
        for n in &g.node[o.node.len()..] {
            assert!(!before.contains(n.name()), "{case}: node {}", n.name());
            for out in &n.output {
                assert!(!before.contains(out), "{case}: value {out}");
            }
        }

        // Test texts (max length, little padding) and short texts in batches of 7
        // (every batch padded: the last-token pooling reads the mask).
        for (texts, batch) in [
            (fixture(case, "texts/test.jsonl"), 32),
            (fixture(case, "e2e/short.jsonl"), 7),
        ] {
            let o = validate(case, &full, &fit, &texts, batch);
            assert_exit(&o, 0);
            let table = stdout(&o);
            let logits = passed(&table, "graft.original.logits");
            assert!(logits.contains("bit-identical"), "{logits}");
            let u = passed(&table, "parity.uncertainty");
            for name in [
                "graft.structure.names",
                "graft.structure.opset",
                "graft.sha256",
                "graft.pooling",
                "parity.probabilities",
                "parity.mahalanobis",
                "parity.accept",
            ] {
                passed(&table, name);
            }
            eprintln!("{case:17} {}: {logits}\n{:17} {u}", texts.display(), "");
        }
    }
}

#[test]
fn validate_fails_when_the_grafted_head_is_altered() {
    let case = "bbc-bert-linear";
    let dir = tempfile::tempdir().unwrap();
    let fit = fit(case, dir.path());
    let full = dir.path().join("full.onnx");
    assert_exit(&graft(&fit, &e2e_model(case), &full), 0);
    let mut m = read_model(&full).unwrap();
    let g = m.graph.as_mut().unwrap();
    // U = clamp(scale − (scale/λ)·t, …): a different slope changes every U.
    let slope = g
        .find_initializer_mut("adue/ue.minus_scale_over_lambda")
        .unwrap();
    let v = f32::from_le_bytes(slope.raw_data()[..4].try_into().unwrap());
    slope.raw_data = Some((v * 1.001).to_le_bytes().to_vec());
    let altered = dir.path().join("altered.onnx");
    write_model(&altered, &m).unwrap();
    let o = validate(case, &altered, &fit, &fixture(case, "texts/test.jsonl"), 32);
    assert_exit(&o, 1);
    let table = stdout(&o);
    assert!(table.contains("FAIL  parity.uncertainty"), "{table}");
    passed(&table, "graft.original.logits");
}

/// Writes `case`'s original model changed by `edit` to `dir/name`.
fn edited(case: &str, dir: &Path, name: &str, edit: impl FnOnce(&mut ModelProto)) -> PathBuf {
    let mut m = read_model(&e2e_model(case)).unwrap();
    edit(&mut m);
    let p = dir.join(name);
    write_model(&p, &m).unwrap();
    p
}

#[test]
fn bad_models_exit_2_and_leave_no_output() {
    let case = "bbc-bert-linear";
    let dir = tempfile::tempdir().unwrap();
    let fit = fit(case, dir.path());
    let d = dir.path();
    let external = edited(case, d, "external.onnx", |m| {
        let t = &mut m.graph.as_mut().unwrap().initializer[0];
        t.data_location = Some(DataLocation::External as i32);
        t.external_data = vec![pb::StringStringEntryProto {
            key: Some("location".into()),
            value: Some("weights.bin".into()),
        }];
    });
    let odd_input = edited(case, d, "odd_input.onnx", |m| {
        let g = m.graph.as_mut().unwrap();
        let mut extra = g.input[0].clone();
        extra.name = Some("pixel_values".into());
        g.input.push(extra);
    });
    let opset = |v: i64| {
        move |m: &mut ModelProto| {
            for o in &mut m.opset_import {
                if o.domain().is_empty() || o.domain() == "ai.onnx" {
                    o.version = Some(v);
                }
            }
        }
    };
    let opset12 = edited(case, d, "opset12.onnx", opset(12));
    let opset19 = edited(case, d, "opset19.onnx", opset(19));
    let clash = edited(case, d, "clash.onnx", |m| {
        let g = m.graph.as_mut().unwrap();
        g.node.push(pb::NodeProto {
            input: vec!["logits".into()],
            output: vec!["uncertainty".into()],
            op_type: Some("Identity".into()),
            ..Default::default()
        });
    });
    let full = d.join("full.onnx");
    assert_exit(&graft(&fit, &e2e_model(case), &full), 0);
    // Deterministic: the same inputs give the same bytes.
    let again = d.join("again.onnx");
    assert_exit(&graft(&fit, &e2e_model(case), &again), 0);
    assert!(std::fs::read(&full).unwrap() == std::fs::read(&again).unwrap());
    let other_head = e2e_model("bbc-roberta");
    let cases: [(&Path, &[&str]); 7] = [
        (&external, &["external.onnx", "weights.bin"]),
        (&odd_input, &["odd_input.onnx", "pixel_values"]),
        (&opset12, &["opset12.onnx", "opset 12", "13..=18"]),
        (&opset19, &["opset19.onnx", "opset 19", "13..=18"]),
        (&clash, &["clash.onnx", "`uncertainty`"]),
        (&full, &["full.onnx", "already grafted"]),
        (&other_head, &["bbc-roberta", "classifier.weight"]),
    ];
    for (model, needles) in cases {
        let out = d.join("out.onnx");
        let o = graft(&fit, model, &out);
        assert_exit(&o, 2);
        let err = stderr(&o);
        for n in needles {
            assert!(err.contains(n), "{}: {n} not in {err}", model.display());
        }
        assert!(!out.exists(), "{}: output left behind", model.display());
        let leftovers: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("out.onnx"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    // --out may not be the model itself.
    let o = graft(&fit, &full, &full);
    assert_exit(&o, 2);
    // A standalone head is not a grafted model: validate --texts says so.
    let head = d.join("head.onnx");
    assert_exit(&run(&[&"export", &"--fit", &fit, &"--out", &head]), 0);
    let o = validate(case, &head, &fit, &fixture(case, "e2e/short.jsonl"), 7);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("not a grafted model"), "{}", stderr(&o));
}

#[test]
fn python_onnxruntime_agrees_with_the_grafted_models() {
    if !python_has(&["onnx", "onnxruntime", "numpy", "tokenizers"]) {
        return;
    }
    for case in MAIN_CASES {
        let dir = tempfile::tempdir().unwrap();
        let fit = fit(case, dir.path());
        let full = dir.path().join("full.onnx");
        assert_exit(&graft(&fit, &e2e_model(case), &full), 0);
        for texts in [
            fixture(case, "texts/test.jsonl"),
            fixture(case, "e2e/short.jsonl"),
        ] {
            let o = std::process::Command::new(python())
                .arg(root().join("fixtures/e2e/check_graft.py"))
                .args(["--original".as_ref(), e2e_model(case).as_os_str()])
                .args(["--grafted".as_ref(), full.as_os_str()])
                .args(["--fit".as_ref(), fit.as_os_str()])
                .args([
                    "--tokenizer".as_ref(),
                    fixture(case, "e2e/tokenizer.json").as_os_str(),
                ])
                .args(["--texts".as_ref(), texts.as_os_str()])
                .args(["--max-length", &e2e_max_length(case).to_string()])
                .args(["--batch-size", "7"])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
            let r: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
            eprintln!(
                "{case:17} check_graft.py {}: logits bit-equal {}, max abs diff {}; U max abs diff {}",
                texts.display(),
                r["logits_bit_equal"],
                r["logits_max_abs_diff"],
                r["uncertainty_max_abs_diff"]
            );
            assert_eq!(r["logits_bit_equal"], true);
            assert!(r["uncertainty_max_abs_diff"].as_f64().unwrap() <= 1e-5);
            assert_eq!(r["failures"], serde_json::json!([]));
        }
    }
}
