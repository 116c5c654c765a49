//! `head.safetensors` (CONTRACT §6): round trip, byte determinism, layout as seen by the
//! safetensors crate, and a reader that turns every kind of bad file into a named error.

use std::collections::BTreeMap;
use std::path::Path;

use adue_compile::head::{read_head, write_head, Activation, Head, HeadFileError, UeHead, UeSpec};
use ndarray::{Array1, Array2};

fn dense() -> Head {
    Head::Dense {
        dense_weight: Array2::from_shape_fn((3, 5), |(i, j)| (i * 5 + j) as f32 * 0.25 - 1.0),
        dense_bias: Array1::from(vec![0.5, -0.25, 0.125]),
        activation: Activation::Gelu,
        out_weight: Array2::from_shape_fn((2, 3), |(i, j)| (i as f32 - j as f32) * 0.3),
        out_bias: Array1::from(vec![1e-3, -2e-3]),
    }
}

fn linear(bias: bool) -> Head {
    Head::Linear {
        weight: Array2::from_shape_fn((4, 6), |(i, j)| (i as f32 + 1.0) / (j as f32 + 2.0)),
        bias: bias.then(|| Array1::from(vec![0.1, 0.2, 0.3, -0.6])),
    }
}

/// `head` with `spec`, as a fitted UE head.
fn ue(head: &Head, spec: &UeSpec) -> UeHead {
    UeHead {
        head: head.clone(),
        spec: *spec,
    }
}

fn extra() -> BTreeMap<String, String> {
    [("alpha", "0.3"), ("selected_by", "val_roc_auc")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn round_trips_every_kind_with_spec_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let spec = UeSpec {
        scale: 1.5,
        ..UeSpec::paper()
    };
    for (i, head) in [dense(), linear(true), linear(false)]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("h{i}.safetensors"));
        write_head(&path, &ue(&head, &spec), &extra()).unwrap();
        let (back, back_extra) = read_head(&path).unwrap();
        assert_eq!(back.head, head);
        assert_eq!(back.spec, spec);
        assert_eq!(back_extra, extra());
        // Same inputs, same bytes.
        let again = dir.path().join(format!("again{i}.safetensors"));
        write_head(&again, &ue(&head, &spec), &extra()).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&again).unwrap()
        );
    }
}

#[test]
fn layout_is_the_contract_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("head.safetensors");
    write_head(&path, &ue(&dense(), &UeSpec::paper()), &BTreeMap::new()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        [
            "dense.bias",
            "dense.weight",
            "out_proj.bias",
            "out_proj.weight"
        ]
    );
    let w = st.tensor("out_proj.weight").unwrap();
    assert_eq!(
        (w.dtype(), w.shape()),
        (safetensors::Dtype::F32, &[2usize, 3][..])
    );
    assert_eq!(&w.data()[4..8], &(-0.3f32).to_le_bytes());
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    // Every number parses back to the same f64 (Python's float() reads the same strings).
    assert_eq!(meta["kind"], "dense");
    assert_eq!(meta["activation"], "gelu");
    assert_eq!(meta["lambda"].parse::<f64>().unwrap(), 100.0);
    assert_eq!(meta["scale"].parse::<f64>().unwrap(), 1.0);
    assert_eq!(meta["eps"].parse::<f64>().unwrap(), 1e-7);

    let path = dir.path().join("linear.safetensors");
    write_head(
        &path,
        &ue(&linear(false), &UeSpec::paper()),
        &BTreeMap::new(),
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.names(), ["weight"]);
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(meta.metadata().as_ref().unwrap()["activation"], "none");
}

#[test]
fn refuses_reserved_metadata_and_non_finite_weights() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.safetensors");
    let mut bad = extra();
    bad.insert("lambda".into(), "3".into());
    let e = write_head(&path, &ue(&dense(), &UeSpec::paper()), &bad).unwrap_err();
    assert!(
        matches!(e, HeadFileError::ReservedMetadataKey { ref key } if key == "lambda"),
        "{e}"
    );
    let mut head = linear(true);
    if let Head::Linear { weight, .. } = &mut head {
        weight[[1, 1]] = f32::INFINITY;
    }
    let e = write_head(&path, &ue(&head, &UeSpec::paper()), &extra())
        .unwrap_err()
        .to_string();
    assert!(e.contains("h.safetensors") && e.contains("`weight`"), "{e}");
    assert!(!path.exists(), "nothing written");
}

/// (name, dtype, shape, raw bytes) of a hand-made tensor.
type RawTensor = (&'static str, &'static str, Vec<usize>, Vec<u8>);

/// `__metadata__` pairs of a hand-made file.
type Meta = Vec<(&'static str, &'static str)>;

