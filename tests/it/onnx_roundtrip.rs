//! The lossless ONNX layer (`adue_compile::onnx`): decode → encode of models written by
//! other tools must give back the very same bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use adue_compile::onnx::{decode_model, encode_model};

use crate::util::{python, python_has, root};

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
