//! Checkpoints: head layouts, PEFT key spellings, LoRA merges, and every bad input.

use std::path::{Path, PathBuf};

use adue_compile::head::{Activation, Head};
use adue_compile::load::{inspect, read_checkpoint, read_features, ActivationSource, LoadError};
use ndarray::{Array1, Array2};

use crate::load_support::*;

const P: &str = "base_model.model.";

fn mat(r: usize, c: usize, seed: u64) -> Array2<f32> {
    Array2::from_shape_vec((r, c), values(r * c, seed)).unwrap()
}

fn vec1(n: usize, seed: u64) -> Array1<f32> {
    Array1::from(values(n, seed))
}

fn tm(name: &str, a: &Array2<f32>) -> T {
    T::f32(name, &[a.nrows(), a.ncols()], a.as_slice().unwrap())
}

fn tv(name: &str, a: &Array1<f32>) -> T {
    T::f32(name, &[a.len()], a.as_slice().unwrap())
}

/// A PEFT adapter directory with `tensors` and `config` (JSON text).
fn adapter(tensors: &[T], config: &str) -> tempfile::TempDir {
    let dir = tmp();
    write_st(&dir.path().join("adapter_model.safetensors"), tensors, &[]);
    put(dir.path(), "adapter_config.json", config.as_bytes());
    dir
}

fn bare(tensors: &[T]) -> (tempfile::TempDir, PathBuf) {
    let dir = tmp();
    let p = dir.path().join("model.safetensors");
    write_st(&p, tensors, &[]);
    (dir, p)
}

/// `W + s · B A` by explicit loops.
fn hand_merge(w: &Array2<f32>, a: &Array2<f32>, b: &Array2<f32>, s: f64) -> Array2<f32> {
    let mut out = w.clone();
    for i in 0..w.nrows() {
        for j in 0..w.ncols() {
            let mut acc = 0.0f64;
            for k in 0..a.nrows() {
                acc += f64::from(b[[i, k]]) * f64::from(a[[k, j]]);
            }
            out[[i, j]] += (s * acc) as f32;
        }
    }
    out
}

fn dense_parts(
    d: usize,
    h: usize,
    c: usize,
) -> (Array2<f32>, Array1<f32>, Array2<f32>, Array1<f32>) {
    (mat(h, d, 1), vec1(h, 2), mat(c, h, 3), vec1(c, 4))
}

fn unpack_dense(
    head: &Head,
) -> (
    &Array2<f32>,
    &Array1<f32>,
    Activation,
    &Array2<f32>,
    &Array1<f32>,
) {
    match head {
        Head::Dense {
            dense_weight,
            dense_bias,
            activation,
            out_weight,
            out_bias,
        } => (dense_weight, dense_bias, *activation, out_weight, out_bias),
        other => panic!("expected a dense head, got {other:?}"),
    }
}

#[test]
fn dense_head_from_peft_adapter() {
    let (dw, db, ow, ob) = dense_parts(4, 3, 2);
    let dir = adapter(
        &[
            tm(&format!("{P}classifier.dense.weight"), &dw),
            tv(&format!("{P}classifier.dense.bias"), &db),
            tm(&format!("{P}classifier.out_proj.weight"), &ow),
            tv(&format!("{P}classifier.out_proj.bias"), &ob),
            tm(
                &format!("{P}roberta.encoder.layer.0.attention.self.query.lora_A.weight"),
                &mat(2, 4, 9),
            ),
        ],
        r#"{"base_model_name_or_path": "FacebookAI/roberta-base", "peft_type": "LORA", "r": 2,
            "lora_alpha": 4, "modules_to_save": ["classifier", "score", "classifier", "score"]}"#,
    );
    let ck = read_checkpoint(dir.path(), None).unwrap();
    let (a, b, act, c, d) = unpack_dense(&ck.head);
    assert_eq!((a, b, c, d), (&dw, &db, &ow, &ob));
    assert_eq!(act, Activation::Tanh);
    assert_eq!(
        ck.activation_source,
        Some(ActivationSource::AdapterConfig {
            base_model: "FacebookAI/roberta-base".into()
        })
    );
    assert_eq!(ck.head_prefix, P);
    assert_eq!(ck.head_dtype, "F32");
    assert_eq!(ck.head_keys.len(), 4);
    assert!(ck.lora_merged.is_none());
    assert_eq!(ck.base_model.as_deref(), Some("FacebookAI/roberta-base"));
    assert_eq!(ck.files.len(), 2);
    for f in &ck.files {
        assert_eq!(f.sha256, adue_compile::load::sha256_file(&f.path).unwrap());
    }
    assert_eq!(
        ck.adapter_config.unwrap().modules_to_save,
        ["classifier", "score"]
    );
}

