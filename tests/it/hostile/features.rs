//! Hostile inputs of `features`: tokenizer files, JSONL texts and ONNX models, forged from
//! the end-to-end fixture of [`CASE`] (the real exported model from `$ADUE_E2E_MODELS`).
//! Every case fails before ONNX Runtime is loaded.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use adue_compile::onnx::pb::{
    tensor_proto::DataLocation, type_proto, StringStringEntryProto, TypeProto, ValueInfoProto,
};
use adue_compile::onnx::{decode_model, encode_model};
use serde_json::Value;

use super::harness::{args, Case, Ctx, Expect};
use crate::util::{e2e_max_length, e2e_model, fixture};

/// The fixture most cases use: BERT tokenizer with [CLS]/[SEP], 3 classes.
const CASE: &str = "bbc-bert-linear";
/// The fixture whose tokenizer.json has no truncation and a BatchLongest padding.
const NO_TRUNCATION: &str = "bbc-minilm-score";

fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// `features` of `case` with the given model, tokenizer and texts, writing `dir/out.safetensors`,
/// `--max-length` from the fixture unless `max_length` says otherwise (`None`: not passed).
fn features(
    c: &Ctx,
    case: &str,
    model: &Path,
    tokenizer: &Path,
    texts: &Path,
    max_length: Option<usize>,
) -> Vec<OsString> {
    let mut a = args(&[
        &"features",
        &"--model",
        &model,
        &"--tokenizer",
        &tokenizer,
        &"--texts",
        &texts,
        &"--checkpoint",
        &fixture(case, "adapter"),
        &"--out",
        &c.path("out.safetensors"),
        &"--threads",
        &"1",
    ]);
    if let Some(n) = max_length {
        a.extend(args(&[&"--max-length", &n.to_string()]));
    }
    a
}

/// The default run of [`CASE`] with `texts`.
fn with_texts(c: &Ctx, texts: &Path) -> Vec<OsString> {
    with_model(c, &e2e_model(CASE), texts)
}

/// The default run of [`CASE`] with `model` and `texts`.
fn with_model(c: &Ctx, model: &Path, texts: &Path) -> Vec<OsString> {
    let tok = fixture(CASE, "e2e/tokenizer.json");
    features(c, CASE, model, &tok, texts, Some(e2e_max_length(CASE)))
}

/// A texts file `dir/texts.jsonl` of the first lines of the val texts, then `tail`.
fn texts(c: &Ctx, tail: &[u8]) -> PathBuf {
    let val = std::fs::read(fixture(CASE, "texts/val.jsonl")).unwrap();
    let mut bytes: Vec<u8> = val
        .split_inclusive(|&b| b == b'\n')
        .take(2)
        .flatten()
        .copied()
        .collect();
    bytes.extend_from_slice(tail);
    let p = c.path("texts.jsonl");
    std::fs::write(&p, bytes).unwrap();
    p
}

/// [`CASE`]'s run with a tokenizer.json edited by `edit` (from `case`'s file).
fn tokenizer(c: &Ctx, case: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(fixture(case, "e2e/tokenizer.json")).unwrap())
            .unwrap();
    edit(&mut v);
    let p = c.path("tokenizer.json");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    p
}

/// [`CASE`]'s model decoded, edited by `edit`, written to `dir/model.onnx`.
fn model(c: &Ctx, edit: impl FnOnce(&Ctx, &mut adue_compile::onnx::pb::ModelProto)) -> PathBuf {
    let mut m = decode_model(&std::fs::read(e2e_model(CASE)).unwrap()).unwrap();
    edit(c, &mut m);
    let p = c.path("model.onnx");
    std::fs::write(&p, encode_model(&m)).unwrap();
    p
}

