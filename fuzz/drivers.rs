//! One driver per fuzz target: the bytes of one input file through the crate's public API,
//! exactly as the tool reads that kind of file. Shared by the fuzz targets
//! (`fuzz/fuzz_targets/*.rs`) and the regression test of their findings
//! (`tests/it/fuzz_regressions.rs`), which includes this file with `#[path]`.
//!
//! Each driver returns `Err` with the message the user would see when the input is
//! rejected, `Ok` when it is accepted; it never panics on any input (a panic is a finding).
//! The file names below are the names the errors must carry.

use std::collections::BTreeMap;
use std::path::Path;

use adue_compile::extract::graph::{check_inline, expose, text_inputs};
use adue_compile::extract::texts::JsonlReader;
use adue_compile::extract::{locate_head, ExtractError};
use adue_compile::fit::Grid;
use adue_compile::fit_dir::recorded_inputs_from_bytes;
use adue_compile::head::{Activation, Head, UeHead, UeSpec};
use adue_compile::load::SafetensorsFile;
use adue_compile::load::{features_from_safetensors, lora_scaling, AdapterConfig, NpyFile};
use adue_compile::onnx::tensor_data::{element_count, f16_values, f32_values};
use adue_compile::onnx::{decode_model, encode_model};
use adue_compile::report::{render_html, render_summary, schema, Curves, Report};
use adue_compile::score::scores_file::SplitScores;
use adue_compile::validate::{provenance, structure, Reference};
use ndarray::{array, Array1, Array2};
use serde_json::Value;

/// Name of the file in errors, per target.
pub const SAFETENSORS_NAME: &str = "fuzz.safetensors";
/// See [`SAFETENSORS_NAME`].
pub const NPY_NAME: &str = "features.npy";
/// See [`SAFETENSORS_NAME`].
pub const ADAPTER_CONFIG_NAME: &str = "adapter_config.json";
/// See [`SAFETENSORS_NAME`].
pub const GRID_NAME: &str = "grid.json";
/// See [`SAFETENSORS_NAME`].
pub const REPORT_NAME: &str = "report.json";
/// What `onnx::decode_model` calls bytes that did not come from a file.
pub const ONNX_MODEL_NAME: &str = "ONNX model";
/// See [`SAFETENSORS_NAME`].
pub const TEXTS_NAME: &str = "texts.jsonl";
/// See [`SAFETENSORS_NAME`].
pub const MODEL_NAME: &str = "model.onnx";
/// Class count of the heads the `texts` and `head_locator` drivers use.
pub const LOCATOR_CLASSES: usize = 3;
/// Hidden size of those heads.
pub const LOCATOR_DIM: usize = 4;

