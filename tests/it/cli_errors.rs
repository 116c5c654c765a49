//! Usage errors: flags the command line itself rejects exit 2 with a message naming the
//! flag. Bad input *files* are the hostile-input corpus (`hostile.rs`).

use crate::util::{assert_exit, cmd, fixture, stderr, MAIN_CASES};

/// Runs `args`, expects exit 2, and returns stderr.
fn usage_error(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let o = cmd(args).output().unwrap();
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn missing_required_flag_is_named() {
    let err = usage_error(&[
        &"fit",
        &"--train",
        &fixture(MAIN_CASES[0], "train.safetensors"),
    ]);
    assert!(
        err.contains("--checkpoint") && err.contains("--out"),
        "{err}"
    );
}

#[test]
fn non_numeric_value_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let err = usage_error(&[
        &"fit",
        &"--checkpoint",
        &fixture(MAIN_CASES[0], "adapter"),
        &"--train",
        &fixture(MAIN_CASES[0], "train.safetensors"),
        &"--out",
        &tmp.path().join("fit"),
        &"--lambda",
        &"sharp",
    ]);
    assert!(err.contains("--lambda") && err.contains("sharp"), "{err}");
    assert!(!tmp.path().join("fit").exists());
}

#[test]
fn target_risk_requires_delta() {
    let tmp = tempfile::tempdir().unwrap();
    let err = usage_error(&[
        &"export",
        &"--fit",
        &tmp.path(),
        &"--out",
        &tmp.path().join("h.onnx"),
        &"--target-risk",
        &"0.1",
    ]);
    assert!(err.contains("--delta"), "{err}");
}

#[test]
fn unknown_subcommand_and_flag_are_named() {
    let err = usage_error(&[&"compile"]);
    assert!(err.contains("compile"), "{err}");
    let err = usage_error(&[&"report", &"--fit", &".", &"--pdf", &"x.pdf"]);
    assert!(err.contains("--pdf"), "{err}");
}
