//! The hostile-input corpus: malformed, lying and misplaced inputs run through the real
//! binary. Every case must exit 2 with a message naming the file and the problem, without a
//! panic, within a memory cap and a time limit, leaving no file behind (see `harness`).
//! Hostile files are forged at test time from the real fixtures. `tests/hostile/README.md`
//! lists the cases and their outcomes; print its table with
//! `HOSTILE_TABLE=1 cargo test --test it hostile -- --nocapture`.

mod features;
mod forge;
mod harness;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::util::{fixture, root};
use forge::{edit_header, join, split, write_npy, Forge};
use harness::{args, check, excerpt, snapshot, Case, Ctx, Expect, Shared, SMALL};

fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// `fixtures/SMALL/<file>` edited by `edit`, written to `dir/name`.
fn forged(c: &Ctx, file: &str, name: &str, edit: impl FnOnce(&mut Forge)) -> PathBuf {
    let mut f = Forge::read(&fixture(SMALL, file));
    edit(&mut f);
    let p = c.path(name);
    f.write(&p);
    p
}

/// The first `len(file length)` bytes of `fixtures/SMALL/<file>`, at `dir/name`.
fn cut(c: &Ctx, file: &str, name: &str, len: impl FnOnce(&[u8]) -> usize) -> PathBuf {
    let bytes = std::fs::read(fixture(SMALL, file)).unwrap();
    let p = c.path(name);
    std::fs::write(&p, &bytes[..len(&bytes)]).unwrap();
    p
}

