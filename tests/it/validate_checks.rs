//! `validate` catches altered models, wrong provenance and structure violations.

use adue_compile::export::{build_model, encode, ExportError};
use adue_compile::head::{Head, UeHead};
use adue_compile::onnx::pb::{self, ModelProto};
use adue_compile::validate::{validate, validate_bytes, Check, ValidateError, ValidateInputs};
use prost::Message;

use super::export_support::{Case, Kind};

fn case() -> Case {
    Case::new(Kind::DenseGelu, 48, 3, 400, true, 77)
}

fn checks_for(case: &Case, bytes: &[u8]) -> Vec<Check> {
    let hashed = case.hashed_inputs();
    let inputs = ValidateInputs {
        onnx: std::path::Path::new("in-memory.onnx"),
        features: case.features.view(),
        reference: case.reference(),
        hashed_inputs: &hashed,
    };
    validate_bytes(bytes, &inputs).unwrap()
}

fn failed(checks: &[Check]) -> Vec<&str> {
    checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect()
}

fn model(case: &Case) -> ModelProto {
    build_model(&case.spec()).unwrap()
}

fn initializer<'a>(m: &'a mut ModelProto, name: &str) -> &'a mut pb::TensorProto {
    m.graph
        .as_mut()
        .unwrap()
        .initializer
        .iter_mut()
        .find(|t| t.name() == name)
        .unwrap()
}

#[test]
fn unmodified_model_passes() {
    let c = case();
    let checks = checks_for(&c, &encode(&model(&c)));
    assert!(failed(&checks).is_empty(), "{checks:#?}");
}

/// Flip one bit of one float of the UE head in the file bytes themselves.
#[test]
fn flipped_ue_weight_bit_in_file_fails_uncertainty_parity() {
    let c = case();
    let mut bytes = encode(&model(&c));
    let Head::Dense { out_weight, .. } = &c.ue.head else {
        unreachable!()
    };
    let needle: Vec<u8> = out_weight
        .iter()
        .take(4)
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("the UE out_proj weight is stored as raw little-endian floats");
    // Exponent bit of the first float: the value doubles or halves.
    bytes[at + 3] ^= 0x01;
    let checks = checks_for(&c, &bytes);
    let f = failed(&checks);
    assert!(f.contains(&"parity.uncertainty"), "{checks:#?}");
    assert!(
        !f.contains(&"parity.logits"),
        "the original head is untouched: {f:?}"
    );
}
#[test]
fn altered_original_weight_fails_logit_parity() {
    let c = case();
    let mut m = model(&c);
    let t = initializer(&mut m, "original.out_proj.weight");
    let raw = t.raw_data.as_mut().unwrap();
    let v = f32::from_le_bytes(raw[0..4].try_into().unwrap());
    raw[0..4].copy_from_slice(&(v + 0.01).to_le_bytes());
    let f = checks_for(&c, &encode(&m));
    let names = failed(&f);
    assert!(names.contains(&"parity.logits"), "{f:#?}");
    assert!(names.contains(&"parity.probabilities"), "{f:#?}");
}

#[test]
fn altered_threshold_or_mahalanobis_fails() {
    let c = case();
    let mut m = model(&c);
    // Move τ to the top of U's range: rows between the two thresholds disagree.
    initializer(&mut m, "threshold.tau").raw_data = Some(0.99f32.to_le_bytes().to_vec());
    let f = checks_for(&c, &encode(&m));
    assert_eq!(failed(&f), ["parity.accept"], "{f:#?}");

    let mut m = model(&c);
    let t = initializer(&mut m, "mahalanobis.center");
    t.raw_data.as_mut().unwrap()[0..4].copy_from_slice(&5.0f32.to_le_bytes());
    let f = checks_for(&c, &encode(&m));
    assert_eq!(failed(&f), ["parity.mahalanobis"], "{f:#?}");
}

#[test]
fn changed_input_file_fails_its_hash_check() {
    let c = case();
    let bytes = encode(&model(&c));
    std::fs::write(&c.input, b"the training split changed after export").unwrap();
    let f = checks_for(&c, &bytes);
    assert_eq!(failed(&f), ["metadata.sha256.train"], "{f:#?}");
    let detail = &f
        .iter()
        .find(|x| x.name == "metadata.sha256.train")
        .unwrap()
        .detail;
    assert!(detail.contains("train.safetensors"), "{detail}");
}

#[test]
fn unrecorded_input_fails_its_hash_check() {
    let c = case();
    let bytes = encode(&model(&c));
    let hashed = vec![("test".to_string(), c.input.clone())];
    let inputs = ValidateInputs {
        onnx: std::path::Path::new("x.onnx"),
        features: c.features.view(),
        reference: c.reference(),
        hashed_inputs: &hashed,
    };
    let f = validate_bytes(&bytes, &inputs).unwrap();
    assert_eq!(failed(&f), ["metadata.sha256.test"], "{f:#?}");
}

#[test]
fn missing_metadata_key_fails() {
    let c = case();
    let mut m = model(&c);
    m.metadata_props
        .retain(|e| e.key() != "adue.selected.alpha");
    let f = checks_for(&c, &encode(&m));
    assert_eq!(failed(&f), ["metadata.keys"], "{f:#?}");
    let detail = &f.iter().find(|x| x.name == "metadata.keys").unwrap().detail;
    assert!(detail.contains("adue.selected.alpha"), "{detail}");
}