#[test]
fn modules_to_save_copy_beats_original_module() {
    let (dw, db, ow, ob) = dense_parts(4, 3, 2);
    let infix = "classifier.modules_to_save.default";
    let orig = "classifier.original_module";
    let (_d, p) = bare(&[
        tm(&format!("{infix}.dense.weight"), &dw),
        tv(&format!("{infix}.dense.bias"), &db),
        tm(&format!("{infix}.out_proj.weight"), &ow),
        tv(&format!("{infix}.out_proj.bias"), &ob),
        tm(&format!("{orig}.dense.weight"), &mat(3, 4, 11)),
        tv(&format!("{orig}.dense.bias"), &vec1(3, 12)),
        tm(&format!("{orig}.out_proj.weight"), &mat(2, 3, 13)),
        tv(&format!("{orig}.out_proj.bias"), &vec1(2, 14)),
        tm("electra.embeddings.word_embeddings.weight", &mat(5, 4, 15)),
    ]);
    let ck = read_checkpoint(&p, None).unwrap();
    let (a, b, act, c, d) = unpack_dense(&ck.head);
    assert_eq!((a, b, c, d), (&dw, &db, &ow, &ob));
    assert_eq!(act, Activation::Gelu);
    assert!(matches!(
        ck.activation_source,
        Some(ActivationSource::KeyName { .. })
    ));
    assert_eq!(ck.head_prefix, "");
    assert!(ck.head_keys.iter().all(|k| k.starts_with(infix)));
    assert_eq!(ck.files.len(), 1);

    let ck = read_checkpoint(&p, Some(Activation::Tanh)).unwrap();
    assert_eq!(ck.head.activation(), Some(Activation::Tanh));
    assert_eq!(ck.activation_source, Some(ActivationSource::Override));
}

#[test]
fn model_config_gives_the_activation() {
    let (dw, db, ow, ob) = dense_parts(4, 3, 2);
    let (dir, p) = bare(&[
        tm("classifier.dense.weight", &dw),
        tv("classifier.dense.bias", &db),
        tm("classifier.out_proj.weight", &ow),
        tv("classifier.out_proj.bias", &ob),
    ]);
    let ck = read_checkpoint(&p, None).unwrap();
    assert_eq!(ck.activation_source, Some(ActivationSource::Default));
    assert_eq!(ck.head.activation(), Some(Activation::Tanh));
    put(
        dir.path(),
        "config.json",
        br#"{"model_type": "electra", "_name_or_path": "google/electra-small-discriminator"}"#,
    );
    // Both the directory and the file inside it are accepted.
    for path in [dir.path(), p.as_path()] {
        let ck = read_checkpoint(path, None).unwrap();
        assert_eq!(ck.head.activation(), Some(Activation::Gelu));
        assert!(
            matches!(ck.activation_source, Some(ActivationSource::ModelConfig { ref model_type, .. }) if model_type == "electra")
        );
        assert_eq!(
            ck.base_model.as_deref(),
            Some("google/electra-small-discriminator")
        );
        assert_eq!(ck.files.len(), 2);
    }
}

#[test]
fn linear_score_head_in_half_precision() {
    // Values that bf16 and f16 hold exactly.
    let w: Vec<f32> = (0..12).map(|i| (i as f32 - 6.0) / 4.0).collect();
    let expect = Array2::from_shape_vec((3, 4), w.clone()).unwrap();
    type Writer = fn(&str, &[usize], &[f32]) -> T;
    for (write, name) in [(T::bf16 as Writer, "BF16"), (T::f16, "F16")] {
        let (_d, p) = bare(&[
            write("score.weight", &[3, 4], &w),
            write("model.layers.0.mlp.up_proj.weight", &[2, 4], &[0.0; 8]),
            write("model.norm.weight", &[4], &[1.0; 4]),
        ]);
        let ck = read_checkpoint(&p, Some(Activation::Gelu)).unwrap();
        assert_eq!(
            ck.head,
            Head::Linear {
                weight: expect.clone(),
                bias: None
            }
        );
        assert!(!ck.head.has_bias());
        assert_eq!(ck.head_dtype, name);
        assert!(ck.activation_source.is_none());
    }
}

