//! Writers for test inputs of the load stage: well-formed safetensors through the
//! `safetensors` crate, malformed ones byte by byte, and `.npy` files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use safetensors::tensor::TensorView;
use safetensors::Dtype;

/// One tensor to write: name, dtype, shape, little-endian bytes.
pub struct T {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

impl T {
    pub fn f32(name: &str, shape: &[usize], v: &[f32]) -> T {
        Self::new(
            name,
            Dtype::F32,
            shape,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        )
    }
    pub fn f16(name: &str, shape: &[usize], v: &[f32]) -> T {
        let b = v
            .iter()
            .flat_map(|x| f16::from_f32(*x).to_le_bytes())
            .collect();
        Self::new(name, Dtype::F16, shape, b)
    }
    pub fn bf16(name: &str, shape: &[usize], v: &[f32]) -> T {
        let b = v
            .iter()
            .flat_map(|x| bf16::from_f32(*x).to_le_bytes())
            .collect();
        Self::new(name, Dtype::BF16, shape, b)
    }
    pub fn f64(name: &str, shape: &[usize], v: &[f64]) -> T {
        Self::new(
            name,
            Dtype::F64,
            shape,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        )
    }
    pub fn i64(name: &str, v: &[i64]) -> T {
        Self::new(
            name,
            Dtype::I64,
            &[v.len()],
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        )
    }
    pub fn i32(name: &str, v: &[i32]) -> T {
        Self::new(
            name,
            Dtype::I32,
            &[v.len()],
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        )
    }
    pub fn u8(name: &str, shape: &[usize], v: &[u8]) -> T {
        Self::new(name, Dtype::U8, shape, v.to_vec())
    }
    fn new(name: &str, dtype: Dtype, shape: &[usize], bytes: Vec<u8>) -> T {
        T {
            name: name.to_string(),
            dtype,
            shape: shape.to_vec(),
            bytes,
        }
    }
}

/// Writes `tensors` with the `safetensors` crate.
pub fn write_st(path: &Path, tensors: &[T], metadata: &[(&str, &str)]) {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|t| {
            let v = TensorView::new(t.dtype, t.shape.clone(), &t.bytes).expect("valid test tensor");
            (t.name.clone(), v)
        })
        .collect();
    let meta: Option<HashMap<String, String>> = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    safetensors::serialize_to_file(views, meta, path).expect("write safetensors");
}

/// A safetensors file from a raw JSON header and data section (for malformed inputs).
pub fn raw_st(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A `.npy` (format 1.0) file.
pub fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

pub fn le_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn le_i64(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A fresh temporary directory.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write test file");
    p
}

/// Asserts that `msg` names the file and every one of `words`.
#[track_caller]
pub fn assert_names(msg: &str, path: &Path, words: &[&str]) {
    let p = path.display().to_string();
    assert!(msg.contains(&p), "message does not name {p}: {msg}");
    for w in words {
        assert!(msg.contains(w), "message does not mention {w:?}: {msg}");
    }
}

/// Deterministic pseudo-random values in [-1, 1) (a fixed LCG; no RNG crate needed).
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}