/// Writes a safetensors file by hand.
fn raw_file(path: &Path, meta: &[(&str, &str)], tensors: &[RawTensor]) {
    let mut header = serde_json::Map::new();
    let meta: serde_json::Map<String, serde_json::Value> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).into()))
        .collect();
    header.insert("__metadata__".into(), meta.into());
    let mut offset = 0;
    for (name, dtype, shape, data) in tensors {
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + data.len()]}),
        );
        offset += data.len();
    }
    let mut h = serde_json::Value::Object(header).to_string().into_bytes();
    h.resize(h.len().next_multiple_of(8), b' ');
    let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
    bytes.extend(h);
    tensors.iter().for_each(|t| bytes.extend(&t.3));
    std::fs::write(path, bytes).unwrap();
}

fn f32_bytes(n: usize, v: f32) -> Vec<u8> {
    (0..n).flat_map(|_| v.to_le_bytes()).collect()
}

const META: [(&str, &str); 5] = [
    ("kind", "linear"),
    ("activation", "none"),
    ("lambda", "100"),
    ("scale", "1"),
    ("eps", "1e-7"),
];

#[test]
fn every_kind_of_bad_file_is_a_named_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.safetensors");
    let w = || ("weight", "F32", vec![2, 3], f32_bytes(6, 0.5));
    let with_meta = |key: &str, value: &'static str| {
        let mut m = META.to_vec();
        m.iter_mut()
            .filter(|(k, _)| *k == key)
            .for_each(|kv| kv.1 = value);
        m
    };
    let cases: Vec<(Meta, Vec<RawTensor>, &str)> = vec![
        (
            META.to_vec(),
            vec![("weight", "F16", vec![2, 3], vec![0; 12])],
            "tensor `weight`): expected F32",
        ),
        (
            META.to_vec(),
            vec![("weight", "F32", vec![6], f32_bytes(6, 0.5))],
            "rank-2",
        ),
        (
            META.to_vec(),
            vec![("weight", "F32", vec![2, 3], f32_bytes(6, f32::NAN))],
            "non-finite",
        ),
        (
            META.to_vec(),
            vec![w(), ("bias", "F32", vec![3], f32_bytes(3, 0.0))],
            "tensor `bias`): expected shape [2]",
        ),
        (
            META.to_vec(),
            vec![w(), ("dense.weight", "F32", vec![1], f32_bytes(1, 0.0))],
            "unexpected tensor",
        ),
        (META.to_vec(), vec![], "tensor `weight`): missing tensor"),
        (
            with_meta("lambda", "-1"),
            vec![w()],
            "tensor `lambda`): expected a number > 0",
        ),
        (with_meta("eps", "abc"), vec![w()], "`eps`"),
        (with_meta("kind", "conv"), vec![w()], "kind \"conv\""),
        (
            with_meta("activation", "tanh"),
            vec![w()],
            "activation \"tanh\"",
        ),
        (
            META[1..].to_vec(),
            vec![w()],
            "tensor `kind`): missing `__metadata__` key",
        ),
    ];
    for (meta, tensors, needle) in cases {
        raw_file(&path, &meta, &tensors);
        let e = read_head(&path).unwrap_err().to_string();
        assert!(
            e.contains("bad.safetensors") && e.contains(needle),
            "{e:?} lacks {needle:?}"
        );
    }
    // A dense head whose out_proj does not fit dense.
    let dmeta = [
        ("kind", "dense"),
        ("activation", "tanh"),
        ("lambda", "100"),
        ("scale", "1"),
        ("eps", "1e-7"),
    ];
    raw_file(
        &path,
        &dmeta,
        &[
            ("dense.weight", "F32", vec![3, 2], f32_bytes(6, 0.1)),
            ("dense.bias", "F32", vec![3], f32_bytes(3, 0.1)),
            ("out_proj.weight", "F32", vec![2, 4], f32_bytes(8, 0.1)),
            ("out_proj.bias", "F32", vec![2], f32_bytes(2, 0.1)),
        ],
    );
    let e = read_head(&path).unwrap_err().to_string();
    assert!(
        e.contains("out_proj.weight") && e.contains("expected 3 columns"),
        "{e}"
    );

    let e = read_head(&dir.path().join("missing.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot read head file") && e.contains("missing.safetensors"),
        "{e}"
    );
}

#[test]
fn truncated_or_corrupted_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    write_head(&good, &ue(&dense(), &UeSpec::paper()), &extra()).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let path = dir.path().join("cut.safetensors");
    let mut errors = 0;
    for len in 0..bytes.len() {
        std::fs::write(&path, &bytes[..len]).unwrap();
        let e = read_head(&path).expect_err("every strict prefix is invalid");
        assert!(e.to_string().contains("cut.safetensors"), "{e}");
        errors += 1;
    }
    assert_eq!(errors, bytes.len());
    // Every single-byte corruption either still parses or is a named error; none panics.
    for i in 0..bytes.len() {
        for v in [0u8, b'9'] {
            let mut b = bytes.clone();
            b[i] = v;
            std::fs::write(&path, &b).unwrap();
            if let Err(e) = read_head(&path) {
                assert!(e.to_string().contains("cut.safetensors"), "{e}");
            }
        }
    }
}