/// The cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "features-tokenizer-truncated",
            wrong: "tokenizer.json cut in half",
            setup: |c| {
                let bytes = std::fs::read(fixture(CASE, "e2e/tokenizer.json")).unwrap();
                let p = c.path("tokenizer.json");
                std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
                let a = features(c, CASE, &e2e_model(CASE), &p, &fixture(CASE, "texts/val.jsonl"), Some(12));
                (a, shown(&p))
            },
            expect: Expect::Rejected(&["not a tokenizer.json the `tokenizers` library can load", "EOF"]),
        },
        Case {
            name: "features-tokenizer-not-a-tokenizer",
            wrong: "tokenizer.json is a JSON object without a model",
            setup: |c| {
                let p = c.path("tokenizer.json");
                std::fs::write(&p, br#"{"version": "1.0", "vocab": {"a": 0}}"#).unwrap();
                let a = features(c, CASE, &e2e_model(CASE), &p, &fixture(CASE, "texts/val.jsonl"), Some(12));
                (a, shown(&p))
            },
            expect: Expect::Rejected(&["not a tokenizer.json the `tokenizers` library can load"]),
        },
        Case {
            name: "features-tokenizer-no-truncation",
            wrong: "tokenizer.json without truncation and no --max-length",
            setup: |c| {
                let tok = fixture(NO_TRUNCATION, "e2e/tokenizer.json");
                let texts = fixture(NO_TRUNCATION, "texts/val.jsonl");
                (features(c, NO_TRUNCATION, &e2e_model(NO_TRUNCATION), &tok, &texts, None), shown(&tok))
            },
            expect: Expect::Rejected(&["sets no truncation and --max-length is not given"]),
        },
        Case {
            name: "features-tokenizer-no-pad-token",
            wrong: "tokenizer.json without padding config whose vocabulary has no [PAD] / <pad>",
            setup: |c| {
                let p = tokenizer(c, NO_TRUNCATION, |v| {
                    v["padding"] = Value::Null;
                    v["added_tokens"][0]["content"] = "[NOPAD]".into();
                    let vocab = v["model"]["vocab"].as_object_mut().unwrap();
                    let id = vocab.remove("[PAD]").unwrap();
                    vocab.insert("[NOPAD]".into(), id);
                });
                let texts = fixture(NO_TRUNCATION, "texts/val.jsonl");
                (features(c, NO_TRUNCATION, &e2e_model(NO_TRUNCATION), &p, &texts, Some(16)), shown(&p))
            },
            expect: Expect::Rejected(&["no padding config and no [PAD] or <pad> token"]),
        },
        Case {
            name: "features-max-length-too-small",
            wrong: "--max-length 2 with a post-processor adding [CLS] and [SEP]",
            setup: |c| {
                let tok = fixture(CASE, "e2e/tokenizer.json");
                let texts = fixture(CASE, "texts/val.jsonl");
                (features(c, CASE, &e2e_model(CASE), &tok, &texts, Some(2)), shown(&tok))
            },
            expect: Expect::Rejected(&["max length 2 leaves no room for text", "adds 2 special tokens"]),
        },
        Case {
            name: "features-jsonl-bad-json",
            wrong: "line 3 of the texts is cut mid-object",
            setup: |c| {
                let p = texts(c, b"{\"text\": \"Cut short\", \"label\": \n");
                (with_texts(c, &p), format!("{}:3", p.display()))
            },
            expect: Expect::Rejected(&["not valid JSON"]),
        },
        Case {
            name: "features-jsonl-missing-label",
            wrong: "line 3 has no \"label\"",
            setup: |c| {
                let p = texts(c, b"{\"text\": \"No label here\"}\n");
                (with_texts(c, &p), format!("{}:3", p.display()))
            },
            expect: Expect::Rejected(&["no \"label\" (expected an integer class index in 0..2)"]),
        },
        Case {
            name: "features-jsonl-label-out-of-range",
            wrong: "label 3 for a 3-class head",
            setup: |c| {
                let p = texts(c, b"{\"text\": \"Out of range\", \"label\": 3}\n");
                (with_texts(c, &p), format!("{}:3", p.display()))
            },
            expect: Expect::Rejected(&["\"label\" 3 is out of range", "the head has 3 classes"]),
        },
        Case {
            name: "features-jsonl-label-is-a-name",
            wrong: "label given as the class name \"business\"",
            setup: |c| {
                let p = texts(c, b"{\"text\": \"Named label\", \"label\": \"business\"}\n");
                (with_texts(c, &p), format!("{}:3", p.display()))
            },
            expect: Expect::Rejected(&["\"label\" must be an integer class index in 0..2, got a string"]),
        },
        Case {
            name: "features-jsonl-invalid-utf8",
            wrong: "a Latin-1 byte (0xA3, £) in the text of line 3",
            setup: |c| {
                let p = texts(c, b"{\"text\": \"costs \xA35\", \"label\": 0}\n");
                (with_texts(c, &p), format!("{}:3", p.display()))
            },
            expect: Expect::Rejected(&["not valid UTF-8 (invalid byte at column 17)"]),
        },
        Case {
            name: "features-jsonl-empty",
            wrong: "texts file with only blank lines",
            setup: |c| {
                let p = c.path("texts.jsonl");
                std::fs::write(&p, b"\n\n").unwrap();
                (with_texts(c, &p), shown(&p))
            },
            expect: Expect::Rejected(&["no rows"]),
        },
        Case {
            name: "features-texts-directory",
            wrong: "--texts names a directory",
            setup: |c| {
                let p = c.mkdir("texts");
                (with_texts(c, &p), shown(&p))
            },
            expect: Expect::Rejected(&["not a regular file"]),
        },
        Case {
            name: "features-model-without-the-head",
            wrong: "bbc-roberta's checkpoint with bbc-bert-linear's model",
            setup: |c| {
                let tok = fixture("bbc-roberta", "e2e/tokenizer.json");
                let texts = fixture("bbc-roberta", "texts/val.jsonl");
                let m = e2e_model(CASE);
                (features(c, "bbc-roberta", &m, &tok, &texts, Some(16)), shown(&m))
            },
            expect: Expect::Rejected(&[
                "no initializer equals the checkpoint's head weight `classifier.dense.weight` [384, 384]",
                "closest: `bert.pooler.dense.weight` [384, 384] f32",
            ]),
        },
        Case {
            name: "features-model-external-data",
            wrong: "model whose word embeddings are in a side file (external data)",
            setup: |c| {
                let p = model(c, |c, m| {
                    let g = m.graph.as_mut().unwrap();
                    let t = g.initializer.iter_mut().max_by_key(|t| t.raw_data.as_ref().map_or(0, Vec::len)).unwrap();
                    let data = t.raw_data.take().unwrap();
                    std::fs::write(c.path("model.onnx.data"), &data).unwrap();
                    t.data_location = Some(DataLocation::External as i32);
                    let entry = |k: &str, v: String| StringStringEntryProto { key: Some(k.into()), value: Some(v) };
                    t.external_data = vec![entry("location", "model.onnx.data".into()), entry("length", data.len().to_string())];
                });
                (with_model(c, &p, &fixture(CASE, "texts/val.jsonl")), shown(&p))
            },
            expect: Expect::Rejected(&["external data is not supported", "references `model.onnx.data`"]),
        },
        Case {
            name: "features-model-unknown-input",
            wrong: "model with a required `position_ids` input",
            setup: |c| {
                let p = model(c, |_, m| {
                    let g = m.graph.as_mut().unwrap();
                    let mut extra: ValueInfoProto = g.input[0].clone();
                    extra.name = Some("position_ids".into());
                    if let Some(TypeProto { value: Some(type_proto::Value::TensorType(t)), .. }) = &mut extra.r#type {
                        t.elem_type = Some(7);
                    }
                    g.input.push(extra);
                });
                (with_model(c, &p, &fixture(CASE, "texts/val.jsonl")), shown(&p))
            },
            expect: Expect::Rejected(&["graph input `position_ids` cannot be fed from text"]),
        },
        Case {
            name: "features-model-not-onnx",
            wrong: "--model is the tokenizer.json",
            setup: |c| {
                let tok = fixture(CASE, "e2e/tokenizer.json");
                (features(c, CASE, &tok, &tok, &fixture(CASE, "texts/val.jsonl"), Some(12)), format!("{}: not", tok.display()))
            },
            expect: Expect::Rejected(&["ONNX model"]),
        },
        Case {
            name: "features-out-over-texts",
            wrong: "--out is the texts file",
            setup: |c| {
                let p = texts(c, b"");
                let mut a = with_texts(c, &p);
                let i = a.iter().position(|x| x == "--out").unwrap();
                a[i + 1] = p.clone().into();
                (a, "--out".to_string())
            },
            expect: Expect::Rejected(&["would overwrite the input"]),
        },
    ]
}
