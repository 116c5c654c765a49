//! Helpers shared by the integration tests: run the binary, find fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root (where `fixtures/` and `tests/data/` live).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `<case dir>/<file>`: `fixtures/<case>/<file>` for a fixture, `tests/data/<case>/<file>`
/// for a reader-coverage case.
pub fn fixture(case: &str, file: &str) -> PathBuf {
    case_dir(case).join(file)
}

/// Where a case lives: reader-coverage cases in `tests/data/`, fixtures in `fixtures/`.
pub fn case_dir(case: &str) -> PathBuf {
    if READER_COVERAGE_CASES.contains(&case) {
        root().join("tests/data").join(case)
    } else {
        root().join("fixtures").join(case)
    }
}

/// Every committed real fixture (a directory of `fixtures/` with an `adapter/`), sorted.
pub fn fixture_cases() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("fixtures"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().join("adapter").is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The real fixtures made from MiniLM and BBC News (the main cases).
pub const MAIN_CASES: [&str; 3] = ["bbc-roberta", "bbc-bert-linear", "bbc-minilm-score"];

/// Reader-coverage data in `tests/data/<case>/`, laid out like a fixture: real BBC text and
/// labels but RANDOM-INIT weights (LLaMA keys with a bias-free `score` carrying rsLoRA
/// factors; ELECTRA dense → gelu). They exercise the readers and the exporter; they are not
/// fixtures, and say nothing about how well AdUE works.
pub const READER_COVERAGE_CASES: [&str; 2] = ["tiny-electra-gelu", "tiny-llama-576"];

/// The fixtures, then the reader-coverage cases: every case the readers, the exporter and
/// the parity checks run on.
pub fn reader_cases() -> Vec<String> {
    let mut out = fixture_cases();
    out.extend(READER_COVERAGE_CASES.iter().map(|c| c.to_string()));
    out
}

/// Runs the `adue-compile` binary with `args`.
pub fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    cmd(args).output().expect("the test binary runs")
}

/// A `Command` for the `adue-compile` binary with `args`, quiet by default.
pub fn cmd(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_adue-compile"));
    for a in args {
        c.arg(a);
    }
    c
}

/// `fit` on a fixture's committed train/val/test splits into `out`, quiet, with `extra`
/// flags appended.
pub fn fit_fixture(case: &str, out: &Path, extra: &[&str]) -> Output {
    let split = |s: &str| fixture(case, &format!("{s}.safetensors"));
    let mut c = cmd(&[
        &"-q",
        &"fit",
        &"--checkpoint",
        &fixture(case, "adapter"),
        &"--train",
        &split("train"),
        &"--val",
        &split("val"),
        &"--test",
        &split("test"),
        &"--out",
        &out,
    ]);
    c.args(extra);
    c.output().expect("the test binary runs")
}

/// Stdout of a run as a string.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr of a run as a string.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, printing both streams when it differs.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
}

/// The Python used for cross-checks: `ADUE_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("ADUE_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Whether `python()` can import every module in `modules`. Under `CI=true` a missing
/// module is a failure, not a reason to skip: CI installs them.
pub fn python_has(modules: &[&str]) -> bool {
    let ok = Command::new(python())
        .arg("-c")
        .arg(format!("import {}", modules.join(", ")))
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but {} cannot import {:?}", python(), modules);
    }
    if !ok {
        eprintln!("skipped: {} cannot import {:?}", python(), modules);
    }
    ok
}

/// The rebuilt end-to-end model of a fixture, `$ADUE_E2E_MODELS/<case>/model.onnx`
/// (`eval "$(bash scripts/setup-e2e.sh)"` sets the variable; `scripts/test.sh` does it).
/// A missing variable or file fails the test: the end-to-end tests are never skipped.
pub fn e2e_model(case: &str) -> PathBuf {
    let dir = std::env::var_os("ADUE_E2E_MODELS").unwrap_or_else(|| {
        panic!(
            "ADUE_E2E_MODELS is not set: run `eval \"$(bash scripts/setup-e2e.sh)\"` first \
             (scripts/test.sh does) so that the end-to-end models exist"
        )
    });
    let p = PathBuf::from(dir).join(case).join("model.onnx");
    assert!(
        p.is_file(),
        "{} is missing: rebuild it with `eval \"$(bash scripts/setup-e2e.sh)\"`",
        p.display()
    );
    p
}

/// `max_length` of a fixture's end-to-end tokenizer settings (`e2e/e2e.json`).
pub fn e2e_max_length(case: &str) -> usize {
    let text = std::fs::read_to_string(fixture(case, "e2e/e2e.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["tokenizer"]["max_length"].as_u64().unwrap() as usize
}