/// The safetensors reader (`SafetensorsFile`): header length, JSON header, dtypes, shapes,
/// data offsets; then every tensor through the decoders the loaders use, and the whole
/// file as a feature set (CONTRACT §1).
pub fn safetensors(data: &[u8]) -> Result<(), String> {
    let file = SafetensorsFile::from_bytes(Path::new(SAFETENSORS_NAME), data.to_vec())
        .map_err(|e| e.to_string())?;
    let _ = file.metadata();
    for name in file.names() {
        let Some(view) = file.get(name) else {
            return Err(format!("listed tensor `{name}` cannot be read"));
        };
        let _ = view.to_f32_matrix("[N, D]");
        let _ = view.to_f32_vector("[C]");
        let _ = view.to_i64_vector("[N]");
    }
    let _ = file.require("no such tensor");
    features_from_safetensors(&file, || Ok(String::new()))
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The `.npy` reader (`NpyFile`): magic, version, header length, the Python dict header
/// (descr, fortran_order, shape); then the array through the decoders of the loader.
pub fn npy(data: &[u8]) -> Result<(), String> {
    let file =
        NpyFile::from_bytes(Path::new(NPY_NAME), data.to_vec()).map_err(|e| e.to_string())?;
    let view = file.view();
    let _ = view.to_f32_vector("[C]");
    let _ = view.to_i64_vector("[N]");
    view.to_f32_matrix("[N, D]")
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The modules `read_checkpoint` looks up in an adapter configuration (CONTRACT §2).
const HEAD_MODULES: [&str; 4] = [
    "score",
    "classifier",
    "classifier.dense",
    "classifier.out_proj",
];

/// PEFT `adapter_config.json` (`AdapterConfig`): the JSON, the typed fields, then the rank
/// and alpha lookups (`rank_pattern` / `alpha_pattern` keys are regular expressions) for
/// every head module, as the checkpoint reader does.
pub fn adapter_config(data: &[u8]) -> Result<(), String> {
    let config = AdapterConfig::from_bytes(Path::new(ADAPTER_CONFIG_NAME), data)
        .map_err(|e| e.to_string())?;
    for module in HEAD_MODULES {
        let rank = config.rank_for(module).map_err(|e| e.to_string())?;
        let alpha = config.alpha_for(module).map_err(|e| e.to_string())?;
        if let (Some(r), Some(a)) = (rank, alpha) {
            let _ = lora_scaling(a, r, config.use_rslora);
        }
    }
    Ok(())
}

/// `fit --grid FILE.json` (`Grid`): parsing, validation and the list of configurations
/// `fit` trains.
pub fn grid(data: &[u8]) -> Result<(), String> {
    let grid = Grid::from_json_bytes(Path::new(GRID_NAME), data).map_err(|e| e.to_string())?;
    let configs = grid.configurations();
    if configs.len() != grid.len() {
        return Err(format!(
            "{} configurations for a grid of {}",
            configs.len(),
            grid.len()
        ));
    }
    Ok(())
}

/// A dense GELU head of the `tiny-electra-gelu` fixture's size (D = 64, C = 2), the
/// reference of the ONNX checks.
fn reference_head() -> Head {
    Head::Dense {
        dense_weight: Array2::zeros((64, 64)),
        dense_bias: Array1::zeros(64),
        activation: Activation::Gelu,
        out_weight: Array2::zeros((2, 64)),
        out_bias: Array1::zeros(2),
    }
}

/// ONNX reading in `validate`: the protobuf decode and every check `validate` runs on the
/// decoded model before ONNX Runtime (structure: IR, opset, operators, external data, IO
/// names / types / shapes; provenance: metadata keys, UE spec, threshold). `Err` lists the
/// failed checks.
pub fn onnx(data: &[u8]) -> Result<(), String> {
    let original = reference_head();
    let ue = UeHead {
        head: reference_head(),
        spec: UeSpec::paper(),
    };
    let reference = Reference {
        original: &original,
        ue: &ue,
        mahalanobis: None,
    };
    let mut checks = Vec::new();
    if let Some(model) = structure::check(data, &reference, &mut checks) {
        // No input files to hash: the provenance checks read nothing from disk.
        provenance::check(&model, &reference, &[], &mut checks).map_err(|e| e.to_string())?;
        let _ = provenance::recorded_threshold(&provenance::metadata_map(&model));
    } else if checks.iter().all(|c| c.passed) {
        return Err("the model was rejected without a failed check".to_string());
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// The lossless ONNX layer (`onnx::decode_model`, for foreign models a graph editor
/// reads): the decode, every lookup (names, opsets, external data, metadata), the FLOAT /
/// FLOAT16 payload readers on every tensor of the model, then the round-trip invariant:
/// the re-encoded model decodes, and encodes to the same bytes again. `Err` is the decode
/// error; a broken invariant panics (a finding).
pub fn onnx_model(data: &[u8]) -> Result<(), String> {
    let model = decode_model(data).map_err(|e| e.to_string())?;
    let _ = (model.all_names(), model.uses_external_data());
    let _ = (model.opset_version(""), model.metadata("adue.ue_spec"));
    if let Some(graph) = &model.graph {
        for v in graph.input.iter().chain(&graph.output) {
            let _ = (
                graph.find_value_info(v.name()),
                graph.find_initializer(v.name()),
            );
        }
    }
    for t in adue_compile::onnx::tensors(&model) {
        let _ = (element_count(t), f32_values(t), f16_values(t));
    }
    let bytes = encode_model(&model);
    let again = decode_model(&bytes)
        .unwrap_or_else(|e| panic!("the re-encoded model does not decode: {e}"));
    assert!(encode_model(&again) == bytes, "re-encoding is not stable");
    Ok(())
}

/// Scores of a 4-row split, for the HTML page's curves.
fn curves() -> Option<Curves> {
    let s = SplitScores {
        split: "test".into(),
        labels: array![0, 1, 1, 0],
        predictions: array![0, 1, 0, 0],
        errors: array![false, false, true, false],
        confidence: array![0.95, 0.5, 0.6, 0.97],
        confidence_ts: array![0.9, 0.5, 0.55, 0.92],
        uncertainty: BTreeMap::from([("adue".to_string(), array![0.1, 0.3, 0.8, 0.1])]),
    };
    Curves::preferred(&[s])
}

/// `report.json` as `report` reads it (`Report::from_json_bytes`: JSON, schema, typed
/// model; then the text summary and the HTML page), and a report or `--baseline` as
/// `validate` reads it (the `report.schema` check; the recorded inputs the gate compares).
/// `Err` is `Report::from_json_bytes`'s error.
pub fn report(data: &[u8]) -> Result<(), String> {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let _ = schema::validate_value(&value);
    }
    let _ = recorded_inputs_from_bytes(Path::new(REPORT_NAME), data);
    let report =
        Report::from_json_bytes(Path::new(REPORT_NAME), data).map_err(|e| e.to_string())?;
    let _ = render_summary(&report);
    if let Some(curves) = curves() {
        let _ = render_html(&report, &curves);
    }
    Ok(())
}

/// `features --texts` (`extract::texts::JsonlReader`): every row of a JSON Lines file of
/// labelled texts, for a head of [`LOCATOR_CLASSES`] classes. Accepted rows must have a
/// label in range and increasing line numbers (a panic otherwise).
pub fn texts(data: &[u8]) -> Result<(), String> {
    let mut reader = JsonlReader::new(data, Path::new(TEXTS_NAME), LOCATOR_CLASSES);
    let mut last = 0;
    while let Some(row) = reader.next_row().map_err(|e| e.to_string())? {
        assert!(row.label < LOCATOR_CLASSES && row.line > last, "{row:?}");
        last = row.line;
    }
    Ok(())
}

/// The `[rows, cols]` matrix the locator's fuzz heads are made of (seed models carry it):
/// `w[i][j] = ((i · cols + j + seed) mod 7) / 8 − 0.375`.
pub fn locator_matrix(rows: usize, cols: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * cols + j + seed) % 7) as f32 / 8.0 - 0.375
    })
}