#[test]
fn bert_linear_classifier() {
    let (w, b) = (mat(2, 5, 21), vec1(2, 22));
    let dir = adapter(
        &[
            tm(&format!("{P}classifier.weight"), &w),
            tv(&format!("{P}classifier.bias"), &b),
        ],
        r#"{"base_model_name_or_path": "bert-base-uncased", "r": 8, "lora_alpha": 16}"#,
    );
    let ck = read_checkpoint(dir.path(), None).unwrap();
    assert_eq!(
        ck.head,
        Head::Linear {
            weight: w,
            bias: Some(b)
        }
    );
}

#[test]
fn lora_on_score_is_merged() {
    let (c, d, r) = (3, 4, 2);
    let (w, a, b) = (mat(c, d, 31), mat(r, d, 32), mat(c, r, 33));
    let dir = adapter(
        &[
            tm(&format!("{P}score.weight"), &w),
            tm(&format!("{P}score.lora_A.weight"), &a),
            tm(&format!("{P}score.lora_B.weight"), &b),
        ],
        r#"{"r": 2, "lora_alpha": 8, "use_rslora": false}"#,
    );
    let ck = read_checkpoint(dir.path(), None).unwrap();
    let Head::Linear { weight, bias } = &ck.head else {
        panic!("linear expected")
    };
    assert!(bias.is_none());
    let expect = hand_merge(&w, &a, &b, 4.0);
    approx::assert_abs_diff_eq!(weight, &expect, epsilon = 1e-6);
    let m = &ck.lora_merged.as_ref().unwrap().modules[0];
    assert_eq!(
        (m.module.as_str(), m.rank, m.alpha, m.scaling, m.rslora),
        ("score", 2, 8.0, 4.0, false)
    );
    assert_eq!(m.lora_a, format!("{P}score.lora_A.weight"));

    // The merged head computes what the unmerged LoRA layer computes: x Wᵀ + s (x Aᵀ) Bᵀ.
    let x = mat(5, d, 34);
    let unmerged = x.dot(&w.t()) + x.dot(&a.t()).dot(&b.t()) * 4.0;
    approx::assert_abs_diff_eq!(ck.head.logits(x.view()), unmerged, epsilon = 1e-5);
}

#[test]
fn rslora_with_adapter_named_keys_and_base_layer() {
    let (c, d, r) = (2, 3, 4);
    let (w, bias, a, b, bb) = (
        mat(c, d, 41),
        vec1(c, 42),
        mat(r, d, 43),
        mat(c, r, 44),
        vec1(c, 45),
    );
    let (_d, p) = bare(&[
        tm(&format!("{P}score.base_layer.weight"), &w),
        tv(&format!("{P}score.base_layer.bias"), &bias),
        tm(&format!("{P}score.lora_A.default.weight"), &a),
        tm(&format!("{P}score.lora_B.default.weight"), &b),
        tv(&format!("{P}score.lora_B.default.bias"), &bb),
    ]);
    let dir = p.parent().unwrap();
    std::fs::rename(&p, dir.join("adapter_model.safetensors")).unwrap();
    put(
        dir,
        "adapter_config.json",
        br#"{"r": 4, "lora_alpha": 6, "use_rslora": true}"#,
    );
    let ck = read_checkpoint(&dir.join("adapter_model.safetensors"), None).unwrap();
    let s = 6.0 / 2.0; // alpha / sqrt(r), r = 4
    let Head::Linear {
        weight,
        bias: got_bias,
    } = &ck.head
    else {
        panic!("linear expected")
    };
    approx::assert_abs_diff_eq!(weight, &hand_merge(&w, &a, &b, s), epsilon = 1e-6);
    let expect_bias = &bias + &(&bb * s as f32);
    approx::assert_abs_diff_eq!(got_bias.as_ref().unwrap(), &expect_bias, epsilon = 1e-6);
    let m = &ck.lora_merged.as_ref().unwrap().modules[0];
    assert_eq!((m.scaling, m.rslora), (3.0, true));
    assert!(m.lora_b_bias.is_some());
    assert_eq!(
        ck.files.len(),
        2,
        "the sibling adapter_config.json is read and digested"
    );
}

