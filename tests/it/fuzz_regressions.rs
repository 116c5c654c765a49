//! Findings of the fuzz targets (`fuzz/`, see `fuzz/README.md`): every input that made a
//! target panic, hang or exhaust memory is kept in `tests/data/fuzz-regressions/<target>/`
//! and fed here to the very driver the target runs (`fuzz/drivers.rs`). Each must now be
//! rejected with an error that names the file, within a time bound, without a panic.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::util::root;

#[path = "../../fuzz/drivers.rs"]
mod drivers;

type Driver = fn(&[u8]) -> Result<(), String>;

/// Generous: every regression input runs in milliseconds; a reintroduced hang would not.
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// The input files kept for `target`, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = root().join("tests/data/fuzz-regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `driver` on every kept input of `target`; each must be rejected with a message
/// containing `needle`. Returns how many inputs were checked.
fn check(target: &str, driver: Driver, needle: &str) -> usize {
    let files = inputs(target);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let start = Instant::now();
        let result = driver(&bytes);
        let took = start.elapsed();
        assert!(took < TIME_LIMIT, "{}: took {took:?}", path.display());
        let Err(msg) = result else {
            panic!("{}: accepted, expected an error", path.display());
        };
        assert!(
            msg.contains(needle),
            "{}: message does not name {needle:?}: {msg}",
            path.display()
        );
    }
    files.len()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn fuzz_regressions_safetensors() {
    check(
        "safetensors",
        drivers::safetensors,
        drivers::SAFETENSORS_NAME,
    );
}

#[test]
fn fuzz_regressions_npy() {
    check("npy", drivers::npy, drivers::NPY_NAME);
}

#[test]
fn fuzz_regressions_adapter_config() {
    check(
        "adapter_config",
        drivers::adapter_config,
        drivers::ADAPTER_CONFIG_NAME,
    );
}

/// Found by review while fuzzing (the target's 6-minute run did not reach inputs this
/// large): a 4 KB grid of 200 values per axis made `fit` abort allocating 64 GB for its
/// 1.6e9 configurations, and `epochs = u64::MAX` overflowed `epochs × steps`.
#[test]
fn fuzz_regressions_grid() {
    let n = check("grid", drivers::grid, drivers::GRID_NAME);
    assert!(n >= 2, "the grid findings are kept");
    for path in inputs("grid") {
        let msg = drivers::grid(&std::fs::read(&path).unwrap()).unwrap_err();
        let expected = if name(&path).starts_with("oom") {
            "at most 10000 are allowed"
        } else {
            "expected an integer in 1..=10000"
        };
        assert!(msg.contains(expected), "{}: {msg}", path.display());
    }
}

#[test]
fn fuzz_regressions_onnx() {
    // A rejected model is a failed check (exit 1), named in the message.
    check("onnx", drivers::onnx, "onnx.");
}

#[test]
fn fuzz_regressions_report() {
    check("report", drivers::report, "report");
}

#[test]
fn fuzz_regressions_onnx_model() {
    check("onnx_model", drivers::onnx_model, drivers::ONNX_MODEL_NAME);
    // The driver's round-trip invariant holds on a real model (a torch.onnx.export).
    let real = std::fs::read(root().join("tests/data/onnx/minilm-cls.onnx")).unwrap();
    assert_eq!(drivers::onnx_model(&real), Ok(()));
    let e = drivers::onnx_model(b"\x08\x01").unwrap_err();
    assert!(
        e.contains(drivers::ONNX_MODEL_NAME) && e.contains("graph"),
        "{e}"
    );
}

#[test]
fn fuzz_regressions_texts() {
    check("texts", drivers::texts, drivers::TEXTS_NAME);
    // The driver accepts a real file (3 classes) and names the line of a bad row.
    let real = std::fs::read(root().join("fixtures/bbc-bert-linear/texts/val.jsonl")).unwrap();
    assert_eq!(drivers::texts(&real), Ok(()));
    let e = drivers::texts(b"{\"text\": \"a\", \"label\": 0}\n{\"text\": \"b\", \"label\": 3}")
        .unwrap_err();
    assert!(
        e.starts_with("texts.jsonl:2: \"label\" 3 is out of range"),
        "{e}"
    );
}

/// A model holding the fuzz heads' linear matrix in a `Gemm` (`transB = 1`) fed from
/// `input_ids` (structure only: it is never run).
fn locator_model() -> Vec<u8> {
    use adue_compile::onnx::pb::{AttributeProto, GraphProto, ModelProto, NodeProto};
    use adue_compile::onnx::tensor_data::f32_tensor;
    let w = drivers::locator_matrix(drivers::LOCATOR_CLASSES, drivers::LOCATOR_DIM, 0);
    let values: Vec<f32> = w.iter().copied().collect();
    let info = adue_compile::extract::graph::tensor_value;
    let node =
        |op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>| NodeProto {
            op_type: Some(op.into()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            attribute,
            ..NodeProto::default()
        };
    let int = |name: &str, v: i64| AttributeProto {
        name: Some(name.into()),
        i: Some(v),
        ..AttributeProto::default()
    };
    let model = ModelProto {
        ir_version: Some(8),
        graph: Some(GraphProto {
            input: vec![info("input_ids", 7)],
            node: vec![
                node("Cast", &["input_ids"], "x", vec![int("to", 1)]),
                node("Gemm", &["x", "w"], "logits", vec![int("transB", 1)]),
            ],
            initializer: vec![f32_tensor("w", &[3, 4], &values)],
            output: vec![info("logits", 1)],
            ..GraphProto::default()
        }),
        ..ModelProto::default()
    };
    adue_compile::onnx::encode_model(&model)
}

#[test]
fn fuzz_regressions_head_locator() {
    check("head_locator", drivers::head_locator, drivers::MODEL_NAME);
    assert_eq!(drivers::head_locator(&locator_model()), Ok(()));
    // A real export: its weights are external (side file not kept), and no head matches.
    let real = std::fs::read(root().join("tests/data/onnx/minilm-cls.onnx")).unwrap();
    let e = drivers::head_locator(&real).unwrap_err();
    assert!(
        e.starts_with("model.onnx: external data is not supported"),
        "{e}"
    );
    let e = drivers::head_locator(b"\x08\x01").unwrap_err();
    assert!(e.starts_with("model.onnx: ONNX model"), "{e}");
}
