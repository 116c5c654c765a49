//! Bad input through the command line: exit code 2 and a message that names the file
//! and what was wrong (the readers' own tests cover every case in detail).

use std::path::Path;

use crate::util::{assert_exit, cmd, fixture, stderr, MAIN_CASES};

/// Writes a safetensors file with one header and raw data, as a hostile tool might.
fn raw_safetensors(path: &Path, header: &str, data: &[u8]) {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// `inspect --features BAD` on the main fixture's checkpoint: exit 2, and stderr names
/// the file and contains every `expect`ed fragment.
fn assert_bad_features(name: &str, write: impl Fn(&Path), expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(name);
    write(&path);
    let ckpt = fixture(MAIN_CASES[0], "adapter");
    let o = cmd(&[&"inspect", &"--checkpoint", &ckpt, &"--features", &path])
        .output()
        .unwrap();
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains(name),
        "{name}: message does not name the file: {err}"
    );
    for e in expect {
        assert!(err.contains(e), "{name}: expected `{e}` in: {err}");
    }
    assert!(!err.contains("panicked"), "{name}: {err}");
}

#[test]
fn bad_feature_files_exit_2_with_a_precise_message() {
    assert_bad_features(
        "empty.safetensors",
        |p| std::fs::write(p, b"").unwrap(),
        &["0 bytes"],
    );
    assert_bad_features(
        "huge-header.safetensors",
        |p| std::fs::write(p, (1u64 << 60).to_le_bytes()).unwrap(),
        &["header length"],
    );
    assert_bad_features(
        "bad-json.safetensors",
        |p| raw_safetensors(p, "{\"features\": [", &[]),
        &["JSON"],
    );
    assert_bad_features(
        "lying-offsets.safetensors",
        |p| {
            raw_safetensors(
                p,
                r#"{"features":{"dtype":"F32","shape":[2,2],"data_offsets":[0,64]}}"#,
                &f32s(&[1.0; 4]),
            )
        },
        &["features", "data_offsets"],
    );
    // Width 2 cannot feed a head that takes 384 features.
    assert_bad_features(
        "narrow.safetensors",
        |p| {
            let h = r#"{"features":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"labels":{"dtype":"I64","shape":[2],"data_offsets":[16,32]}}"#;
            let mut d = f32s(&[0.1, 0.2, 0.3, 0.4]);
            d.extend(0i64.to_le_bytes());
            d.extend(1i64.to_le_bytes());
            raw_safetensors(p, h, &d);
        },
        &["features", "384"],
    );
    assert_bad_features(
        "nan.safetensors",
        |p| {
            let h = r#"{"features":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"labels":{"dtype":"I64","shape":[2],"data_offsets":[16,32]}}"#;
            let mut d = f32s(&[0.1, 0.2, f32::NAN, 0.4]);
            d.extend(0i64.to_le_bytes());
            d.extend(1i64.to_le_bytes());
            raw_safetensors(p, h, &d);
        },
        &["features", "row 1", "NaN"],
    );
    assert_bad_features(
        "float-labels.safetensors",
        |p| {
            let h = r#"{"features":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"labels":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#;
            raw_safetensors(p, h, &f32s(&[0.1, 0.2, 1.0]));
        },
        &["labels", "integer"],
    );
}

#[test]
fn bad_checkpoints_exit_2_with_a_precise_message() {
    let tmp = tempfile::tempdir().unwrap();
    // An adapter directory without its config.
    let no_config = tmp.path().join("no-config");
    std::fs::create_dir(&no_config).unwrap();
    std::fs::copy(
        fixture(MAIN_CASES[0], "adapter/adapter_model.safetensors"),
        no_config.join("adapter_model.safetensors"),
    )
    .unwrap();
    // A malformed adapter_config.json.
    let bad_config = tmp.path().join("bad-config");
    std::fs::create_dir(&bad_config).unwrap();
    std::fs::copy(
        fixture(MAIN_CASES[0], "adapter/adapter_model.safetensors"),
        bad_config.join("adapter_model.safetensors"),
    )
    .unwrap();
    std::fs::write(bad_config.join("adapter_config.json"), b"{\"r\": 8,").unwrap();
    for (dir, expect) in [
        (&no_config, "adapter_config.json"),
        (&bad_config, "adapter_config.json"),
    ] {
        let o = cmd(&[&"inspect", &"--checkpoint", dir]).output().unwrap();
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(expect), "{}", stderr(&o));
    }
    // A checkpoint without a classification head: a feature file is not one.
    let o = cmd(&[
        &"inspect",
        &"--checkpoint",
        &fixture(MAIN_CASES[0], "test.safetensors"),
    ])
    .output()
    .unwrap();
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("head"), "{}", stderr(&o));
}

#[test]
fn fit_rejects_bad_parameters_with_exit_2() {
    let case = MAIN_CASES[0];
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fit");
    let (ckpt, train) = (fixture(case, "adapter"), fixture(case, "train.safetensors"));
    let o = cmd(&[
        &"fit",
        &"--checkpoint",
        &ckpt,
        &"--train",
        &train,
        &"--out",
        &out,
        &"--lambda",
        &"0",
    ])
    .output()
    .unwrap();
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("lambda"), "{}", stderr(&o));
    let o = cmd(&[
        &"fit",
        &"--checkpoint",
        &ckpt,
        &"--train",
        &train,
        &"--out",
        &out,
        &"--grid",
        &tmp.path().join("missing.json"),
    ])
    .output()
    .unwrap();
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("missing.json"), "{}", stderr(&o));
    assert!(!out.exists());
}