#[test]
fn metadata_disagreeing_with_reference_spec_fails() {
    let c = case();
    let mut m = model(&c);
    for e in &mut m.metadata_props {
        if e.key() == "adue.lambda" {
            e.value = Some("50".to_string());
        }
    }
    let f = checks_for(&c, &encode(&m));
    assert_eq!(failed(&f), ["metadata.ue_spec"], "{f:#?}");
}

#[test]
fn wrong_opset_fails() {
    let c = case();
    let mut m = model(&c);
    m.opset_import[0].version = Some(17);
    let f = checks_for(&c, &encode(&m));
    assert!(failed(&f).contains(&"onnx.opset"), "{f:#?}");
}

#[test]
fn missing_output_fails() {
    let c = case();
    let mut m = model(&c);
    m.graph
        .as_mut()
        .unwrap()
        .output
        .retain(|o| o.name() != "uncertainty");
    let f = checks_for(&c, &encode(&m));
    let names = failed(&f);
    assert!(names.contains(&"io.output.uncertainty"), "{f:#?}");
    assert!(names.contains(&"parity.uncertainty"), "{f:#?}");
}

#[test]
fn fixed_batch_dimension_fails() {
    use pb::tensor_shape_proto::dimension::Value;
    let c = case();
    let mut m = model(&c);
    let input = &mut m.graph.as_mut().unwrap().input[0];
    let Some(pb::type_proto::Value::TensorType(t)) =
        input.r#type.as_mut().and_then(|t| t.value.as_mut())
    else {
        unreachable!()
    };
    t.shape.as_mut().unwrap().dim[0].value = Some(Value::DimValue(400));
    let f = checks_for(&c, &encode(&m));
    assert!(failed(&f).contains(&"io.input"), "{f:#?}");
}

#[test]
fn external_data_and_foreign_ops_fail() {
    let c = case();
    let mut m = model(&c);
    let t = initializer(&mut m, "ue.dense.weight");
    t.data_location = Some(pb::DataLocation::External as i32);
    t.external_data.push(pb::StringStringEntryProto {
        key: Some("location".to_string()),
        value: Some("weights.bin".to_string()),
    });
    let g = m.graph.as_mut().unwrap();
    g.node[0].domain = Some("com.example".to_string());
    let f = checks_for(&c, &encode(&m));
    let names = failed(&f);
    assert!(names.contains(&"onnx.external_data"), "{f:#?}");
    assert!(names.contains(&"onnx.operators"), "{f:#?}");
}

#[test]
fn garbage_bytes_fail_decoding() {
    let c = case();
    let f = checks_for(&c, b"\xff\xff\xff\xff not a protobuf");
    assert_eq!(failed(&f), ["onnx.decode"], "{f:#?}");
    assert_eq!(f.len(), 1);
}

#[test]
fn truncated_file_fails() {
    let c = case();
    let bytes = encode(&model(&c));
    let f = checks_for(&c, &bytes[..bytes.len() / 2]);
    assert!(!failed(&f).is_empty(), "{f:#?}");
}

#[test]
fn wrong_feature_width_is_bad_input() {
    let c = case();
    let bytes = encode(&model(&c));
    let other = super::export_support::features(5, 47, 1);
    let hashed = c.hashed_inputs();
    let inputs = ValidateInputs {
        onnx: std::path::Path::new("x.onnx"),
        features: other.view(),
        reference: c.reference(),
        hashed_inputs: &hashed,
    };
    let e = validate_bytes(&bytes, &inputs).unwrap_err();
    assert!(
        matches!(
            e,
            ValidateError::Features {
                got: 47,
                expected: 48,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn missing_model_file_is_bad_input() {
    let c = case();
    let hashed = c.hashed_inputs();
    let path = c.dir.path().join("nope.onnx");
    let e = validate(&ValidateInputs {
        onnx: &path,
        features: c.features.view(),
        reference: c.reference(),
        hashed_inputs: &hashed,
    })
    .unwrap_err();
    assert!(e.to_string().contains("nope.onnx"), "{e}");
}

#[test]
fn export_rejects_bad_specs() {
    let c = case();
    let mut spec = c.spec();
    spec.metadata.insert("adue.lambda".into(), "1".into());
    assert!(matches!(
        build_model(&spec),
        Err(ExportError::ReservedMetadataKey { .. })
    ));

    let mut spec = c.spec();
    spec.metadata.remove("adue.seed");
    let e = build_model(&spec).unwrap_err();
    assert!(e.to_string().contains("adue.seed"), "{e}");

    let other = super::export_support::head(Kind::LinearBias, 48, 4, 1);
    let other = UeHead {
        head: other,
        spec: c.ue.spec,
    };
    let mut spec = c.spec();
    spec.ue = &other;
    assert!(matches!(
        build_model(&spec),
        Err(ExportError::HeadMismatch { .. })
    ));

    let mut bad = c.ue.clone();
    if let Head::Dense { dense_bias, .. } = &mut bad.head {
        dense_bias[3] = f32::NAN;
    }
    let mut spec = c.spec();
    spec.ue = &bad;
    let e = build_model(&spec).unwrap_err();
    assert!(e.to_string().contains("ue.dense.bias"), "{e}");
}

/// Decoding with our types and re-encoding is lossless for our own files.
#[test]
fn prost_round_trip_is_lossless() {
    let c = case();
    let bytes = encode(&model(&c));
    let back = ModelProto::decode(bytes.as_slice()).unwrap();
    assert_eq!(encode(&back), bytes);
}
