//! Forging hostile files from real ones: a safetensors file decoded into editable parts
//! (header JSON and raw tensor bytes) and written back, with or without a consistent header.

use std::path::Path;

use serde_json::{Map, Value};

/// One tensor: header fields and its raw little-endian bytes.
#[derive(Debug, Clone)]
pub struct Raw {
    /// Tensor name.
    pub name: String,
    /// Safetensors dtype name (`F32`, `I64`, ...).
    pub dtype: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Raw bytes.
    pub data: Vec<u8>,
}

impl Raw {
    /// The data as f32 (the tensor must be `F32`).
    pub fn f32s(&self) -> Vec<f32> {
        assert_eq!(self.dtype, "F32", "{}", self.name);
        self.data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    /// Replaces the data with `v` as F32 (same shape).
    pub fn set_f32s(&mut self, v: &[f32]) {
        self.dtype = "F32".into();
        self.data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    }

    /// The data as i64 (the tensor must be `I64`).
    pub fn i64s(&self) -> Vec<i64> {
        assert_eq!(self.dtype, "I64", "{}", self.name);
        self.data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    /// Replaces the data with `v` as I64 (same shape).
    pub fn set_i64s(&mut self, v: &[i64]) {
        self.dtype = "I64".into();
        self.data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    }

    /// Keeps the first `n` rows (axis 0).
    pub fn keep_rows(&mut self, n: usize) {
        let row_bytes = self.data.len() / self.shape[0].max(1);
        self.shape[0] = n;
        self.data.truncate(n * row_bytes);
    }
}

/// A safetensors file as editable parts.
#[derive(Debug, Clone)]
pub struct Forge {
    /// `__metadata__`, when present.
    pub metadata: Option<Value>,
    /// Tensors in data order.
    pub tensors: Vec<Raw>,
}

impl Forge {
    /// Reads a (valid) safetensors file.
    pub fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap();
        let (header, data) = split(&bytes);
        let map: Map<String, Value> = serde_json::from_str(&header).unwrap();
        let mut metadata = None;
        let mut tensors = Vec::new();
        for (name, v) in map {
            if name == "__metadata__" {
                metadata = Some(v);
                continue;
            }
            let off: Vec<usize> = serde_json::from_value(v["data_offsets"].clone()).unwrap();
            tensors.push((
                off[0],
                Raw {
                    name,
                    dtype: v["dtype"].as_str().unwrap().to_string(),
                    shape: serde_json::from_value(v["shape"].clone()).unwrap(),
                    data: data[off[0]..off[1]].to_vec(),
                },
            ));
        }
        tensors.sort_by_key(|(begin, _)| *begin);
        Forge {
            metadata,
            tensors: tensors.into_iter().map(|(_, t)| t).collect(),
        }
    }

    /// The tensor called `name`.
    pub fn get_mut(&mut self, name: &str) -> &mut Raw {
        self.tensors
            .iter_mut()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tensor {name}"))
    }

    /// The header as a JSON object with consistent, contiguous `data_offsets`, and the data.
    pub fn parts(&self) -> (Map<String, Value>, Vec<u8>) {
        let mut header = Map::new();
        if let Some(m) = &self.metadata {
            header.insert("__metadata__".into(), m.clone());
        }
        let mut data = Vec::new();
        for t in &self.tensors {
            let begin = data.len();
            data.extend_from_slice(&t.data);
            header.insert(
                t.name.clone(),
                serde_json::json!({
                    "dtype": t.dtype, "shape": t.shape, "data_offsets": [begin, data.len()]
                }),
            );
        }
        (header, data)
    }

    /// Writes a consistent safetensors file.
    pub fn write(&self, path: &Path) {
        let (header, data) = self.parts();
        std::fs::write(path, join(&Value::Object(header).to_string(), &data)).unwrap();
    }
}

/// `(header JSON text, data section)` of a safetensors file.
pub fn split(bytes: &[u8]) -> (String, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + n].to_vec()).unwrap();
    (header, bytes[8 + n..].to_vec())
}

/// A safetensors file from any header text and data: the length prefix is the only
/// thing made consistent.
pub fn join(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Edits the header of the safetensors file `from` (its JSON object) and writes the result,
/// data unchanged, to `to`.
pub fn edit_header(from: &Path, to: &Path, edit: impl FnOnce(&mut Map<String, Value>)) {
    let (header, data) = split(&std::fs::read(from).unwrap());
    let mut map: Map<String, Value> = serde_json::from_str(&header).unwrap();
    edit(&mut map);
    std::fs::write(to, join(&Value::Object(map).to_string(), &data)).unwrap();
}

/// Writes a C-order `.npy` (format 1.0) file with any `descr` and `shape` text and raw data.
pub fn write_npy(path: &Path, descr: &str, shape: &str, data: &[u8]) {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad so that magic (6) + version (2) + length (2) + header ends on a 64-byte boundary.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    std::fs::write(path, out).unwrap();
}
