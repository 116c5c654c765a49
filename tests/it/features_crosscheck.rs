//! `features` against the independent Python reference (`fixtures/e2e/reference_features.py`:
//! onnxruntime + the `tokenizers` binding + numpy, its own locator and pooling), and our
//! tokenization against Python `tokenizers` token for token.

use std::path::Path;
use std::process::Command;

use adue_compile::extract::texts::{JsonlReader, TextRow};
use adue_compile::extract::tokenize::TextTokenizer;
use adue_compile::load::read_features;
use ndarray::Zip;

use crate::features_e2e::features;
use crate::util::{
    assert_exit, e2e_max_length, e2e_model, fixture, python, python_has, root, MAIN_CASES,
};

/// Same graph, same onnxruntime version: the padding differs on `short` (batched by length
/// here, in file order there) but is masked; measured 0.0 on every case.
const SAME_RUNTIME_TOL: f32 = 1e-6;

fn reference(case: &str, texts: &Path, out: &Path) {
    let o = Command::new(python())
        .arg(root().join("fixtures/e2e/reference_features.py"))
        .args(["--model".as_ref(), e2e_model(case).as_os_str()])
        .args([
            "--tokenizer".as_ref(),
            fixture(case, "e2e/tokenizer.json").as_os_str(),
        ])
        .args(["--texts".as_ref(), texts.as_os_str()])
        .args([
            "--checkpoint".as_ref(),
            fixture(case, "adapter").as_os_str(),
        ])
        .args([
            "--max-length",
            &e2e_max_length(case).to_string(),
            "--threads",
            "2",
        ])
        .args(["--out".as_ref(), out.as_os_str()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn features_equal_the_python_onnxruntime_reference() {
    if !python_has(&["onnx", "onnxruntime", "numpy", "tokenizers"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for case in MAIN_CASES {
        for (split, texts) in [
            ("test", fixture(case, "texts/test.jsonl")),
            ("short", fixture(case, "e2e/short.jsonl")),
        ] {
            let (ours, theirs) = (dir.path().join("ours.st"), dir.path().join("ref.st"));
            assert_exit(&features(case, &texts, &ours, 32), 0);
            reference(case, &texts, &theirs);
            let (a, b) = (
                read_features(&ours).unwrap(),
                read_features(&theirs).unwrap(),
            );
            assert_eq!(a.labels, b.labels);
            let diff = |x: &ndarray::Array2<f32>, y: &ndarray::Array2<f32>| {
                Zip::from(x)
                    .and(y)
                    .fold(0.0f32, |m, &p, &q| m.max((p - q).abs()))
            };
            let f = diff(&a.features, &b.features);
            let l = diff(a.logits.as_ref().unwrap(), b.logits.as_ref().unwrap());
            eprintln!(
                "{case:17} {split:5} vs reference_features.py: features {f:.3e}  logits {l:.3e}"
            );
            // `short` is batched by length here and in file order there: other padding.
            let tol = if split == "short" {
                1e-5
            } else {
                SAME_RUNTIME_TOL
            };
            assert!(f <= tol && l <= 10.0 * tol, "{case} {split}: {f:e} / {l:e}");
        }
    }
}

#[test]
fn token_ids_equal_python_tokenizers() {
    if !python_has(&["tokenizers"]) {
        return;
    }
    let script = r#"
import json, sys
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
tok.no_padding()
tok.enable_truncation(int(sys.argv[3]))
with open(sys.argv[2], encoding="utf-8") as f:
    texts = [json.loads(line)["text"] for line in f if line.strip()]
print(json.dumps([e.ids for e in tok.encode_batch(texts)]))
"#;
    for case in MAIN_CASES {
        let (tokenizer, max_length) = (fixture(case, "e2e/tokenizer.json"), e2e_max_length(case));
        let ours = TextTokenizer::read(&tokenizer, Some(max_length)).unwrap();
        for texts in [
            fixture(case, "e2e/short.jsonl"),
            fixture(case, "texts/val.jsonl"),
        ] {
            let o = Command::new(python())
                .args(["-c", script])
                .arg(&tokenizer)
                .arg(&texts)
                .arg(max_length.to_string())
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let theirs: Vec<Vec<u32>> = serde_json::from_slice(&o.stdout).unwrap();
            let mut reader = JsonlReader::open(&texts, 5).unwrap();
            let mut rows: Vec<TextRow> = Vec::new();
            while let Some(r) = reader.next_row().unwrap() {
                rows.push(r);
            }
            let got: Vec<Vec<u32>> = (ours.encode(&rows, &texts).unwrap().iter())
                .map(|t| t.ids.to_vec())
                .collect();
            assert_eq!(got, theirs, "{case} {}", texts.display());
            eprintln!(
                "{case:17} {}: {} texts, token ids equal",
                texts.display(),
                got.len()
            );
        }
    }
}
