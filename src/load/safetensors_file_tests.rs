//! Tests of the safetensors header parser: valid headers, and every kind of malformed header
//! as a named error that never panics.

use super::*;

fn parse(bytes: &[u8]) -> Result<Header, LoadError> {
    parse_header(Path::new("t.safetensors"), bytes)
}

fn msg(bytes: &[u8]) -> String {
    let e = parse(bytes).unwrap_err().to_string();
    assert!(e.starts_with("t.safetensors: "), "{e}");
    e
}

/// A header entry `"name":{"dtype":..,"shape":..,"data_offsets":..}`.
fn entry(name: &str, dtype: &str, shape: &str, offsets: &str) -> String {
    format!(r#""{name}":{{"dtype":"{dtype}","shape":{shape},"data_offsets":{offsets}}}"#)
}

/// A header of `entries`, rejected over `data` zero bytes with a message that contains every
/// needle.
fn rejected(entries: &[String], data: usize, needles: &[&str]) {
    let header = format!("{{{}}}", entries.join(","));
    let e = msg(&raw_file(&header, &vec![0; data]));
    for needle in needles {
        assert!(e.contains(needle), "{header}: {e:?} lacks {needle:?}");
    }
}

/// A header of one tensor `w`, rejected as [`rejected`] does.
fn rejected_w(dtype: &str, shape: &str, offsets: &str, data: usize, needles: &[&str]) {
    rejected(&[entry("w", dtype, shape, offsets)], data, needles);
}

#[test]
fn valid_header_parses() {
    let h = parse(&raw_file(
        r#"{"__metadata__":{"split":"val"},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"a":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}"#,
        &[0; 12],
    ))
    .unwrap();
    assert_eq!(h.tensors.len(), 2);
    assert_eq!(h.tensors["b"].begin, 4);
    assert_eq!(h.metadata["split"], "val");
}

#[test]
fn too_short_and_bad_lengths() {
    assert!(msg(&[]).contains("0 bytes"));
    assert!(msg(&[1, 0, 0]).contains("3 bytes"));
    assert!(msg(&raw_file("{", &[])).contains("shorter than"));
    let mut big = (MAX_HEADER_LEN + 1).to_le_bytes().to_vec();
    big.extend_from_slice(b"{}");
    assert!(msg(&big).contains("limit"));
    let mut past = 1000u64.to_le_bytes().to_vec();
    past.extend_from_slice(b"{}");
    assert!(msg(&past).contains("past the end"));
}

#[test]
fn invalid_json_and_non_object() {
    assert!(msg(&raw_file("{\"a\":", &[])).contains("not valid JSON"));
    assert!(msg(&raw_file("[1,2]", &[])).contains("an array"));
}

#[test]
fn malformed_entries_name_the_tensor() {
    let e = msg(&raw_file(
        r#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#,
        &[0; 4],
    ));
    assert!(e.contains("`w`") && e.contains("dtype"), "{e}");
    rejected_w("F32", "[-1]", "[0,4]", 4, &["`w`", "shape"]);
    rejected_w("F32", "[1]", "[0]", 4, &["data_offsets"]);
    assert!(msg(&raw_file(r#"{"w":[1]}"#, &[])).contains("`w`"));
}

#[test]
fn shape_overflow_is_an_error() {
    let huge = "[4294967296,4294967296,4294967296]";
    rejected_w("F32", huge, "[0,4]", 4, &["`w`", "overflows"]);
    // The element count fits but the byte count does not.
    let bytes = &["overflows the byte count"];
    rejected_w("F64", "[4611686018427387904]", "[0,4]", 4, bytes);
}

#[test]
fn lying_offsets() {
    rejected_w("F32", "[2]", "[0,16]", 8, &["`w`", "past the end"]);
    rejected_w("F32", "[2]", "[8,0]", 8, &["reversed"]);
    rejected_w("F32", "[3]", "[0,8]", 8, &["needs 12 bytes", "span 8"]);
}

#[test]
fn overlap_and_holes() {
    let (a, b) = (
        entry("a", "F32", "[2]", "[0,8]"),
        entry("b", "F32", "[2]", "[4,12]"),
    );
    rejected(&[a, b], 12, &["`a`", "`b`", "overlap"]);
    rejected(&[entry("a", "F32", "[1]", "[4,8]")], 8, &["bytes 0..4"]);
    rejected(&[entry("a", "F32", "[1]", "[0,4]")], 8, &["bytes 4..8"]);
}

#[test]
fn duplicate_tensor_names_are_an_error() {
    // serde_json keeps the last `w`, which tiles the data with `v`.
    let tensors = [
        entry("w", "F32", "[1]", "[0,4]"),
        entry("w", "F32", "[2]", "[0,8]"),
        entry("v", "F32", "[1]", "[8,12]"),
    ];
    rejected(&tensors, 12, &["`w`", "duplicate"]);
}

#[test]
fn metadata_must_be_strings() {
    let e = msg(&raw_file(r#"{"__metadata__":{"n":3}}"#, &[]));
    assert!(e.contains("__metadata__") && e.contains("`n`"), "{e}");
}

#[test]
fn mutated_and_truncated_files_never_panic() {
    let good = raw_file(
        r#"{"__metadata__":{"k":"v"},"features":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"labels":{"dtype":"I64","shape":[2],"data_offsets":[16,32]}}"#,
        &[7; 32],
    );
    assert!(parse(&good).is_ok());
    let header_end = good.len() - 32;
    for i in 0..good.len() {
        for b in [0u8, 0xff, b'"', b'9', b'}', b'-'] {
            let mut m = good.clone();
            m[i] = b;
            let r = parse(&m);
            // Breaking the length prefix or the JSON structure is always caught.
            let structural = i < 8 || (b == b'"' && i < header_end);
            if structural && good[i] != b {
                assert!(r.is_err(), "byte {i} set to {b:#x} was accepted");
            }
        }
        assert!(parse(&good[..i]).is_err(), "truncated at {i}");
    }
}

#[test]
fn unknown_dtype_is_kept_and_bounds_checked() {
    let h = parse(&raw_file(
        r#"{"q":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}"#,
        &[0; 2],
    ))
    .unwrap();
    assert_eq!(h.tensors["q"].dtype.name(), "F4");
}