#[test]
fn lora_on_dense_head_honours_patterns() {
    let (d, h, c) = (4, 3, 2);
    let (dw, db, ow, ob) = dense_parts(d, h, c);
    let (a1, b1) = (mat(2, d, 51), mat(h, 2, 52));
    let (a2, b2) = (mat(1, h, 53), mat(c, 1, 54));
    let mts = "classifier.modules_to_save.default";
    let dir = adapter(
        &[
            tm(&format!("{P}{mts}.dense.base_layer.weight"), &dw),
            tv(&format!("{P}{mts}.dense.base_layer.bias"), &db),
            tm(&format!("{P}{mts}.dense.lora_A.default.weight"), &a1),
            tm(&format!("{P}{mts}.dense.lora_B.default.weight"), &b1),
            tm(&format!("{P}{mts}.out_proj.base_layer.weight"), &ow),
            tv(&format!("{P}{mts}.out_proj.base_layer.bias"), &ob),
            tm(&format!("{P}{mts}.out_proj.lora_A.default.weight"), &a2),
            tm(&format!("{P}{mts}.out_proj.lora_B.default.weight"), &b2),
            // Factors on the frozen original copy must be ignored.
            tm(
                &format!("{P}classifier.original_module.dense.lora_A.default.weight"),
                &mat(2, d, 55),
            ),
            tm(
                &format!("{P}classifier.original_module.dense.lora_B.default.weight"),
                &mat(h, 2, 56),
            ),
        ],
        r#"{"base_model_name_or_path": "google/electra-base-discriminator", "r": 2, "lora_alpha": 4,
            "rank_pattern": {"out_proj": 1}, "alpha_pattern": {"classifier.out_proj": 3}}"#,
    );
    let ck = read_checkpoint(dir.path(), None).unwrap();
    let (gdw, gdb, act, gow, gob) = unpack_dense(&ck.head);
    assert_eq!(act, Activation::Gelu);
    approx::assert_abs_diff_eq!(gdw, &hand_merge(&dw, &a1, &b1, 2.0), epsilon = 1e-6);
    approx::assert_abs_diff_eq!(gow, &hand_merge(&ow, &a2, &b2, 3.0), epsilon = 1e-6);
    assert_eq!((gdb, gob), (&db, &ob));
    let mods = &ck.lora_merged.as_ref().unwrap().modules;
    assert_eq!(mods.len(), 2);
    assert_eq!((mods[0].rank, mods[0].scaling), (2, 2.0));
    assert_eq!(
        (mods[1].rank, mods[1].alpha, mods[1].scaling),
        (1, 3.0, 3.0)
    );
}

// ---- bad inputs ----

fn ck_err(path: &Path) -> String {
    read_checkpoint(path, None).unwrap_err().to_string()
}

#[test]
fn adapter_directory_without_config_or_weights() {
    let dir = tmp();
    write_st(
        &dir.path().join("adapter_model.safetensors"),
        &[tm("score.weight", &mat(2, 2, 1))],
        &[],
    );
    let e = ck_err(dir.path());
    assert_names(
        &e,
        &dir.path().join("adapter_config.json"),
        &["`adapter_config.json`", "not found"],
    );

    let dir = tmp();
    put(dir.path(), "adapter_config.json", b"{}");
    let e = ck_err(dir.path());
    assert_names(
        &e,
        &dir.path().join("adapter_model.safetensors"),
        &["not found"],
    );
    put(dir.path(), "adapter_model.bin", b"pickle");
    let e = ck_err(dir.path());
    assert_names(
        &e,
        &dir.path().join("adapter_model.safetensors"),
        &["adapter_model.bin", "safe_serialization"],
    );
}

#[test]
fn malformed_adapter_config() {
    let dir = adapter(
        &[tm("score.weight", &mat(2, 2, 1))],
        "{\"r\": 8,\n \"lora_alpha\": }",
    );
    let e = ck_err(dir.path());
    assert_names(
        &e,
        &dir.path().join("adapter_config.json"),
        &["invalid JSON", "line 2"],
    );
    let dir = adapter(
        &[tm("score.weight", &mat(2, 2, 1))],
        r#"{"use_rslora": "yes"}"#,
    );
    let e = ck_err(dir.path());
    assert_names(
        &e,
        &dir.path().join("adapter_config.json"),
        &["`use_rslora`", "true or false"],
    );
}

#[test]
fn no_head_lists_what_was_found() {
    let (_d, p) = bare(&[
        tm("lm_head.weight", &mat(4, 2, 1)),
        tm("model.embed_tokens.weight", &mat(4, 2, 2)),
    ]);
    let e = ck_err(&p);
    assert_names(
        &e,
        &p,
        &[
            "no classification head",
            "2 tensors",
            "`lm_head.weight`",
            "score.weight",
        ],
    );
}