/// The heads the locator looks for: linear `[C, D]` (as `classifier` and as `score`) and
/// dense (`[D, D]`, then `[C, D]`), all from [`locator_matrix`].
pub fn locator_heads() -> [(Head, bool); 3] {
    let (c, d) = (LOCATOR_CLASSES, LOCATOR_DIM);
    let linear = Head::Linear {
        weight: locator_matrix(c, d, 0),
        bias: None,
    };
    let dense = Head::Dense {
        dense_weight: locator_matrix(d, d, 1),
        dense_bias: Array1::zeros(d),
        activation: Activation::Tanh,
        out_weight: locator_matrix(c, d, 2),
        out_bias: Array1::zeros(c),
    };
    [(linear.clone(), false), (linear, true), (dense, false)]
}

/// A user's classifier as `features` reads it before running it: decode, external data,
/// text inputs, the head locator (for each head of [`locator_heads`]), then the located
/// head input exposed as an output and the model re-encoded (it must decode again).
/// `Err` is the first error `features` would report (in its order), `Ok` when a head
/// was located in an inline model whose inputs text can feed.
pub fn head_locator(data: &[u8]) -> Result<(), String> {
    let path = Path::new(MODEL_NAME);
    let mut model = decode_model(data).map_err(|e| format!("{MODEL_NAME}: {e}"))?;
    let inline = check_inline(&model, path).map_err(|e| e.to_string());
    let inputs = match &model.graph {
        Some(g) => text_inputs(g, path).map(drop).map_err(|e| e.to_string()),
        None => Err("no graph".to_string()),
    };
    let mut located = Err(String::new());
    for (head, last_token) in locator_heads() {
        match locate_head(&model, &head, last_token) {
            Ok(l) => {
                assert!(!l.weights.is_empty() && !l.head_input.is_empty(), "{l:?}");
                assert_eq!(
                    l.pooling_for_rank(2),
                    Some(adue_compile::extract::Pooling::AsIs)
                );
                located = Ok(l);
            }
            Err(source) if located.is_err() => {
                let path = path.to_path_buf();
                located = Err(ExtractError::Locate { path, source }.to_string());
            }
            Err(_) => {}
        }
    }
    if let Ok(l) = &located {
        if expose(&mut model, &l.head_input, l.head_input_type, path).is_ok() {
            let bytes = encode_model(&model);
            decode_model(&bytes)
                .unwrap_or_else(|e| panic!("the exposed model does not decode: {e}"));
        }
    }
    inline?;
    inputs?;
    located.map(drop)
}
