//! The readers on the committed real fixtures: the head read from each PEFT adapter must
//! reproduce the logits PyTorch stored beside the features, and `inspect` must describe it.

use adue_compile::head::Activation;
use adue_compile::load::{inspect, read_checkpoint, read_features};

use crate::util::{fixture, fixture_cases, root};

/// What each case's head is, from how its fixture was made (fixtures/<case>/gen script).
fn expected(case: &str) -> (&'static str, Option<Activation>, bool) {
    match case {
        "bbc-roberta" => ("dense", Some(Activation::Tanh), true),
        "bbc-bert-linear" => ("linear", None, true),
        "tiny-llama-576" => ("linear", None, false),
        "tiny-electra-gelu" => ("dense", Some(Activation::Gelu), true),
        other => panic!("fixture case `{other}` has no expectations in tests/it/load_fixtures.rs"),
    }
}

/// The split files of a case.
fn splits(case: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join("fixtures").join(case))
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
    let cases = fixture_cases();
    for case in [
        "bbc-roberta",
        "bbc-bert-linear",
        "tiny-llama-576",
        "tiny-electra-gelu",
    ] {
        assert!(
            cases.iter().any(|c| c == case),
            "fixtures/{case} is missing: {cases:?}"
        );
    }
}

#[test]
fn heads_reproduce_the_stored_logits() {
    for case in fixture_cases() {
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
    for case in fixture_cases() {
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
