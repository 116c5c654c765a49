//! Shared helpers of the export / validate tests: seeded random heads and features,
//! provenance metadata and `.npy` writing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use adue_compile::export::metadata::{sha256_key, REQUIRED_PROVENANCE_KEYS};
use adue_compile::export::{CertifiedThreshold, ExportSpec, MahalanobisExport};
use adue_compile::head::{Activation, Head, UeHead, UeSpec};
use adue_compile::load::sha256_file;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The head shapes the parity tests cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LinearBias,
    LinearNoBias,
    DenseTanh,
    DenseGelu,
}

pub const ALL_KINDS: [Kind; 4] = [
    Kind::LinearBias,
    Kind::LinearNoBias,
    Kind::DenseTanh,
    Kind::DenseGelu,
];

pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// Uniform in `[-a, a]`.
pub fn uniform(rng: &mut Xoshiro256PlusPlus, shape: (usize, usize), a: f32) -> Array2<f32> {
    Array2::from_shape_fn(shape, |_| rng.gen_range(-a..a))
}

fn uniform1(rng: &mut Xoshiro256PlusPlus, n: usize, a: f32) -> Array1<f32> {
    Array1::from_shape_fn(n, |_| rng.gen_range(-a..a))
}

/// A head whose logits on [`features`] spread over a few units, so that softmax
/// probabilities range from confident to ambiguous.
pub fn head(kind: Kind, d: usize, c: usize, seed: u64) -> Head {
    let mut r = rng(seed);
    let s = 3.0 / (d as f32).sqrt();
    match kind {
        Kind::LinearBias | Kind::LinearNoBias => Head::Linear {
            weight: uniform(&mut r, (c, d), s),
            bias: (kind == Kind::LinearBias).then(|| uniform1(&mut r, c, 0.5)),
        },
        Kind::DenseTanh | Kind::DenseGelu => Head::Dense {
            dense_weight: uniform(&mut r, (d, d), s),
            dense_bias: uniform1(&mut r, d, 0.1),
            activation: if kind == Kind::DenseTanh {
                Activation::Tanh
            } else {
                Activation::Gelu
            },
            out_weight: uniform(&mut r, (c, d), s),
            out_bias: uniform1(&mut r, c, 0.5),
        },
    }
}

/// A UE head: the original with every weight perturbed (as after fitting).
pub fn perturbed(head: &Head, seed: u64) -> Head {
    let mut r = rng(seed);
    let mut jitter = |a: &Array2<f32>| a.mapv(|v| v + r.gen_range(-0.02..0.02));
    match head {
        Head::Linear { weight, bias } => Head::Linear {
            weight: jitter(weight),
            bias: bias.clone(),
        },
        Head::Dense {
            dense_weight,
            dense_bias,
            activation,
            out_weight,
            out_bias,
        } => Head::Dense {
            dense_weight: jitter(dense_weight),
            dense_bias: dense_bias.clone(),
            activation: *activation,
            out_weight: jitter(out_weight),
            out_bias: out_bias.clone(),
        },
    }
}

/// Features with a non-zero mean, like real hidden states.
pub fn features(n: usize, d: usize, seed: u64) -> Array2<f32> {
    let mut r = rng(seed);
    let offset = uniform1(&mut r, d, 2.0);
    uniform(&mut r, (n, d), 1.7) + &offset
}

/// A Mahalanobis scorer from a random lower-triangular whitener around the mean of `x`.
pub fn mahalanobis(x: &Array2<f32>, c: usize, seed: u64) -> MahalanobisExport {
    let d = x.ncols();
    let mut r = rng(seed);
    let center = x.mean_axis(ndarray::Axis(0)).unwrap();
    let mut w = Array2::<f32>::zeros((d, d));
    for i in 0..d {
        w[[i, i]] = r.gen_range(0.6..1.4);
        for j in 0..i {
            w[[i, j]] = r.gen_range(-0.05..0.05);
        }
    }
    MahalanobisExport {
        center,
        whitener: w,
        whitened_means: uniform(&mut r, (c, d), 0.3),
    }
}

