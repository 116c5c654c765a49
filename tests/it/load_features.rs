//! Feature sets: round trips through the `safetensors` crate and `.npy`, and every bad input.

use adue_compile::head::Head;
use adue_compile::load::{read_features, LoadError};
use ndarray::{array, Array2};

use crate::load_support::*;

/// Values exactly representable in f16 and bf16 (multiples of 1/8 below 8).
fn exact(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 7 % 23) as f32 - 11.0) / 8.0).collect()
}

#[test]
fn safetensors_round_trip_f32_f16_bf16() {
    let dir = tmp();
    let (n, d, c) = (5, 3, 4);
    let feats = exact(n * d);
    let logits = exact(n * c);
    let expect_f = Array2::from_shape_vec((n, d), feats.clone()).unwrap();
    let expect_g = Array2::from_shape_vec((n, c), logits.clone()).unwrap();
    type Writer = fn(&str, &[usize], &[f32]) -> T;
    for (i, w) in [T::f32 as Writer, T::f16, T::bf16].into_iter().enumerate() {
        let p = dir.path().join(format!("s{i}.safetensors"));
        let labels = if i == 1 {
            T::i32("labels", &[0, 1, 2, 3, 0])
        } else {
            T::i64("labels", &[0, 1, 2, 3, 0])
        };
        write_st(
            &p,
            &[
                w("features", &[n, d], &feats),
                labels,
                w("logits", &[n, c], &logits),
            ],
            &[("label_names", r#"["a","b","c","d"]"#), ("split", "val")],
        );
        let fs = read_features(&p).unwrap();
        assert_eq!(fs.features, expect_f);
        assert_eq!(fs.logits.as_ref().unwrap(), &expect_g);
        assert_eq!(fs.labels, array![0usize, 1, 2, 3, 0]);
        assert_eq!((fs.rows(), fs.dim()), (n, d));
        assert_eq!(fs.label_names().unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(fs.metadata["split"], "val");
        assert_eq!(fs.sha256, adue_compile::load::sha256_file(&p).unwrap());
        assert_eq!(fs.files.len(), 1);
    }
}

#[test]
fn f64_features_are_converted_and_logits_optional() {
    let dir = tmp();
    let p = dir.path().join("f64.safetensors");
    write_st(
        &p,
        &[
            T::f64("features", &[2, 2], &[0.1, -2.5, 3.0, 1e-3]),
            T::i64("labels", &[1, 0]),
        ],
        &[],
    );
    let fs = read_features(&p).unwrap();
    assert_eq!(fs.features, array![[0.1f32, -2.5], [3.0, 1e-3]]);
    assert!(fs.logits.is_none());
    assert!(fs.label_names().is_none());
}

#[test]
fn npy_directory_is_read() {
    let dir = tmp();
    let feats = values(6, 1);
    put(
        dir.path(),
        "features.npy",
        &npy("<f4", &[3, 2], &le_f32(&feats)),
    );
    put(
        dir.path(),
        "labels.npy",
        &npy("<i8", &[3], &le_i64(&[1, 0, 1])),
    );
    let halfs: Vec<u8> = [0.5f32, -1.0, 2.0, 0.25, 0.0, 1.5]
        .iter()
        .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
        .collect();
    put(dir.path(), "logits.npy", &npy("<f2", &[3, 2], &halfs));
    put(
        dir.path(),
        "metadata.json",
        br#"{"label_names": ["neg", "pos"], "model": "m"}"#,
    );
    let fs = read_features(dir.path()).unwrap();
    assert_eq!(fs.features, Array2::from_shape_vec((3, 2), feats).unwrap());
    assert_eq!(fs.labels, array![1usize, 0, 1]);
    assert_eq!(
        fs.logits.clone().unwrap(),
        array![[0.5f32, -1.0], [2.0, 0.25], [0.0, 1.5]]
    );
    assert_eq!(fs.label_names().unwrap(), ["neg", "pos"]);
    assert_eq!(fs.files.len(), 4);
    assert_eq!(fs.sha256.len(), 64);
    // The directory digest changes when any file changes.
    let before = fs.sha256;
    put(
        dir.path(),
        "labels.npy",
        &npy("<i8", &[3], &le_i64(&[1, 1, 1])),
    );
    assert_ne!(read_features(dir.path()).unwrap().sha256, before);
}

#[test]
fn npy_written_by_numpy_is_read() {
    // tests/data/npy/gen.py writes these with numpy: v1 C-order f4 features, v2 i4 labels,
    // v3 Fortran-order f8 logits; values follow the formulas below.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/npy");
    let fs = read_features(&dir).unwrap();
    let (n, d, c) = (7, 5, 3);
    assert_eq!((fs.rows(), fs.dim()), (n, d));
    for i in 0..n {
        assert_eq!(fs.labels[i], i % c);
        for j in 0..d {
            assert_eq!(fs.features[[i, j]], i as f32 - 0.25 * j as f32);
        }
        for k in 0..c {
            assert_eq!(
                fs.logits.as_ref().unwrap()[[i, k]],
                (i * 10 + k) as f32 / 4.0
            );
        }
    }
}

fn err_of(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tmp();
    let p = put(dir.path(), "bad.safetensors", bytes);
    let e = read_features(&p).unwrap_err().to_string();
    (dir, p, e)
}

fn good_file(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("good.safetensors");
    write_st(
        &p,
        &[
            T::f32("features", &[2, 2], &[1.0, 2.0, 3.0, 4.0]),
            T::i64("labels", &[0, 1]),
        ],
        &[],
    );
    p
}

#[test]
fn empty_and_truncated_files() {
    let (_d, p, e) = err_of(&[]);
    assert_names(&e, &p, &["0 bytes"]);
    let dir = tmp();
    let good = std::fs::read(good_file(dir.path())).unwrap();
    // Cut inside the data section: the last tensor's offsets now run past the end.
    let (_d, p, e) = err_of(&good[..good.len() - 4]);
    assert_names(&e, &p, &["past the end of the data section"]);
    assert!(e.contains("`labels`") || e.contains("`features`"), "{e}");
    // Cut inside the header.
    let (_d, p, e) = err_of(&good[..20]);
    assert_names(&e, &p, &["header length", "past the end of the file"]);
}

#[test]
fn header_length_limits_and_bad_json() {
    let mut huge = u64::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    let (_d, p, e) = err_of(&huge);
    assert_names(&e, &p, &["limit"]);
    let (_d, p, e) = err_of(&raw_st("{\"features\": {\"dtype\": \"F32\",", &[]));
    assert_names(&e, &p, &["not valid JSON", "line 1"]);
}

#[test]
fn lying_offsets_and_overlaps_name_the_tensor() {
    let (_d, p, e) = err_of(&raw_st(
        r#"{"features":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]},"labels":{"dtype":"I64","shape":[2],"data_offsets":[12,28]}}"#,
        &[0; 28],
    ));
    assert_names(&e, &p, &["`features`", "needs 16 bytes", "span 12"]);
    let (_d, p, e) = err_of(&raw_st(
        r#"{"features":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"labels":{"dtype":"I64","shape":[2],"data_offsets":[8,24]}}"#,
        &[0; 24],
    ));
    assert_names(&e, &p, &["`features`", "`labels`", "overlap"]);
    let (_d, p, e) = err_of(&raw_st(
        r#"{"features":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}}"#,
        &[0; 16],
    ));
    assert_names(&e, &p, &["`features`", "reversed"]);
    let (_d, p, e) = err_of(&raw_st(
        r#"{"features":{"dtype":"F32","shape":[65536,65536,65536,65536],"data_offsets":[0,16]}}"#,
        &[0; 16],
    ));
    assert_names(&e, &p, &["`features`", "overflows"]);
}

fn write_err(
    tensors: &[T],
    meta: &[(&str, &str)],
) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tmp();
    let p = dir.path().join("x.safetensors");
    write_st(&p, tensors, meta);
    let e = read_features(&p).unwrap_err().to_string();
    (dir, p, e)
}

#[test]
fn unsupported_dtypes() {
    let (_d, p, e) = write_err(
        &[
            T::u8("features", &[2, 2], &[1, 2, 3, 4]),
            T::i64("labels", &[0, 1]),
        ],
        &[],
    );
    assert_names(&e, &p, &["`features`", "U8", "F32"]);
    let (_d, p, e) = write_err(
        &[
            T::f32("features", &[2, 2], &[1.0; 4]),
            T::f32("labels", &[2], &[0.0, 1.0]),
        ],
        &[],
    );
    assert_names(&e, &p, &["`labels`", "F32", "integer"]);
}

#[test]
fn bad_labels() {
    let f = || T::f32("features", &[3, 2], &[0.5; 6]);
    let (_d, p, e) = write_err(&[f(), T::i64("labels", &[0, -1, 1])], &[]);
    assert_names(&e, &p, &["`labels`", "row 1", "-1"]);
    let (_d, p, e) = write_err(
        &[
            f(),
            T::i64("labels", &[0, 1, 2]),
            T::f32("logits", &[3, 2], &[0.0; 6]),
        ],
        &[],
    );
    assert_names(&e, &p, &["`labels`", "row 2", "0..2"]);
    let (_d, p, e) = write_err(&[f(), T::i64("labels", &[0, 1])], &[]);
    assert_names(&e, &p, &["`labels`", "2 rows", "has 3"]);
    let (_d, p, e) = write_err(
        &[
            f(),
            T::i64("labels", &[0, 1, 0]),
            T::f32("logits", &[2, 2], &[0.0; 4]),
        ],
        &[],
    );
    assert_names(&e, &p, &["`logits`", "2 rows"]);
}

#[test]
fn non_finite_values_name_row_and_tensor() {
    let mut v = vec![0.5f32; 8];
    v[5] = f32::NAN;
    let (_d, p, e) = write_err(
        &[T::f32("features", &[4, 2], &v), T::i64("labels", &[0; 4])],
        &[],
    );
    assert_names(&e, &p, &["`features`", "row 2", "column 1", "NaN"]);
    let mut g = vec![0.0f32; 8];
    g[6] = f32::NEG_INFINITY;
    let (_d, p, e) = write_err(
        &[
            T::f32("features", &[4, 2], &[0.5; 8]),
            T::i64("labels", &[0; 4]),
            T::f32("logits", &[4, 2], &g),
        ],
        &[],
    );
    assert_names(&e, &p, &["`logits`", "row 3", "column 0", "-inf"]);
    // An f64 value beyond f32 range becomes infinite and is caught too.
    let (_d, p, e) = write_err(
        &[
            T::f64("features", &[1, 2], &[1e300, 0.0]),
            T::i64("labels", &[0]),
        ],
        &[],
    );
    assert_names(&e, &p, &["`features`", "row 0", "inf"]);
}

#[test]
fn missing_tensors_and_bad_shapes() {
    let (_d, p, e) = write_err(&[T::i64("labels", &[0, 1])], &[]);
    assert_names(&e, &p, &["no tensor `features`", "`labels`"]);
    let (_d, p, e) = write_err(&[T::f32("features", &[2, 2], &[0.0; 4])], &[]);
    assert_names(&e, &p, &["no tensor `labels`", "`features`"]);
    let (_d, p, e) = write_err(
        &[T::f32("features", &[4], &[0.0; 4]), T::i64("labels", &[0])],
        &[],
    );
    assert_names(&e, &p, &["`features`", "[N, D]", "[4]"]);
    let (_d, p, e) = write_err(
        &[T::f32("features", &[0, 3], &[]), T::i64("labels", &[])],
        &[],
    );
    assert_names(&e, &p, &["`features`", "N ≥ 1"]);
    let two_d_labels = T {
        name: "labels".into(),
        dtype: safetensors::Dtype::I64,
        shape: vec![2, 1],
        bytes: le_i64(&[0, 1]),
    };
    let (_d, p, e) = write_err(&[T::f32("features", &[2, 2], &[0.0; 4]), two_d_labels], &[]);
    assert_names(&e, &p, &["`labels`", "[N]", "[2, 1]"]);
}

#[test]
fn bad_metadata() {
    let t = || {
        [
            T::f32("features", &[2, 2], &[0.0; 4]),
            T::i64("labels", &[0, 1]),
            T::f32("logits", &[2, 2], &[0.0; 4]),
        ]
    };
    let (_d, p, e) = write_err(&t(), &[("label_names", "not json")]);
    assert_names(&e, &p, &["`label_names`", "JSON list"]);
    let (_d, p, e) = write_err(&t(), &[("label_names", r#"["a","b","c"]"#)]);
    assert_names(&e, &p, &["`label_names`", "3 names for 2 logit columns"]);
    let (_d, p, e) = err_of(&raw_st(r#"{"__metadata__":{"split":1}}"#, &[]));
    assert_names(&e, &p, &["__metadata__", "`split`", "string"]);
}

#[test]
fn npy_directory_errors() {
    let dir = tmp();
    put(
        dir.path(),
        "features.npy",
        &npy("<f4", &[2, 2], &le_f32(&[0.0; 4])),
    );
    let e = read_features(dir.path()).unwrap_err().to_string();
    assert_names(
        &e,
        &dir.path().join("labels.npy"),
        &["`labels.npy`", "not found"],
    );
    put(dir.path(), "labels.npy", &npy(">i8", &[2], &[0; 16]));
    let e = read_features(dir.path()).unwrap_err().to_string();
    assert_names(&e, &dir.path().join("labels.npy"), &["big-endian"]);
    put(
        dir.path(),
        "labels.npy",
        &npy("<i8", &[3], &le_i64(&[0, 1, 0])),
    );
    let e = read_features(dir.path()).unwrap_err().to_string();
    assert_names(
        &e,
        &dir.path().join("labels.npy"),
        &["`labels`", "3 rows", "has 2"],
    );
    put(
        dir.path(),
        "labels.npy",
        &npy("<i8", &[2], &le_i64(&[0, 1])),
    );
    put(
        dir.path(),
        "logits.npy",
        &npy("<f4", &[2, 2], &le_f32(&[0.0; 3])),
    );
    let e = read_features(dir.path()).unwrap_err().to_string();
    assert_names(
        &e,
        &dir.path().join("logits.npy"),
        &["needs 16 bytes", "has 12"],
    );
    std::fs::remove_file(dir.path().join("logits.npy")).unwrap();
    put(dir.path(), "metadata.json", b"{\"label_names\": ");
    let e = read_features(dir.path()).unwrap_err().to_string();
    assert_names(&e, &dir.path().join("metadata.json"), &["invalid JSON"]);
}

#[test]
fn missing_path_is_an_io_error() {
    let e = read_features(std::path::Path::new("/no/such/features.safetensors")).unwrap_err();
    assert!(matches!(e, LoadError::Io { .. }));
    assert!(e.to_string().contains("/no/such/features.safetensors"));
}

fn linear(weight: Array2<f32>, bias: Option<ndarray::Array1<f32>>) -> Head {
    Head::Linear { weight, bias }
}

#[test]
fn check_against_head() {
    let dir = tmp();
    let p = dir.path().join("f.safetensors");
    write_st(
        &p,
        &[
            T::f32("features", &[3, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]),
            T::i64("labels", &[0, 1, 2]),
            T::f32(
                "logits",
                &[3, 3],
                &[1.0, 0.0, 0.5, 0.0, 1.0, 0.5, 1.0, 1.0, 1.0 + 1e-3],
            ),
        ],
        &[],
    );
    let fs = read_features(&p).unwrap();
    // h Wᵀ reproduces the stored logits except the last entry: 1.0 computed, 1.001 stored.
    let w = array![[1.0f32, 0.0], [0.0, 1.0], [0.5, 0.5]];
    let head = linear(w, Some(array![0.0f32, 0.0, 0.0]));
    fs.check_against(&head).unwrap();
    let diff = fs.logits_max_abs_diff(&head).unwrap();
    assert!((diff - 1e-3).abs() < 1e-6, "{diff}");
    assert_eq!(
        fs.reference_logits(&head).unwrap(),
        fs.logits.clone().unwrap()
    );

    let narrow = linear(array![[1.0f32, 0.0, 0.0], [0.0, 1.0, 0.0]], None);
    let e = fs.check_against(&narrow).unwrap_err().to_string();
    assert_names(
        &e,
        &p,
        &["`features`", "feature width D", "expects 3", "has 2"],
    );
    let two = linear(array![[1.0f32, 0.0], [0.0, 1.0]], None);
    let e = fs.check_against(&two).unwrap_err().to_string();
    assert_names(
        &e,
        &p,
        &["`logits`", "number of classes C", "expects 2", "has 3"],
    );
    assert!(fs.logits_max_abs_diff(&two).is_none());

    // Without stored logits a label ≥ C is caught against the head.
    let p2 = dir.path().join("g.safetensors");
    write_st(
        &p2,
        &[
            T::f32("features", &[3, 2], &[0.0; 6]),
            T::i64("labels", &[0, 1, 2]),
        ],
        &[],
    );
    let fs2 = read_features(&p2).unwrap();
    let e = fs2.check_against(&two).unwrap_err().to_string();
    assert_names(&e, &p2, &["`labels`", "row 2", "0..2"]);
    assert!(fs2.logits_max_abs_diff(&head).is_none());
    assert_eq!(
        fs2.reference_logits(&head).unwrap(),
        head.logits(fs2.features.view())
    );
    // Without stored logits, a head of another width has no logits to give: an error, not a
    // panic in the matrix product.
    let e = fs2.reference_logits(&narrow).unwrap_err().to_string();
    assert_names(&e, &p2, &["`features`", "expects 3", "has 2"]);
    assert!(fs.logits_max_abs_diff(&narrow).is_none());

    // Label names must match the head's class count too.
    let p3 = dir.path().join("h.safetensors");
    write_st(
        &p3,
        &[
            T::f32("features", &[2, 2], &[0.0; 4]),
            T::i64("labels", &[0, 1]),
        ],
        &[("label_names", r#"["x","y","z"]"#)],
    );
    let fs3 = read_features(&p3).unwrap();
    fs3.check_against(&head).unwrap();
    let e = fs3.check_against(&two).unwrap_err().to_string();
    assert_names(&e, &p3, &["`label_names`", "3 names", "2 classes"]);
}
