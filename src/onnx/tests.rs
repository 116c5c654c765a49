//! Decoding entry points, the walkers and the lookups, on small models built here.

use super::pb::tensor_proto::DataLocation;
use super::pb::*;
use super::tensor_data::f32_tensor;
use super::*;

fn node(
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        name: Some(name.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

fn graph_attr(name: &str, g: GraphProto) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        g: Some(g),
        ..Default::default()
    }
}

fn value(name: &str) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn external(name: &str) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_location: Some(DataLocation::External as i32),
        external_data: vec![StringStringEntryProto {
            key: Some("location".into()),
            value: Some("w.bin".into()),
        }],
        ..Default::default()
    }
}

/// Main graph: `If` whose then-branch holds a `Loop` whose body holds `deep`.
fn nested_model() -> ModelProto {
    let body = GraphProto {
        name: Some("body".into()),
        node: vec![node("deep", &["i"], &["deep_out"], vec![])],
        ..Default::default()
    };
    let then = GraphProto {
        name: Some("then".into()),
        node: vec![node(
            "loop",
            &["", "c"],
            &["l"],
            vec![graph_attr("body", body)],
        )],
        output: vec![value("l")],
        ..Default::default()
    };
    let main = GraphProto {
        name: Some("main".into()),
        node: vec![node(
            "if",
            &["cond"],
            &["y"],
            vec![graph_attr("then_branch", then)],
        )],
        initializer: vec![f32_tensor("w", &[2], &[1.0, 2.0])],
        input: vec![value("cond")],
        output: vec![value("y")],
        value_info: vec![value("mid")],
        ..Default::default()
    };
    ModelProto {
        ir_version: Some(10),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(18),
        }],
        graph: Some(main),
        ..Default::default()
    }
}

#[test]
fn all_names_reaches_nested_subgraphs_and_skips_the_empty_name() {
    let names = nested_model().all_names();
    for n in [
        "main", "if", "cond", "y", "w", "mid", "then", "loop", "c", "l", "body", "deep", "i",
        "deep_out",
    ] {
        assert!(names.contains(n), "{n} missing from {names:?}");
    }
    assert!(!names.contains(""));
    assert_eq!(names.len(), 14);
    let m = nested_model();
    let names: Vec<&str> = graphs(&m).iter().map(|g| g.name()).collect();
    assert_eq!(names, ["main", "then", "body"]);
}

#[test]
fn opset_versions_and_lookups() {
    let mut m = nested_model();
    assert_eq!(m.opset_version(""), Some(18));
    assert_eq!(m.opset_version("ai.onnx"), Some(18));
    assert_eq!(m.opset_version("com.microsoft"), None);
    m.opset_import.push(OperatorSetIdProto {
        domain: Some("com.microsoft".into()),
        version: Some(1),
    });
    assert_eq!(m.opset_version("com.microsoft"), Some(1));
    m.metadata_props.push(StringStringEntryProto {
        key: Some("k".into()),
        value: Some("v".into()),
    });
    assert_eq!(m.metadata("k"), Some("v"));
    assert_eq!(m.metadata("other"), None);
    let g = m.graph.as_mut().unwrap();
    assert_eq!(g.find_value_info("cond").unwrap().name(), "cond");
    assert_eq!(g.find_value_info("mid").unwrap().name(), "mid");
    assert!(g.find_value_info("w").is_none());
    assert_eq!(g.find_initializer("w").unwrap().dims, [2]);
    g.find_initializer_mut("w").unwrap().dims = vec![1, 2];
    assert_eq!(g.find_initializer("w").unwrap().dims, [1, 2]);
}

#[test]
fn external_data_is_found_wherever_the_tensor_is() {
    assert!(!nested_model().uses_external_data());
    // In a subgraph's initializer.
    let mut m = nested_model();
    let g = m.graph.as_mut().unwrap();
    let then = g.node[0].attribute[0].g.as_mut().unwrap();
    let body = then.node[0].attribute[0].g.as_mut().unwrap();
    body.initializer.push(external("b"));
    assert!(m.uses_external_data());
    // In a sparse initializer's values.
    let mut m = nested_model();
    m.graph
        .as_mut()
        .unwrap()
        .sparse_initializer
        .push(SparseTensorProto {
            values: Some(external("s")),
            ..Default::default()
        });
    assert!(m.uses_external_data());
    // In a Constant node's tensor inside a function body, and a function attribute default.
    for in_default in [false, true] {
        let mut m = nested_model();
        let attr = AttributeProto {
            name: Some("value".into()),
            t: Some(external("c")),
            ..Default::default()
        };
        let mut f = FunctionProto::default();
        if in_default {
            f.attribute_proto.push(attr);
        } else {
            f.node.push(node("const", &[], &["c"], vec![attr]));
        }
        m.functions.push(f);
        assert!(m.uses_external_data(), "in_default = {in_default}");
        assert_eq!(tensors(&m).len(), 2);
    }
    // Malformed: `external_data` entries without `data_location`; still a side file.
    let mut m = nested_model();
    let mut t = external("e");
    t.data_location = None;
    m.graph.as_mut().unwrap().initializer.push(t);
    assert!(m.uses_external_data());
    // In a training graph.
    let mut m = nested_model();
    m.training_info.push(TrainingInfoProto {
        algorithm: Some(GraphProto {
            initializer: vec![external("t")],
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(m.uses_external_data());
}

#[test]
fn decode_model_round_trips_and_names_what_is_wrong() {
    let m = nested_model();
    let bytes = encode_model(&m);
    assert_eq!(decode_model(&bytes).unwrap(), m);
    let e = decode_model(&[]).unwrap_err().to_string();
    assert_eq!(
        e,
        "ONNX model: not an ONNX model: `ModelProto.ir_version` is missing"
    );
    let no_graph = encode_model(&ModelProto {
        ir_version: Some(8),
        ..Default::default()
    });
    let e = decode_model(&no_graph).unwrap_err().to_string();
    assert!(e.contains("`ModelProto.graph` is missing"), "{e}");
    let e = decode_model(b"not a model at all").unwrap_err().to_string();
    assert!(
        e.starts_with("ONNX model: not a valid ONNX model (protobuf ModelProto)"),
        "{e}"
    );
    let mut truncated = bytes.clone();
    truncated.truncate(bytes.len() - 3);
    assert!(decode_model(&truncated).is_err());
}

#[test]
fn nesting_beyond_the_recursion_limit_is_an_error_not_a_stack_overflow() {
    let mut g = GraphProto::default();
    for _ in 0..200 {
        g = GraphProto {
            node: vec![node("n", &[], &[], vec![graph_attr("body", g)])],
            ..Default::default()
        };
    }
    let m = ModelProto {
        ir_version: Some(10),
        graph: Some(g),
        ..Default::default()
    };
    let bytes = encode_model(&m);
    let e = decode_model(&bytes).unwrap_err().to_string();
    assert!(e.contains("recursion limit"), "{e}");
}

#[test]
fn read_and_write_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.onnx");
    write_model(&p, &nested_model()).unwrap();
    assert_eq!(read_model(&p).unwrap(), nested_model());
    std::fs::write(&p, b"\x08").unwrap();
    let e = read_model(&p).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: not a valid ONNX model", p.display())),
        "{e}"
    );
    let missing = dir.path().join("none.onnx");
    let e = read_model(&missing).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: cannot read the ONNX model",
            missing.display()
        )),
        "{e}"
    );
}
