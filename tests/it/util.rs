//! Helpers shared by the integration tests: run the binary, find fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root (where `fixtures/` lives).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/<case>/<file>`.
pub fn fixture(case: &str, file: &str) -> PathBuf {
    root().join("fixtures").join(case).join(file)
}

/// Every committed fixture case (a directory of `fixtures/` with an `adapter/`), sorted.
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
pub const MAIN_CASES: [&str; 2] = ["bbc-roberta", "bbc-bert-linear"];

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
