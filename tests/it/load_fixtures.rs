//! The readers on the committed real fixtures and the reader-coverage cases: the head read
//! from each PEFT adapter must reproduce the logits PyTorch stored beside the features, and
//! `inspect` must describe it.

use adue_compile::head::Activation;
use adue_compile::load::{inspect, read_checkpoint, read_features};

use crate::util::{
    case_dir, fixture, fixture_cases, reader_cases, MAIN_CASES, READER_COVERAGE_CASES,
};

/// What each case's head is, from how it was made (fixtures/gen/generate.py).
fn expected(case: &str) -> (&'static str, Option<Activation>, bool) {
    match case {
        "bbc-roberta" => ("dense", Some(Activation::Tanh), true),
        "bbc-bert-linear" => ("linear", None, true),
        "bbc-minilm-score" => ("linear", None, false),
        "tiny-llama-576" => ("linear", None, false),
        "tiny-electra-gelu" => ("dense", Some(Activation::Gelu), true),
        other => panic!("fixture case `{other}` has no expectations in tests/it/load_fixtures.rs"),
    }
}

/// The split files of a case.
fn splits(case: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(case_dir(case))
        .expect("fixture dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_known_case_is_committed() {
    let mut main = MAIN_CASES.map(String::from).to_vec();
    main.sort();
    assert_eq!(
        fixture_cases(),
        main,
        "fixtures/ holds exactly the main cases"
    );
    for case in READER_COVERAGE_CASES {
        assert!(
            fixture(case, "adapter/adapter_model.safetensors").is_file(),
            "tests/data/{case} is missing"
        );
    }
}

/// The decoder-style heads carry their base `score` weight beside rsLoRA factors under the
/// keys of a LLaMA PEFT checkpoint, and the reader merges them with α/√r.
#[test]
fn score_heads_merge_rslora_factors() {
    for case in ["bbc-minilm-score", "tiny-llama-576"] {
        let ck = read_checkpoint(&fixture(case, "adapter"), None).unwrap();
        assert_eq!(ck.head_prefix, "base_model.model.", "{case}");
        assert_eq!(
            ck.head_keys,
            [
                "base_model.model.score.base_layer.weight",
                "base_model.model.score.lora_A.weight",
                "base_model.model.score.lora_B.weight",
            ],
            "{case}"
        );
        let merged = &ck
            .lora_merged
            .as_ref()
            .expect("LoRA factors on score")
            .modules;
        assert_eq!(merged.len(), 1, "{case}: {merged:?}");
        let m = &merged[0];
        assert_eq!(m.module, "score");
        assert_eq!((m.rank, m.alpha, m.rslora), (8, 16.0, true), "{case}");
        assert!(
            (m.scaling - 16.0 / 8f64.sqrt()).abs() < 1e-12,
            "{case}: {m:?}"
        );
        // The trained factors move the weight by far more than the logit tolerance, so
        // `heads_reproduce_the_stored_logits` would fail without the merge.
        assert!(m.max_abs_delta > 0.01, "{case}: {m:?}");
    }
}

#[test]
fn heads_reproduce_the_stored_logits() {
    for case in reader_cases() {
        let (kind, activation, has_bias) = expected(&case);
        let ck = read_checkpoint(&fixture(&case, "adapter"), None)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(ck.head.kind().as_str(), kind, "{case}");
        assert_eq!(ck.head.activation(), activation, "{case}");
        assert_eq!(ck.head.has_bias(), has_bias, "{case}");
        let files = splits(&case);
        assert!(!files.is_empty(), "{case}: no split files");
        for f in files {
            let fs = read_features(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            fs.check_against(&ck.head)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            let logits = fs.logits.as_ref().expect("fixtures store logits");
            let diff = fs.logits_max_abs_diff(&ck.head).expect("same shape");
            eprintln!(
                "{case} {}: rows {} max |Δlogit| = {diff:.3e}",
                f.display(),
                fs.rows()
            );
            assert!(diff <= 1e-4, "{}: max |Δlogit| = {diff}", f.display());

            let v = inspect(&ck, Some(&fs));
            assert_eq!(v["head"]["kind"], kind);
            assert_eq!(
                v["head"]["activation"],
                serde_json::json!(activation.map(|a| a.as_str()))
            );
            assert_eq!(v["head"]["has_bias"], has_bias);
            // Class count and width come from the PyTorch side: the logits and features stored.
            assert_eq!(v["num_classes"], logits.ncols());
            assert_eq!(v["hidden_size"], fs.dim());
            assert_eq!(v["rows"], fs.rows());
            assert_eq!(v["logits_max_abs_diff"].as_f64(), Some(f64::from(diff)));
        }
    }
}

#[test]
fn the_adapter_file_alone_gives_the_same_head() {
    for case in reader_cases() {
        let dir = read_checkpoint(&fixture(&case, "adapter"), None).unwrap();
        let file = read_checkpoint(
            &fixture(&case, "adapter").join("adapter_model.safetensors"),
            None,
        )
        .unwrap();
        assert_eq!(dir.head, file.head, "{case}");
        assert_eq!(dir.files, file.files, "{case}");
    }
}