/// `fixtures/SMALL/train.safetensors` with its header edited, at `dir/name`.
fn lying(c: &Ctx, name: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> PathBuf {
    let p = c.path(name);
    edit_header(&fixture(SMALL, "train.safetensors"), &p, edit);
    p
}

/// Labels chosen so that the original model is right (`shift` 0) or wrong (`shift` 1) on
/// every row: the argmax of the stored logits, shifted.
fn labels_from_logits(f: &mut Forge, shift: usize) {
    let logits = f.get_mut("logits").clone();
    let c = logits.shape[1];
    let labels: Vec<i64> = logits
        .f32s()
        .chunks(c)
        .map(|row| {
            let arg = (0..c).fold(0, |b, j| if row[j] > row[b] { j } else { b });
            ((arg + shift) % c) as i64
        })
        .collect();
    f.get_mut("labels").set_i64s(&labels);
}

/// `a` with the value of `flag` replaced by `value`.
fn set(mut a: Vec<OsString>, flag: &str, value: &Path) -> Vec<OsString> {
    let i = a.iter().position(|x| x == flag).unwrap();
    a[i + 1] = value.as_os_str().to_os_string();
    a
}

/// `inspect` of SMALL's checkpoint with the feature file `features`.
fn inspect(features: &Path) -> Vec<OsString> {
    args(&[
        &"inspect",
        &"--checkpoint",
        &fixture(SMALL, "adapter"),
        &"--features",
        &features,
    ])
}

/// `validate` of a copy of the shared fit directory and ONNX head with `features`.
fn validate(c: &Ctx, onnx: &Path, features: &Path) -> Vec<OsString> {
    args(&[
        &"validate",
        &"--onnx",
        &onnx,
        &"--features",
        &features,
        &"--fit",
        &c.fit_dir(),
    ])
}

/// The corpus.
pub fn corpus() -> Vec<Case> {
    let mut cases = vec![
        // --- safetensors structure: truncation and lying headers -------------------------
        Case {
            name: "empty-file",
            wrong: "feature file of 0 bytes",
            setup: |c| {
                let p = c.path("empty.safetensors");
                std::fs::write(&p, b"").unwrap();
                (inspect(&p), shown(&p))
            },
            expect: Expect::Rejected(&["0 bytes", "too short"]),
        },
        Case {
            name: "truncated-in-header",
            wrong: "train file cut in the middle of its JSON header",
            setup: |c| {
                let p = cut(c, "train.safetensors", "train.safetensors", |_| 8 + 100);
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["header length", "runs past the end of the file"]),
        },
        Case {
            name: "truncated-in-data",
            wrong: "val file missing its last 100 bytes (inside `logits`)",
            setup: |c| {
                let p = cut(c, "val.safetensors", "val.safetensors", |b| b.len() - 100);
                let train = fixture(SMALL, "train.safetensors");
                (c.fit(&train, &[&"--val", &p]), shown(&p))
            },
            expect: Expect::Rejected(&["`logits`", "run past the end of the data section"]),
        },
        Case {
            name: "header-length-2^60",
            wrong: "header length prefix 2^60 (a reader that trusts it allocates 1 EiB)",
            setup: |c| {
                let mut b = std::fs::read(fixture(SMALL, "test.safetensors")).unwrap();
                b[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
                let p = c.path("test.safetensors");
                std::fs::write(&p, b).unwrap();
                (inspect(&p), shown(&p))
            },
            expect: Expect::Rejected(&["header length 1152921504606846976", "limit"]),
        },
        Case {
            name: "header-not-json",
            wrong: "header bytes are not JSON (length prefix consistent)",
            setup: |c| {
                let (h, data) = split(&std::fs::read(fixture(SMALL, "test.safetensors")).unwrap());
                let p = c.path("test.safetensors");
                std::fs::write(&p, join(&h.replace(':', ";"), &data)).unwrap();
                (inspect(&p), shown(&p))
            },
            expect: Expect::Rejected(&["header is not valid JSON"]),
        },
        Case {
            name: "offsets-past-end",
            wrong: "`features` data_offsets end at 10^12, far past the file",
            setup: |c| {
                let p = lying(c, "test.safetensors", |h| {
                    h["features"]["data_offsets"] = json!([0u64, 1_000_000_000_000u64]);
                });
                let train = fixture(SMALL, "train.safetensors");
                (c.fit(&train, &[&"--test", &p]), shown(&p))
            },
            expect: Expect::Rejected(&["`features`", "[0, 1000000000000]", "past the end"]),
        },
        Case {
            name: "offsets-reversed",
            wrong: "`labels` data_offsets [end, begin]",
            setup: |c| {
                let p = lying(c, "train.safetensors", |h| {
                    let o = h["labels"]["data_offsets"].clone();
                    h["labels"]["data_offsets"] = json!([o[1], o[0]]);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`labels`", "reversed"]),
        },
        Case {
            name: "overlapping-tensors",
            wrong: "`labels` claims the last 8 bytes of `features`",
            setup: |c| {
                let p = lying(c, "train.safetensors", |h| {
                    let o = &h["labels"]["data_offsets"];
                    let (b, e) = (o[0].as_u64().unwrap(), o[1].as_u64().unwrap());
                    h["labels"]["data_offsets"] = json!([b - 8, e - 8]);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`labels`", "`features`", "overlap"]),
        },
        Case {
            name: "shape-overflows-usize",
            wrong: "`features` shape [2^32, 2^32, 16]: the element count overflows u64",
            setup: |c| {
                let p = lying(c, "train.safetensors", |h| {
                    h["features"]["shape"] = json!([1u64 << 32, 1u64 << 32, 16]);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`features`", "overflows"]),
        },
        Case {
            name: "shape-lies-about-size",
            wrong: "`features` shape claims one row more than its bytes hold",
            setup: |c| {
                let p = lying(c, "train.safetensors", |h| {
                    h["features"]["shape"] = json!([101, 64]);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`features`", "needs 25856 bytes", "span 25600"]),
        },
        Case {
            name: "duplicate-tensor-name",
            wrong: "header lists `features` twice (a one-row copy first)",
            setup: |c| {
                let (h, data) =
                    split(&std::fs::read(fixture(SMALL, "train.safetensors")).unwrap());
                let dup = r#"{"features":{"dtype":"F32","shape":[1,64],"data_offsets":[0,256]},"#;
                let p = c.path("train.safetensors");
                std::fs::write(&p, join(&format!("{dup}{}", &h[1..]), &data)).unwrap();
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["duplicate", "`features`"]),
        },
        // --- dtypes and values ---------------------------------------------------------------
        Case {
            name: "features-int32",
            wrong: "`features` stored as I32",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    let t = f.get_mut("features");
                    t.data = t.f32s().iter().flat_map(|&v| (v as i32).to_le_bytes()).collect();
                    t.dtype = "I32".into();
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`features`", "dtype I32 is not supported", "F32"]),
        },
        Case {
            name: "labels-float",
            wrong: "`labels` stored as F32",
            setup: |c| {
                let p = forged(c, "test.safetensors", "test.safetensors", |f| {
                    let l: Vec<f32> = f.get_mut("labels").i64s().iter().map(|&v| v as f32).collect();
                    f.get_mut("labels").set_f32s(&l);
                });
                (inspect(&p), shown(&p))
            },
            expect: Expect::Rejected(&["`labels`", "dtype F32", "integer type"]),
        },
        Case {
            name: "labels-bool",
            wrong: "`labels` stored as BOOL",
            setup: |c| {
                let p = forged(c, "val.safetensors", "val.safetensors", |f| {
                    let t = f.get_mut("labels");
                    t.data = t.i64s().iter().map(|&v| u8::from(v != 0)).collect();
                    t.dtype = "BOOL".into();
                });
                let train = fixture(SMALL, "train.safetensors");
                (c.fit(&train, &[&"--val", &p]), shown(&p))
            },
            expect: Expect::Rejected(&["`labels`", "dtype BOOL", "integer type"]),
        },
        Case {
            name: "features-f64-overflow",
            wrong: "`features` as F64 with 1e300 in row 7 (infinite once narrowed to f32)",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    let t = f.get_mut("features");
                    let mut v: Vec<f64> = t.f32s().iter().map(|&x| f64::from(x)).collect();
                    v[7 * 64 + 3] = 1e300;
                    t.data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    t.dtype = "F64".into();
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`features`", "row 7, column 3 is inf"]),
        },
        Case {
            name: "nan-in-features",
            wrong: "a NaN in `features` row 3",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    let mut v = f.get_mut("features").f32s();
                    v[3 * 64 + 10] = f32::NAN;
                    f.get_mut("features").set_f32s(&v);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`features`", "row 3, column 10 is NaN"]),
        },
        Case {
            name: "inf-in-logits",
            wrong: "+inf in `logits` row 9",
            setup: |c| {
                let p = forged(c, "test.safetensors", "test.safetensors", |f| {
                    let mut v = f.get_mut("logits").f32s();
                    v[9 * 2 + 1] = f32::INFINITY;
                    f.get_mut("logits").set_f32s(&v);
                });
                let train = fixture(SMALL, "train.safetensors");
                (c.fit(&train, &[&"--test", &p]), shown(&p))
            },
            expect: Expect::Rejected(&["`logits`", "row 9, column 1 is inf"]),
        },
        Case {
            name: "nan-in-head-weight",
            wrong: "a NaN in the checkpoint's `classifier.out_proj.weight`",
            setup: |c| {
                let dir = c.adapter(SMALL, "adapter");
                let w = dir.join("adapter_model.safetensors");
                let mut f = Forge::read(&w);
                let t = f.get_mut("base_model.model.classifier.out_proj.weight");
                let mut v = t.f32s();
                v[5] = f32::NAN;
                t.set_f32s(&v);
                f.write(&w);
                (args(&[&"inspect", &"--checkpoint", &dir]), shown(&w))
            },
            expect: Expect::Rejected(&["classifier.out_proj.weight", "NaN"]),
        },
        // --- splits and labels ---------------------------------------------------------------
        Case {
            name: "empty-split",
            wrong: "test split with 0 rows (`features` [0, 64])",
            setup: |c| {
                let p = forged(c, "test.safetensors", "test.safetensors", |f| {
                    for t in &mut f.tensors {
                        t.keep_rows(0);
                    }
                });
                let train = fixture(SMALL, "train.safetensors");
                (c.fit(&train, &[&"--test", &p]), shown(&p))
            },
            expect: Expect::Rejected(&["`features`", "N ≥ 1", "[0, 64]"]),
        },
        Case {
            name: "one-row-train",
            wrong: "train split of one row, no --val (no errors to learn or cross-validate)",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    for t in &mut f.tensors {
                        t.keep_rows(1);
                    }
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["train split", "of 1 rows", "errors and correct"]),
        },
        Case {
            name: "one-row-val",
            wrong: "hold-out selection on a val split of one row (error ROC-AUC undefined)",
            setup: |c| {
                let p = forged(c, "val.safetensors", "val.safetensors", |f| {
                    for t in &mut f.tensors {
                        t.keep_rows(1);
                    }
                });
                let train = fixture(SMALL, "train.safetensors");
                let calib = fixture(SMALL, "val.safetensors");
                let extra: [&dyn AsRef<std::ffi::OsStr>; 6] =
                    [&"--val", &p, &"--calib", &calib, &"--selection", &"holdout"];
                (c.fit(&train, &extra), shown(&p))
            },
            expect: Expect::Rejected(&["val split", "of 1 rows"]),
        },
        Case {
            name: "logits-rows-mismatch",
            wrong: "`logits` has one row fewer than `features`",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    f.get_mut("logits").keep_rows(99);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`logits` has 99 rows but `features` has 100"]),
        },
        Case {
            name: "label-out-of-range",
            wrong: "label 2 in a 2-class problem",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    let mut l = f.get_mut("labels").i64s();
                    l[5] = 2;
                    f.get_mut("labels").set_i64s(&l);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`labels`", "row 5 has label 2", "0..2"]),
        },
        Case {
            name: "label-negative",
            wrong: "label -1",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    let mut l = f.get_mut("labels").i64s();
                    l[0] = -1;
                    f.get_mut("labels").set_i64s(&l);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`labels`", "row 0 has label -1", "non-negative"]),
        },
        Case {
            name: "label-names-wrong-count",
            wrong: "`label_names` metadata lists 3 names for 2 logit columns",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    f.metadata.as_mut().unwrap()["label_names"] = json!(r#"["a", "b", "c"]"#);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["label_names", "3 names for 2"]),
        },
        Case {
            name: "train-without-errors",
            wrong: "labels equal the model's predictions: no error to learn from",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    labels_from_logits(f, 0);
                });
                let val = fixture(SMALL, "val.safetensors");
                (c.fit(&p, &[&"--val", &val]), shown(&p))
            },
            expect: Expect::Rejected(&["train split", "wrong on 0 of 100 rows"]),
        },
        Case {
            name: "train-only-errors",
            wrong: "labels differ from every prediction: every row is an error",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    labels_from_logits(f, 1);
                });
                let val = fixture(SMALL, "val.safetensors");
                (c.fit(&p, &[&"--val", &val]), shown(&p))
            },
            expect: Expect::Rejected(&["train split", "wrong on 100 of 100 rows"]),
        },
        // --- features and checkpoint that do not belong together -----------------------------
        Case {
            name: "features-wrong-width",
            wrong: "D = 384 features (bbc-roberta) for a D = 64 head",
            setup: |c| {
                let p = fixture("bbc-roberta", "train.safetensors");
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["feature width D: the head expects 64, the file has 384"]),
        },
        Case {
            name: "logits-wrong-classes",
            wrong: "5-class features and logits (bbc-roberta) for a 3-class head (bbc-bert-linear)",
            setup: |_| {
                let p = fixture("bbc-roberta", "val.safetensors");
                let a = args(&[
                    &"inspect",
                    &"--checkpoint",
                    &fixture("bbc-bert-linear", "adapter"),
                    &"--features",
                    &p,
                ]);
                (a, shown(&p))
            },
            expect: Expect::Rejected(&["number of classes C: the head expects 3, the file has 5"]),
        },
        Case {
            name: "logits-not-reproduced",
            wrong: "features scaled by 1.5: the head no longer reproduces the stored logits",
            setup: |c| {
                let p = forged(c, "train.safetensors", "train.safetensors", |f| {
                    let v: Vec<f32> = f.get_mut("features").f32s().iter().map(|x| x * 1.5).collect();
                    f.get_mut("features").set_f32s(&v);
                });
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["`logits`", "does not reproduce the stored logits"]),
        },
        Case {
            name: "validate-features-wrong-width",
            wrong: "`validate --features` of width 384 for a fit of width 64",
            setup: |c| {
                let p = fixture("bbc-roberta", "test.safetensors");
                (validate(c, &c.onnx(), &p), shown(&p))
            },
            expect: Expect::Rejected(&["feature width D: the head expects 64, the file has 384"]),
        },
        // --- .npy feature directories ---------------------------------------------------------
        Case {
            name: "npy-shape-lies",
            wrong: "`features.npy` header claims 100 rows, the data holds 50",
            setup: |c| {
                let d = c.mkdir("train");
                let f = Forge::read(&fixture(SMALL, "val.safetensors"));
                write_npy(&d.join("features.npy"), "<f4", "(100, 64)", &f.tensors[0].data);
                write_npy(&d.join("labels.npy"), "<i8", "(50,)", &f.tensors[1].data);
                (c.fit(&d, &[]), shown(&d.join("features.npy")))
            },
            expect: Expect::Rejected(&["needs 25600 bytes of data, the file has 12800"]),
        },
        Case {
            name: "npy-shape-overflows",
            wrong: "`features.npy` shape (2^32, 2^32, 2^32): the byte count overflows",
            setup: |c| {
                let d = c.mkdir("train");
                let shape = "(4294967296, 4294967296, 4294967296)";
                write_npy(&d.join("features.npy"), "<f4", shape, &[0; 64]);
                write_npy(&d.join("labels.npy"), "<i8", "(1,)", &[0; 8]);
                (c.fit(&d, &[]), shown(&d.join("features.npy")))
            },
            expect: Expect::Rejected(&["overflows the byte count"]),
        },
        Case {
            name: "directory-as-feature-file",
            wrong: "an empty directory given as --train",
            setup: |c| {
                let d = c.mkdir("train.safetensors");
                (c.fit(&d, &[]), shown(&d))
            },
            expect: Expect::Rejected(&["`features.npy` not found"]),
        },
        // --- checkpoints -----------------------------------------------------------------------
        Case {
            name: "adapter-config-malformed",
            wrong: "`adapter_config.json` cut short (invalid JSON)",
            setup: |c| {
                let dir = c.adapter(SMALL, "adapter");
                let p = dir.join("adapter_config.json");
                std::fs::write(&p, b"{\"r\": 8,").unwrap();
                (args(&[&"inspect", &"--checkpoint", &dir]), shown(&p))
            },
            expect: Expect::Rejected(&["invalid JSON", "EOF"]),
        },
        Case {
            name: "adapter-config-missing-alpha",
            wrong: "`adapter_config.json` without `lora_alpha`, while the head carries LoRA factors",
            setup: |c| {
                let dir = c.adapter("tiny-llama-576", "adapter");
                let p = dir.join("adapter_config.json");
                let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                v.as_object_mut().unwrap().remove("lora_alpha");
                std::fs::write(&p, v.to_string()).unwrap();
                (args(&[&"inspect", &"--checkpoint", &dir]), shown(&p))
            },
            expect: Expect::Rejected(&["LoRA on `score`", "no lora_alpha"]),
        },
        Case {
            name: "adapter-config-wrong-type",
            wrong: "`lora_alpha` is a string",
            setup: |c| {
                let dir = c.adapter("tiny-llama-576", "adapter");
                let p = dir.join("adapter_config.json");
                let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                v["lora_alpha"] = json!("16");
                std::fs::write(&p, v.to_string()).unwrap();
                (args(&[&"inspect", &"--checkpoint", &dir]), shown(&p))
            },
            expect: Expect::Rejected(&["field `lora_alpha`"]),
        },
        Case {
            name: "adapter-config-missing",
            wrong: "adapter directory without `adapter_config.json`",
            setup: |c| {
                let dir = c.adapter(SMALL, "adapter");
                std::fs::remove_file(dir.join("adapter_config.json")).unwrap();
                (args(&[&"inspect", &"--checkpoint", &dir]), shown(&dir))
            },
            expect: Expect::Rejected(&["adapter_config.json", "not found"]),
        },
        Case {
            name: "checkpoint-truncated",
            wrong: "`adapter_model.safetensors` missing its last 1000 bytes",
            setup: |c| {
                let dir = c.adapter(SMALL, "adapter");
                let w = dir.join("adapter_model.safetensors");
                let b = std::fs::read(&w).unwrap();
                std::fs::write(&w, &b[..b.len() - 1000]).unwrap();
                let a = c.fit(&fixture(SMALL, "train.safetensors"), &[]);
                (set(a, "--checkpoint", &dir), shown(&w))
            },
            expect: Expect::Rejected(&["past the end of the data section"]),
        },
        Case {
            name: "no-head",
            wrong: "a feature file given as the checkpoint",
            setup: |_| {
                let p = fixture(SMALL, "train.safetensors");
                (args(&[&"inspect", &"--checkpoint", &p]), shown(&p))
            },
            expect: Expect::Rejected(&["no classification head", "`features`"]),
        },
        // --- paths: symlinks, missing files, files and directories swapped -------------------
        Case {
            name: "symlinks-to-valid-inputs",
            wrong: "checkpoint directory and feature file are symlinks to the real ones (accepted: links are followed)",
            setup: |c| {
                let (dir, f) = (c.path("adapter-link"), c.path("test-link.safetensors"));
                std::os::unix::fs::symlink(fixture(SMALL, "adapter"), &dir).unwrap();
                std::os::unix::fs::symlink(fixture(SMALL, "test.safetensors"), &f).unwrap();
                let a = args(&[&"inspect", &"--checkpoint", &dir, &"--features", &f]);
                (a, String::new())
            },
            expect: Expect::Accepted,
        },
        Case {
            name: "dangling-symlink",
            wrong: "--train is a symlink to a file that does not exist",
            setup: |c| {
                let p = c.path("train.safetensors");
                std::os::unix::fs::symlink(c.path("gone.safetensors"), &p).unwrap();
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["No such file or directory"]),
        },
        Case {
            name: "symlink-loop",
            wrong: "--train is a symlink to itself",
            setup: |c| {
                let p = c.path("train.safetensors");
                std::os::unix::fs::symlink(&p, &p).unwrap();
                (c.fit(&p, &[]), shown(&p))
            },
            expect: Expect::Rejected(&["Too many levels of symbolic links"]),
        },
        Case {
            name: "fifo-as-feature-file",
            wrong: "--features is a named pipe with no writer (opening it would block forever)",
            setup: |c| {
                let p = c.path("test.safetensors");
                let ok = std::process::Command::new("mkfifo").arg(&p).status().unwrap();
                assert!(ok.success());
                (inspect(&p), shown(&p))
            },
            expect: Expect::Rejected(&["not a regular file"]),
        },
        Case {
            name: "missing-file",
            wrong: "`validate --features` names a file that does not exist",
            setup: |c| {
                let p = c.path("missing.safetensors");
                (validate(c, &c.onnx(), &p), shown(&p))
            },
            expect: Expect::Rejected(&["No such file or directory"]),
        },
        Case {
            name: "directory-as-onnx",
            wrong: "`validate --onnx` is a directory",
            setup: |c| {
                let d = c.mkdir("head.onnx");
                let f = fixture(SMALL, "test.safetensors");
                (validate(c, &d, &f), shown(&d))
            },
            expect: Expect::Rejected(&["Is a directory"]),
        },
        Case {
            name: "file-as-fit-dir",
            wrong: "`export --fit` is a file",
            setup: |c| {
                let f = c.fit_dir().join("report.json");
                (args(&[&"export", &"--fit", &f, &"--out", &c.path("h.onnx")]), shown(&f))
            },
            expect: Expect::Rejected(&["not a fit directory"]),
        },
        Case {
            name: "out-is-existing-file",
            wrong: "`fit --out` is an existing regular file",
            setup: |c| {
                let out = c.path("out");
                std::fs::write(&out, b"keep me").unwrap();
                (c.fit(&fixture(SMALL, "train.safetensors"), &[]), shown(&out))
            },
            expect: Expect::Rejected(&["--out", "not a directory"]),
        },
        Case {
            name: "out-inside-input-dir",
            wrong: "`fit --out` inside the checkpoint directory",
            setup: |c| {
                let dir = c.adapter(SMALL, "adapter");
                let train = fixture(SMALL, "train.safetensors");
                let out = dir.join("fit");
                let a = set(c.fit(&train, &[]), "--checkpoint", &dir);
                (set(a, "--out", &out), shown(&out))
            },
            expect: Expect::Rejected(&["would write inside or over the input"]),
        },
        Case {
            name: "export-over-input",
            wrong: "`export --out` is the fit directory's own head.safetensors",
            setup: |c| {
                let fit = c.fit_dir();
                let out = fit.join("head.safetensors");
                (args(&[&"export", &"--fit", &fit, &"--out", &out]), shown(&out))
            },
            expect: Expect::Rejected(&["would overwrite the input"]),
        },
        Case {
            name: "html-over-report",
            wrong: "`report --html` is the fit directory's own report.json",
            setup: |c| {
                let fit = c.fit_dir();
                let html = fit.join("report.json");
                (args(&[&"report", &"--fit", &fit, &"--html", &html]), shown(&html))
            },
            expect: Expect::Rejected(&["would overwrite the input report.json"]),
        },
        Case {
            name: "html-is-directory",
            wrong: "`report --html` is an existing directory",
            setup: |c| {
                let fit = c.fit_dir();
                let html = c.mkdir("report.html");
                (args(&[&"report", &"--fit", &fit, &"--html", &html]), shown(&html))
            },
            expect: Expect::Rejected(&["cannot write", "Is a directory"]),
        },
        // --- parameters and side files ---------------------------------------------------------
        Case {
            name: "grid-malformed",
            wrong: "grid file is not JSON",
            setup: |c| {
                let g = c.path("bad-grid.json");
                std::fs::write(&g, b"{\"alpha\": [0.0], \"beta\": [").unwrap();
                (set(c.fit(&fixture(SMALL, "train.safetensors"), &[]), "--grid", &g), shown(&g))
            },
            expect: Expect::Rejected(&["grid file", "EOF"]),
        },
        Case {
            name: "grid-missing",
            wrong: "grid file does not exist",
            setup: |c| {
                let g = c.path("missing.json");
                (set(c.fit(&fixture(SMALL, "train.safetensors"), &[]), "--grid", &g), shown(&g))
            },
            expect: Expect::Rejected(&["grid file", "No such file"]),
        },
        Case {
            name: "grid-endless",
            wrong: "grid path is an endless device (/dev/zero)",
            setup: |c| {
                let g = PathBuf::from("/dev/zero");
                (set(c.fit(&fixture(SMALL, "train.safetensors"), &[]), "--grid", &g), shown(&g))
            },
            expect: Expect::Rejected(&["grid file", "larger than the 64 MiB"]),
        },
        Case {
            name: "grid-bad-values",
            wrong: "grid with lr 0",
            setup: |c| {
                let g = c.path("bad-grid.json");
                std::fs::write(&g, r#"{"alpha":[0],"beta":[0.1],"lr":[0],"epochs":[1]}"#).unwrap();
                (set(c.fit(&fixture(SMALL, "train.safetensors"), &[]), "--grid", &g), shown(&g))
            },
            expect: Expect::Rejected(&["grid file", "lr"]),
        },
        Case {
            name: "lambda-zero",
            wrong: "--lambda 0",
            setup: |c| {
                let a = c.fit(&fixture(SMALL, "train.safetensors"), &[&"--lambda", &"0"]);
                (a, "lambda".into())
            },
            expect: Expect::Rejected(&["`lambda` = 0", "> 0"]),
        },
        Case {
            name: "lambda-negative",
            wrong: "--lambda -5",
            setup: |c| {
                let a = c.fit(&fixture(SMALL, "train.safetensors"), &[&"--lambda=-5"]);
                (a, "lambda".into())
            },
            expect: Expect::Rejected(&["`lambda` = -5", "> 0"]),
        },
        Case {
            name: "lambda-nan",
            wrong: "--lambda NaN",
            setup: |c| {
                let a = c.fit(&fixture(SMALL, "train.safetensors"), &[&"--lambda", &"NaN"]);
                (a, "lambda".into())
            },
            expect: Expect::Rejected(&["`lambda` = NaN", "finite"]),
        },
        // --- fit directories, ONNX and reports -------------------------------------------------
        Case {
            name: "fit-head-truncated",
            wrong: "the fit directory's head.safetensors cut in half",
            setup: |c| {
                let fit = c.fit_dir();
                let h = fit.join("head.safetensors");
                let b = std::fs::read(&h).unwrap();
                std::fs::write(&h, &b[..b.len() / 2]).unwrap();
                (args(&[&"export", &"--fit", &fit, &"--out", &c.path("h.onnx")]), shown(&h))
            },
            expect: Expect::Rejected(&["not a valid safetensors file"]),
        },
        Case {
            name: "mahalanobis-missing",
            wrong: "`export --with-mahalanobis` but mahalanobis.safetensors was deleted",
            setup: |c| {
                let fit = c.fit_dir();
                let m = fit.join("mahalanobis.safetensors");
                std::fs::remove_file(&m).unwrap();
                let a = args(&[
                    &"export",
                    &"--fit",
                    &fit,
                    &"--out",
                    &c.path("h.onnx"),
                    &"--with-mahalanobis",
                ]);
                (a, shown(&m))
            },
            expect: Expect::Rejected(&["No such file"]),
        },
        Case {
            name: "onnx-corrupted",
            wrong: "the ONNX file cut in half (not a decodable model)",
            setup: |c| {
                let onnx = c.onnx();
                let b = std::fs::read(&onnx).unwrap();
                std::fs::write(&onnx, &b[..b.len() / 2]).unwrap();
                (validate(c, &onnx, &fixture(SMALL, "test.safetensors")), shown(&onnx))
            },
            expect: Expect::Rejected(&["not an ONNX model"]),
        },
        Case {
            name: "report-malformed",
            wrong: "the fit directory's report.json cut short",
            setup: |c| {
                let fit = c.fit_dir();
                let r = fit.join("report.json");
                let b = std::fs::read(&r).unwrap();
                std::fs::write(&r, &b[..b.len() / 2]).unwrap();
                (args(&[&"report", &"--fit", &fit]), shown(&r))
            },
            expect: Expect::Rejected(&["EOF"]),
        },
        Case {
            name: "baseline-malformed",
            wrong: "`validate --baseline` is not JSON",
            setup: |c| {
                let b = c.path("baseline.json");
                std::fs::write(&b, b"{\"methods\": ").unwrap();
                let mut a = validate(c, &c.onnx(), &fixture(SMALL, "test.safetensors"));
                a.extend(args(&[&"--baseline", &b]));
                (a, shown(&b))
            },
            expect: Expect::Rejected(&["not valid JSON"]),
        },
    ];
    cases.extend(features::cases());
    cases
}

/// The subcommand and the flags of a case, as in the README's "command" column.
fn command(case: &Case, shared: &Shared) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = (case.setup)(&Ctx {
        dir: dir.path().to_path_buf(),
        shared,
    });
    let mut words = vec![a[0].to_string_lossy().into_owned()];
    words.extend(
        a.iter()
            .filter_map(|x| x.to_str())
            .filter(|x| x.starts_with("--") && *x != "--threads")
            .map(str::to_string),
    );
    words.join(" ")
}

#[test]
fn hostile_inputs_are_rejected_cleanly() {
    let fixtures = snapshot(&root().join("fixtures"));
    let table = std::env::var_os("HOSTILE_TABLE").is_some();
    let shared = Shared::default();
    let mut failures = Vec::new();
    for case in corpus() {
        match check(&case, &shared) {
            Ok(ran) if table => println!(
                "| `{}` | `{}` | {} | {} | {} |",
                case.name,
                command(&case, &shared),
                case.wrong,
                ran.code.unwrap_or(-1),
                excerpt(&ran.stderr)
            ),
            Ok(_) => {}
            Err(e) => failures.push(e),
        }
    }
    assert_eq!(
        fixtures,
        snapshot(&root().join("fixtures")),
        "a case changed the committed fixtures"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        corpus().len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_has_unique_names_and_readme_lists_every_case() {
    let readme = std::fs::read_to_string(root().join("tests/hostile/README.md")).unwrap();
    let cases = corpus();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "duplicate case names");
    let shared = Shared::default();
    for case in &cases {
        let row = format!("| `{}` | `{}` |", case.name, command(case, &shared));
        assert!(readme.contains(&row), "README lacks the row starting {row}");
    }
}