/// A threshold at the median of `u`, so `accept` has both values.
pub fn median_threshold(u: &[f32]) -> CertifiedThreshold {
    let mut s = u.to_vec();
    s.sort_by(f32::total_cmp);
    CertifiedThreshold {
        tau: s[s.len() / 2],
        target_risk: 0.1,
        delta: 0.1,
        calibration_split: "val".to_string(),
        calibration_rows: s.len(),
        accepted: s.len() / 2 + 1,
        errors: 0,
        risk_upper_bound: 0.05,
        level: 0.05,
        candidates_certified: 1,
        restarts: vec![s[0]],
        restart_source: "a test".to_string(),
    }
}

/// Provenance metadata with the hash of `input` recorded as `adue.sha256.train`.
pub fn metadata(input: &Path) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = REQUIRED_PROVENANCE_KEYS
        .iter()
        .map(|k| (k.to_string(), format!("test value of {k}")))
        .collect();
    m.insert(sha256_key("train"), sha256_file(input).unwrap());
    m
}

/// Writes a small input file whose hash the metadata records.
pub fn input_file(dir: &Path) -> PathBuf {
    let p = dir.join("train.safetensors");
    std::fs::write(&p, b"stand-in for a training split").unwrap();
    p
}

/// Everything one export needs, owned.
pub struct Case {
    pub original: Head,
    pub ue: UeHead,
    pub mahalanobis: Option<MahalanobisExport>,
    pub threshold: Option<CertifiedThreshold>,
    pub features: Array2<f32>,
    pub input: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Case {
    pub fn new(kind: Kind, d: usize, c: usize, rows: usize, extras: bool, seed: u64) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let input = input_file(dir.path());
        let original = head(kind, d, c, seed);
        let ue = perturbed(&original, seed + 1);
        let features = features(rows, d, seed + 2);
        let spec = UeSpec {
            lambda: 100.0,
            scale: 1.0 / (1.0 - 1.0 / c as f64),
            eps: 1e-7,
        };
        let (mahalanobis, threshold) = if extras {
            let u = ue.uncertainty(features.view(), &spec).to_vec();
            (
                Some(mahalanobis(&features, c, seed + 3)),
                Some(median_threshold(&u)),
            )
        } else {
            (None, None)
        };
        Case {
            original,
            ue: UeHead { head: ue, spec },
            mahalanobis,
            threshold,
            features,
            input,
            dir,
        }
    }

    pub fn spec(&self) -> ExportSpec<'_> {
        ExportSpec {
            original: &self.original,
            ue: &self.ue,
            mahalanobis: self.mahalanobis.as_ref(),
            threshold: self.threshold.as_ref(),
            metadata: metadata(&self.input),
        }
    }

    pub fn hashed_inputs(&self) -> Vec<(String, PathBuf)> {
        vec![("train".to_string(), self.input.clone())]
    }

    pub fn reference(&self) -> adue_compile::validate::Reference<'_> {
        adue_compile::validate::Reference {
            original: &self.original,
            ue: &self.ue,
            mahalanobis: self.mahalanobis.as_ref(),
        }
    }
}

/// Writes a float32 C-order `.npy` file.
pub fn write_npy(path: &Path, a: &Array2<f32>) {
    let dict = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        a.nrows(),
        a.ncols()
    );
    // Magic (6) + version (2) + header length (2) + dict + padding + '\n', a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    let header = format!("{dict}{}\n", " ".repeat((64 - unpadded % 64) % 64));
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    for v in a.iter() {
        bytes.extend(v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// Runs `tests/onnx/crosscheck.py` (the official `onnx` full check, then Python onnxruntime)
/// on `onnx` with `features` (written as `.npy` into `work`) and returns its JSON result.
/// Panics with the script's output when it fails.
pub fn python_crosscheck(onnx: &Path, features: &Array2<f32>, work: &Path) -> serde_json::Value {
    let (npy, out) = (work.join("x.npy"), work.join("crosscheck.json"));
    write_npy(&npy, features);
    let script = crate::util::root().join("tests/onnx/crosscheck.py");
    let run = std::process::Command::new(crate::util::python())
        .args([
            script.as_os_str(),
            onnx.as_os_str(),
            npy.as_os_str(),
            out.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "crosscheck.py failed on {}:\n{}\n{}",
        onnx.display(),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

/// The values of output `name` in a [`python_crosscheck`] result.
pub fn crosscheck_output(result: &serde_json::Value, name: &str) -> Vec<f32> {
    result["outputs"][name]["data"]
        .as_array()
        .unwrap_or_else(|| panic!("crosscheck result has no output `{name}`"))
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}
