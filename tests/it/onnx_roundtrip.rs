//! The lossless ONNX layer (`adue_compile::onnx`): decode → encode of models written by
//! other tools must give back the very same bytes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use adue_compile::onnx::query::is_external;
use adue_compile::onnx::tensor_data::f32_values;
use adue_compile::onnx::{decode_model, encode_model, read_model};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::{assert_exit, cmd, fixture, python, python_has, root};

/// Every `.onnx` file under `dir`, sorted.
fn onnx_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "onnx") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Decodes and re-encodes `path`; `None` when the bytes come back identical, else why not.
fn round_trip(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).unwrap();
    match decode_model(&bytes) {
        Err(e) => Some(format!("decode failed: {e}")),
        Ok(model) => {
            let again = encode_model(&model);
            (again != bytes).then(|| {
                let at = again.iter().zip(&bytes).position(|(a, b)| a != b);
                format!(
                    "{} bytes in, {} out, first difference at {at:?}",
                    bytes.len(),
                    again.len()
                )
            })
        }
    }
}

/// Every backend test model of the onnx package (node, model and shipped data cases),
/// written by protobuf through `tests/onnx/backend_models.py`, round-trips byte for byte.
#[test]
fn onnx_backend_models_round_trip_byte_identically() {
    if !python_has(&["onnx"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = root().join("tests/onnx/backend_models.py");
    let run = Command::new(python())
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary = String::from_utf8_lossy(&run.stdout).into_owned();
    let files = onnx_files(dir.path());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| {
            round_trip(p)
                .map(|why| format!("{}: {why}", p.strip_prefix(dir.path()).unwrap().display()))
        })
        .collect();
    eprintln!(
        "{summary}{} of {} backend models round-trip byte-identically",
        files.len() - failures.len(),
        files.len()
    );
    assert!(
        files.len() > 2000,
        "only {} models written: {summary}",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A real `torch.onnx.export` (torch's defaults: dynamo exporter, weights in a side file)
/// of the bbc-bert-linear classifier: byte-identical round trip, and the lookups agree with
/// what `onnx` read from the same file (`tests/data/onnx/gen_minilm_cls.py`).
#[test]
fn onnx_torch_export_round_trips_and_lookups_match_onnx() {
    let dir = root().join("tests/data/onnx");
    let path = dir.join("minilm-cls.onnx");
    let facts: Value =
        serde_json::from_slice(&std::fs::read(dir.join("minilm-cls.facts.json")).unwrap()).unwrap();
    assert_eq!(round_trip(&path), None);

    let model = read_model(&path).unwrap();
    let graph = model.graph.as_ref().unwrap();
    assert_eq!(
        Some(facts["bytes"].as_u64().unwrap()),
        Some(encode_model(&model).len() as u64)
    );
    assert_eq!(model.ir_version, facts["ir_version"].as_i64());
    let producer = format!("{} {}", model.producer_name(), model.producer_version());
    assert_eq!(producer, facts["producer"].as_str().unwrap());
    for (domain, version) in facts["opset_import"].as_object().unwrap() {
        assert_eq!(
            model.opset_version(domain),
            version.as_i64(),
            "opset of {domain:?}"
        );
    }
    assert_eq!(model.opset_version("ai.onnx"), model.opset_version(""));
    assert_eq!(graph.node.len() as u64, facts["nodes"].as_u64().unwrap());
    assert_eq!(
        model.functions.len() as u64,
        facts["functions"].as_u64().unwrap()
    );
    assert_eq!(
        graph.initializer.len() as u64,
        facts["initializers"].as_u64().unwrap()
    );
    let with_metadata = graph
        .node
        .iter()
        .filter(|n| !n.metadata_props.is_empty())
        .count();
    assert_eq!(
        with_metadata as u64,
        facts["nodes_with_metadata"].as_u64().unwrap()
    );
    let names = |key: &str| -> Vec<String> {
        facts[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let inputs: Vec<String> = graph.input.iter().map(|v| v.name().to_string()).collect();
    assert_eq!(inputs, names("inputs"));
    let outputs: Vec<String> = graph.output.iter().map(|v| v.name().to_string()).collect();
    assert_eq!(outputs, names("outputs"));
    assert!(graph.find_value_info("logits").is_some());

    // Every name in use, as onnx lists them (count and SHA-256 of the sorted list).
    let all: Vec<String> = model.all_names().into_iter().collect();
    assert_eq!(all.len() as u64, facts["names"].as_u64().unwrap());
    let digest = Sha256::digest(all.join("\n").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, facts["names_sha256"].as_str().unwrap());

    // External data: detected, counted, located; its values are refused, not invented.
    assert!(model.uses_external_data());
    let external = graph.initializer.iter().filter(|t| is_external(t)).count();
    assert_eq!(
        external as u64,
        facts["external_initializers"].as_u64().unwrap()
    );
    let first = graph
        .find_initializer(facts["first_external"].as_str().unwrap())
        .unwrap();
    let location = facts["first_external_location"].as_str().unwrap();
    assert_eq!(first.external_location(), Some(location));
    let e = f32_values(first).unwrap_err().to_string();
    assert!(
        e.contains("stored externally") && e.contains(location),
        "{e}"
    );
}

/// The ONNX heads our own exporter writes, with the same schema (`onnx::pb`): decode →
/// encode gives the same bytes, and for `onnx` the round trip is the same message, valid for
/// `onnx.checker`, with bitwise-equal outputs in onnxruntime (`tests/onnx/roundtrip_check.py`).
/// (Until the exporter moved to `onnx::pb`, it packed repeated scalars proto3-style and the
/// bytes changed.)
#[test]
fn onnx_our_exported_heads_round_trip_byte_identically() {
    if !python_has(&["onnx", "onnxruntime", "numpy"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let case = "tiny-electra-gelu";
    let fit_dir = tmp.path().join("fit");
    let grid = tmp.path().join("grid.json");
    std::fs::write(
        &grid,
        r#"{"alpha": [1.0], "beta": [0.1], "lr": [1e-3], "epochs": [2]}"#,
    )
    .unwrap();
    let o = cmd(&[
        &"-q",
        &"fit",
        &"--checkpoint",
        &fixture(case, "adapter"),
        &"--train",
        &fixture(case, "train.safetensors"),
        &"--val",
        &fixture(case, "val.safetensors"),
        &"--test",
        &fixture(case, "test.safetensors"),
        &"--grid",
        &grid,
        &"--out",
        &fit_dir,
    ])
    .output()
    .unwrap();
    assert_exit(&o, 0);
    let variants: [&[&str]; 2] = [
        &[],
        &[
            "--with-mahalanobis",
            "--target-risk",
            "0.3",
            "--delta",
            "0.1",
        ],
    ];
    for (i, extra) in variants.iter().enumerate() {
        let head = tmp.path().join(format!("head{i}.onnx"));
        let mut c = cmd(&[&"-q", &"export", &"--fit", &fit_dir, &"--out", &head]);
        assert_exit(&c.args(*extra).output().unwrap(), 0);
        let bytes = std::fs::read(&head).unwrap();
        let model = decode_model(&bytes).unwrap();
        let again = encode_model(&model);
        // The exporter writes with the same schema (dims and attribute ints unpacked, as
        // protobuf writes proto2), so the round trip is byte-identical.
        assert_eq!(again, bytes, "decode → encode changed an exported head");
        assert_eq!(decode_model(&again).unwrap(), model);
        assert_eq!(encode_model(&decode_model(&again).unwrap()), again);
        let rt = tmp.path().join(format!("head{i}.rt.onnx"));
        std::fs::write(&rt, &again).unwrap();
        let check = semantic_check(&head, &rt);
        assert_eq!(check["proto_equal"], true, "{check}");
        assert_eq!(check["checker"], true, "{check}");
        assert_eq!(check["outputs_equal"], true, "{check}");
        assert!(check["outputs"].as_u64().unwrap() >= 3, "{check}");
    }
}

/// Runs `tests/onnx/roundtrip_check.py` on `original` and `round_tripped`.
fn semantic_check(original: &Path, round_tripped: &Path) -> Value {
    let script = root().join("tests/onnx/roundtrip_check.py");
    let run = Command::new(python())
        .arg(script)
        .arg(original)
        .arg(round_tripped)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "roundtrip_check.py failed on {}:\n{}",
        original.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap()
}

/// By hand, for models too big to commit (e.g. the full-size exports of
/// `gen_minilm_cls.py --inline DIR`): `ADUE_ONNX_ROUNDTRIP=a.onnx:b.onnx cargo test
/// --release --test it onnx_roundtrip_by_hand -- --ignored --nocapture`. Prints the decode
/// and encode times of each file and fails unless every one round-trips byte-identically.
#[test]
#[ignore = "needs ADUE_ONNX_ROUNDTRIP=<files>"]
fn onnx_roundtrip_by_hand() {
    let files = std::env::var("ADUE_ONNX_ROUNDTRIP").expect("ADUE_ONNX_ROUNDTRIP=a.onnx:b.onnx");
    for path in std::env::split_paths(&files) {
        let bytes = std::fs::read(&path).unwrap();
        let start = Instant::now();
        let model = decode_model(&bytes).unwrap();
        let decoded = start.elapsed();
        let again = encode_model(&model);
        let encoded = start.elapsed() - decoded;
        eprintln!(
            "{}: {} bytes, decode {decoded:.2?}, encode {encoded:.2?}, identical: {}",
            path.display(),
            bytes.len(),
            again == bytes
        );
        assert!(again == bytes, "{}: round trip differs", path.display());
    }
}