#[test]
fn lora_factors_without_base_weight() {
    let dir = adapter(
        &[
            tm(&format!("{P}score.lora_A.weight"), &mat(2, 4, 1)),
            tm(&format!("{P}score.lora_B.weight"), &mat(3, 2, 2)),
        ],
        r#"{"r": 2, "lora_alpha": 4}"#,
    );
    let e = ck_err(dir.path());
    let p = dir.path().join("adapter_model.safetensors");
    assert_names(
        &e,
        &p,
        &[
            "`score`",
            "score.lora_A.weight",
            "base weight `score.weight`",
            "base model",
        ],
    );
}

#[test]
fn lora_problems() {
    // LoRA factors in a bare file: nothing gives alpha.
    let (_d, p) = bare(&[
        tm("score.weight", &mat(3, 4, 1)),
        tm("score.lora_A.weight", &mat(2, 4, 2)),
        tm("score.lora_B.weight", &mat(3, 2, 3)),
    ]);
    assert_names(
        &ck_err(&p),
        &p,
        &["LoRA on `score`", "adapter_config.json", "lora_alpha"],
    );

    let lora = |a: Array2<f32>, b: Option<Array2<f32>>, cfg: &str| {
        let mut t = vec![
            tm("score.weight", &mat(3, 4, 1)),
            tm("score.lora_A.weight", &a),
        ];
        if let Some(b) = b {
            t.push(tm("score.lora_B.weight", &b));
        }
        let dir = adapter(&t, cfg);
        let e = ck_err(dir.path());
        (dir, e)
    };
    let (dir, e) = lora(
        mat(2, 4, 2),
        Some(mat(3, 2, 3)),
        r#"{"r": 8, "lora_alpha": 16}"#,
    );
    assert_names(
        &e,
        &dir.path().join("adapter_model.safetensors"),
        &["`score.lora_A.weight` has rank 2", "r = 8"],
    );
    let (dir, e) = lora(mat(2, 4, 2), None, r#"{"r": 2, "lora_alpha": 16}"#);
    assert_names(
        &e,
        &dir.path().join("adapter_model.safetensors"),
        &["`score.lora_A.weight`", "no partner"],
    );
    let (dir, e) = lora(
        mat(2, 5, 2),
        Some(mat(3, 2, 3)),
        r#"{"r": 2, "lora_alpha": 16}"#,
    );
    assert_names(
        &e,
        &dir.path().join("adapter_model.safetensors"),
        &["`score.lora_A.weight`", "[r, 4]", "[2, 5]"],
    );
    let (dir, e) = lora(
        mat(2, 4, 2),
        Some(mat(2, 2, 3)),
        r#"{"r": 2, "lora_alpha": 16}"#,
    );
    assert_names(
        &e,
        &dir.path().join("adapter_model.safetensors"),
        &["`score.lora_B.weight`", "[3, 2]"],
    );
    let (dir, e) = lora(mat(2, 4, 2), Some(mat(3, 2, 3)), r#"{"r": 2}"#);
    assert_names(
        &e,
        &dir.path().join("adapter_model.safetensors"),
        &["no lora_alpha"],
    );
    let (dir, e) = lora(
        mat(2, 4, 2),
        Some(mat(3, 2, 3)),
        r#"{"r": 2, "lora_alpha": 2, "use_dora": true}"#,
    );
    assert_names(
        &e,
        &dir.path().join("adapter_model.safetensors"),
        &["use_dora", "DoRA"],
    );
}

#[test]
fn inconsistent_head_shapes() {
    let (dw, db, _, ob) = dense_parts(4, 3, 2);
    let (_d, p) = bare(&[
        tm("classifier.dense.weight", &dw),
        tv("classifier.dense.bias", &db),
        tm("classifier.out_proj.weight", &mat(2, 5, 9)),
        tv("classifier.out_proj.bias", &ob),
    ]);
    assert_names(
        &ck_err(&p),
        &p,
        &["`classifier.out_proj.weight`", "[C, 3]", "[2, 5]"],
    );
    let (_d, p) = bare(&[
        tm("classifier.dense.weight", &dw),
        tv("classifier.dense.bias", &vec1(4, 9)),
        tm("classifier.out_proj.weight", &mat(2, 3, 9)),
        tv("classifier.out_proj.bias", &ob),
    ]);
    assert_names(&ck_err(&p), &p, &["`classifier.dense.bias`", "[3]", "[4]"]);
    let (_d, p) = bare(&[
        tm("score.weight", &mat(3, 4, 1)),
        tv("score.bias", &vec1(2, 1)),
    ]);
    assert_names(&ck_err(&p), &p, &["`score.bias`", "[3]", "[2]"]);
    let (_d, p) = bare(&[T::f32("score.weight", &[6], &[0.0; 6])]);
    assert_names(&ck_err(&p), &p, &["`score.weight`", "[out, in]", "[6]"]);
    let (_d, p) = bare(&[tm("score.weight", &mat(1, 4, 1))]);
    assert_names(&ck_err(&p), &p, &["`score.weight`", "C ≥ 2"]);
}

#[test]
fn incomplete_or_ambiguous_heads() {
    let (dw, db, _, _) = dense_parts(4, 3, 2);
    let (_d, p) = bare(&[
        tm("classifier.dense.weight", &dw),
        tv("classifier.dense.bias", &db),
    ]);
    assert_names(
        &ck_err(&p),
        &p,
        &[
            "dense head is incomplete",
            "`classifier.out_proj.weight`",
            "classifier.dense.weight",
        ],
    );
    let (_d, p) = bare(&[
        tm("classifier.dense.weight", &dw),
        tm("classifier.out_proj.weight", &mat(2, 3, 1)),
        tv("classifier.out_proj.bias", &vec1(2, 1)),
    ]);
    assert_names(&ck_err(&p), &p, &["`classifier.dense.bias`"]);
    let (_d, p) = bare(&[
        tm("score.weight", &mat(2, 4, 1)),
        tm("classifier.weight", &mat(2, 4, 1)),
    ]);
    assert_names(&ck_err(&p), &p, &["ambiguous", "`score`", "`classifier`"]);
    let (_d, p) = bare(&[
        tm("score.weight", &mat(2, 4, 1)),
        tm(&format!("{P}score.weight"), &mat(2, 4, 2)),
    ]);
    assert_names(
        &ck_err(&p),
        &p,
        &[
            "ambiguous",
            "`score.weight`",
            "`base_model.model.score.weight`",
        ],
    );
}

#[test]
fn bad_head_values() {
    let (_d, p) = bare(&[T::u8("score.weight", &[2, 2], &[1, 2, 3, 4])]);
    assert_names(&ck_err(&p), &p, &["`score.weight`", "U8", "F32"]);
    let mut w = values(8, 3);
    w[5] = f32::NAN;
    let (_d, p) = bare(&[T::f32("score.weight", &[2, 4], &w)]);
    assert_names(
        &ck_err(&p),
        &p,
        &["`score.weight`", "row 1", "column 1", "NaN"],
    );
    let dir = tmp();
    let p = put(
        dir.path(),
        "model.safetensors",
        &raw_st("{\"score.weight\":", &[]),
    );
    assert_names(&ck_err(&p), &p, &["not valid JSON"]);
    let e = read_checkpoint(Path::new("/no/such/ckpt"), None).unwrap_err();
    assert!(matches!(e, LoadError::Io { .. }), "{e}");
    let dir = tmp();
    let e = ck_err(dir.path());
    assert_names(
        &e,
        &dir.path().join("adapter_config.json"),
        &["model.safetensors"],
    );
}

// ---- inspect ----

#[test]
fn inspect_reports_contract_keys() {
    let (d, h, c, n) = (4, 3, 3, 6);
    let (dw, db, ow, ob) = dense_parts(d, h, c);
    let dir = adapter(
        &[
            tm(&format!("{P}classifier.dense.weight"), &dw),
            tv(&format!("{P}classifier.dense.bias"), &db),
            tm(&format!("{P}classifier.out_proj.weight"), &ow),
            tv(&format!("{P}classifier.out_proj.bias"), &ob),
        ],
        r#"{"base_model_name_or_path": "roberta-base", "r": 8, "lora_alpha": 8}"#,
    );
    let ck = read_checkpoint(dir.path(), None).unwrap();
    let v = inspect(&ck, None);
    assert_eq!(v["head"]["kind"], "dense");
    assert_eq!(v["head"]["activation"], "tanh");
    assert_eq!(v["head"]["has_bias"], true);
    assert_eq!(v["num_classes"], c);
    assert_eq!(v["hidden_size"], d);
    assert_eq!(v["head"]["activation_source"]["source"], "adapter_config");
    assert!(v.get("rows").is_none());

    // Features whose stored logits are the head's own: diff 0, error rate by hand.
    let x = mat(n, d, 61);
    let mut hidden = x.dot(&dw.t()) + &db;
    hidden.mapv_inplace(f32::tanh);
    let logits = hidden.dot(&ow.t()) + &ob;
    let labels: Vec<i64> = vec![0, 1, 2, 0, 1, 2];
    let mut wrong = 0;
    for (row, &label) in logits.rows().into_iter().zip(&labels) {
        let best = (0..c).fold(0, |b, k| if row[k] > row[b] { k } else { b });
        wrong += usize::from(best as i64 != label);
    }
    let fdir = tmp();
    let fp = fdir.path().join("val.safetensors");
    write_st(
        &fp,
        &[
            tm("features", &x),
            T::i64("labels", &labels),
            tm("logits", &logits),
        ],
        &[],
    );
    let fs = read_features(&fp).unwrap();
    let v = inspect(&ck, Some(&fs));
    assert_eq!(v["rows"], n);
    assert_eq!(v["error_rate"].as_f64().unwrap(), wrong as f64 / n as f64);
    assert!(v["logits_max_abs_diff"].as_f64().unwrap() < 1e-6);
    assert_eq!(v["features"]["compatible"], true);
    assert!(v["features"]["incompatibility"].is_null());

    // Features of another width are described, not a panic: no head logits, no diff.
    let p3 = fdir.path().join("wide.safetensors");
    write_st(
        &p3,
        &[
            tm("features", &mat(n, d + 1, 62)),
            T::i64("labels", &labels),
        ],
        &[],
    );
    let wide = read_features(&p3).unwrap();
    let v = inspect(&ck, Some(&wide));
    assert_eq!(v["features"]["compatible"], false);
    assert!(v["features"]["incompatibility"]
        .as_str()
        .unwrap()
        .contains("feature width D"));
    assert!(v["error_rate"].is_null());
    assert!(v["logits_max_abs_diff"].is_null());

    // A linear head without bias, features without logits.
    let (_d, p) = bare(&[tm("score.weight", &mat(2, 4, 71))]);
    let ck = read_checkpoint(&p, None).unwrap();
    let p2 = fdir.path().join("nologits.safetensors");
    write_st(
        &p2,
        &[tm("features", &x), T::i64("labels", &[0, 1, 0, 1, 0, 1])],
        &[],
    );
    let fs = read_features(&p2).unwrap();
    let v = inspect(&ck, Some(&fs));
    assert_eq!(v["head"]["kind"], "linear");
    assert!(v["head"]["activation"].is_null());
    assert_eq!(v["head"]["has_bias"], false);
    assert!(v["logits_max_abs_diff"].is_null());
    assert_eq!(v["num_classes"], 2);
    let head_logits = ck.head.logits(x.view());
    let wrong = (0..n)
        .filter(|&i| {
            let best = usize::from(head_logits[[i, 1]] > head_logits[[i, 0]]);
            best != i % 2
        })
        .count();
    assert_eq!(v["error_rate"].as_f64().unwrap(), wrong as f64 / n as f64);
}

// ---- real PEFT saves with LoRA on the head (tests/data/peft_lora_head/gen.py) ----

#[test]
fn real_peft_lora_on_the_head() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/peft_lora_head");
    // (module, rank, alpha, rslora, scaling) per case, as configured in gen.py.
    type Merge = (&'static str, usize, f64, bool, f64);
    let cases: [(&str, &str, &[Merge]); 2] = [
        (
            "roberta",
            "classifier.dense",
            &[
                ("classifier.dense", 2, 5.0, false, 2.5),
                ("classifier.out_proj", 3, 4.0, false, 4.0 / 3.0),
            ],
        ),
        ("llama", "score", &[("score", 4, 6.0, true, 3.0)]),
    ];
    for (case, first_module, merges) in cases {
        let dir = data.join(case);
        let fs = read_features(&dir.join("test.safetensors")).unwrap();

        // The adapter holds only the head's LoRA factors; its base weight is read from the
        // base model that base_model_name_or_path (`../base`) names.
        let adapter = read_checkpoint(&dir.join("adapter"), None).unwrap();
        assert!(
            adapter
                .files
                .iter()
                .any(|f| f.path.ends_with("base/model.safetensors")),
            "{case}: {:?}",
            adapter.files
        );
        // Moved away from its base model, the adapter lacks the head's base weight.
        let alone = tmp();
        for f in ["adapter_config.json", "adapter_model.safetensors"] {
            std::fs::copy(dir.join("adapter").join(f), alone.path().join(f)).unwrap();
        }
        let e = ck_err(alone.path());
        assert_names(
            &e,
            &alone.path().join("adapter_model.safetensors"),
            &[
                &format!("`{first_module}`"),
                "base weight",
                "lora_A",
                "`../base` is not a local model directory",
            ],
        );

        // The PeftModel's whole state dict: base_layer weights + factors.
        let full = read_checkpoint(&dir.join("full"), None).unwrap();
        for ck in [&adapter, &full] {
            fs.check_against(&ck.head).unwrap();
            let diff = fs.logits_max_abs_diff(&ck.head).unwrap();
            assert!(diff <= 1e-5, "{case}: max |Δlogit| = {diff}");
            let got: Vec<_> = ck.lora_merged.as_ref().unwrap().modules.iter().collect();
            assert_eq!(got.len(), merges.len(), "{case}");
            for (m, &(module, rank, alpha, rslora, scaling)) in got.iter().zip(merges) {
                assert_eq!(
                    (m.module.as_str(), m.rank, m.alpha, m.rslora),
                    (module, rank, alpha, rslora)
                );
                assert!(
                    (m.scaling - scaling).abs() < 1e-12,
                    "{case} {module}: {}",
                    m.scaling
                );
            }
        }
        approx::assert_abs_diff_eq!(
            adapter.head.logits(fs.features.view()),
            full.head.logits(fs.features.view()),
            epsilon = 1e-6
        );

        // merge_and_unload() + save_pretrained: a model directory with config.json.
        let merged = read_checkpoint(&dir.join("merged"), None).unwrap();
        assert!(merged.lora_merged.is_none());
        let diff = fs.logits_max_abs_diff(&merged.head).unwrap();
        assert!(diff <= 1e-5, "{case} merged: max |Δlogit| = {diff}");
        if case == "roberta" {
            assert!(matches!(
                merged.activation_source,
                Some(ActivationSource::ModelConfig { ref model_type, .. }) if model_type == "roberta"
            ));
        }
    }
}

#[test]
fn base_weights_from_a_sharded_base_model() {
    let (c, d, r) = (3, 4, 2);
    let (w, b, la, lb) = (mat(c, d, 81), vec1(c, 82), mat(r, d, 83), mat(c, r, 84));
    let base = tmp();
    write_st(
        &base.path().join("model-00001-of-00002.safetensors"),
        &[tm("model.embed_tokens.weight", &mat(5, d, 85))],
        &[],
    );
    write_st(
        &base.path().join("model-00002-of-00002.safetensors"),
        &[tm("score.weight", &w), tv("score.bias", &b)],
        &[],
    );
    put(
        base.path(),
        "model.safetensors.index.json",
        br#"{"metadata": {}, "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
            "score.weight": "model-00002-of-00002.safetensors", "score.bias": "model-00002-of-00002.safetensors"}}"#,
    );
    let cfg = serde_json::json!({
        "base_model_name_or_path": base.path(), "r": 2, "lora_alpha": 3
    });
    let dir = adapter(
        &[
            tm(&format!("{P}score.lora_A.weight"), &la),
            tm(&format!("{P}score.lora_B.weight"), &lb),
        ],
        &cfg.to_string(),
    );
    let ck = read_checkpoint(dir.path(), None).unwrap();
    let Head::Linear { weight, bias } = &ck.head else {
        panic!("linear expected")
    };
    approx::assert_abs_diff_eq!(weight, &hand_merge(&w, &la, &lb, 1.5), epsilon = 1e-6);
    assert_eq!(bias.as_ref(), Some(&b));
    // Only the shard holding the head is read (and digested).
    let names: Vec<_> = ck
        .files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "adapter_model.safetensors",
            "adapter_config.json",
            "model-00002-of-00002.safetensors"
        ]
    );

    // An index pointing outside the model directory is refused.
    put(
        base.path(),
        "model.safetensors.index.json",
        br#"{"weight_map": {"score.weight": "../elsewhere.safetensors"}}"#,
    );
    let e = ck_err(dir.path());
    assert_names(
        &e,
        &base.path().join("model.safetensors.index.json"),
        &["weight_map.score.weight", "not a file name"],
    );
}
