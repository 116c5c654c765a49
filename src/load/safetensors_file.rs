//! A safetensors file over a memory map, with its header validated once at open.
//!
//! Layout: an 8-byte little-endian header length `n`, `n` bytes of JSON mapping each tensor
//! name to `{dtype, shape, data_offsets: [begin, end]}` (plus an optional `__metadata__`
//! string map), then the data section. Offsets are relative to the data section, which the
//! tensors must cover exactly, without overlaps. Nothing in the header is trusted: every
//! size is computed with checked arithmetic and every span is checked against the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::dtype::Dtype;
use super::error::{sample_list, LoadError};
use super::mapped::{map_file, FileBytes};
use super::tensor_view::TensorView;

/// Largest header accepted (100 MB); real headers are kilobytes to a few megabytes.
pub const MAX_HEADER_LEN: u64 = 100_000_000;

/// One tensor's validated header entry.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    /// Byte span relative to the data section; in bounds and `end − begin = numel × size`.
    begin: usize,
    end: usize,
}

/// The validated header: tensor entries, metadata and where the data section starts.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    tensors: BTreeMap<String, Entry>,
    metadata: BTreeMap<String, String>,
    data_start: usize,
}

/// An open, validated safetensors file.
#[derive(Debug)]
pub struct SafetensorsFile {
    path: PathBuf,
    map: FileBytes,
    header: Header,
}

impl SafetensorsFile {
    /// Maps and validates `path`.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        Self::new(path, map_file(path)?)
    }

    /// Validates the whole contents of a safetensors file already in memory, with the same
    /// checks as [`SafetensorsFile::open`]; `path` only names the file in errors.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, LoadError> {
        Self::new(path, FileBytes::Owned(bytes))
    }

    fn new(path: &Path, map: FileBytes) -> Result<Self, LoadError> {
        let header = parse_header(path, &map)?;
        Ok(SafetensorsFile {
            path: path.to_path_buf(),
            map,
            header,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.header.tensors.keys().map(String::as_str)
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.header.tensors.len()
    }

    /// Whether the file holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.header.tensors.is_empty()
    }

    /// The `__metadata__` string map (empty when absent).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.header.metadata
    }

    /// The tensor called `name`, if present.
    pub fn get(&self, name: &str) -> Option<TensorView<'_>> {
        let (key, e) = self.header.tensors.get_key_value(name)?;
        let start = self.header.data_start + e.begin;
        let end = self.header.data_start + e.end;
        Some(TensorView {
            path: &self.path,
            name: key,
            dtype: &e.dtype,
            shape: &e.shape,
            fortran_order: false,
            // In bounds: `parse_header` checked `data_start + end ≤ file length`.
            bytes: &self.map[start..end],
        })
    }

    /// Drops the mapped pages of `bytes` (part of a tensor of this file, already decoded)
    /// from memory; see [`TensorView::to_f32_matrix_releasing`].
    pub fn release(&self, bytes: &[u8]) {
        self.map.release(bytes);
    }

    /// The tensor called `name`, or an error listing what the file holds.
    pub fn require(&self, name: &str) -> Result<TensorView<'_>, LoadError> {
        self.get(name).ok_or_else(|| LoadError::MissingTensor {
            path: self.path.clone(),
            tensor: name.to_string(),
            found: sample_list(self.names(), 8),
        })
    }
}

/// Validates the header of a whole safetensors file held in `bytes`.
fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header, LoadError> {
    let file_len = bytes.len() as u64;
    let Some((len_bytes, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(LoadError::TooShort {
            path: path.to_path_buf(),
            len: file_len,
        });
    };
    let header_len = u64::from_le_bytes(*len_bytes);
    let bad_len = |reason: String| LoadError::HeaderLength {
        path: path.to_path_buf(),
        header_len,
        reason,
    };
    if header_len < 2 {
        return Err(bad_len("shorter than the 2 bytes of `{}`".to_string()));
    }
    if header_len > MAX_HEADER_LEN {
        return Err(bad_len(format!("exceeds the {MAX_HEADER_LEN}-byte limit")));
    }
    if header_len > rest.len() as u64 {
        return Err(bad_len(format!(
            "runs past the end of the file ({file_len} bytes, so at most {} bytes of header)",
            rest.len()
        )));
    }
    // Fits in usize: it is at most `rest.len()`.
    let header_len = header_len as usize;
    let (json, data) = rest.split_at(header_len);
    let value: Value = serde_json::from_slice(json).map_err(|source| LoadError::HeaderJson {
        path: path.to_path_buf(),
        source,
    })?;
    let Value::Object(map) = value else {
        return Err(LoadError::Header {
            path: path.to_path_buf(),
            reason: format!("expected a JSON object, got {}", json_kind(&value)),
        });
    };
    if let Some(name) = first_duplicate_key(json) {
        return Err(LoadError::TensorHeader {
            path: path.to_path_buf(),
            tensor: name,
            reason: "duplicate entry: the header names it more than once (which one holds the \
                     data is ambiguous)"
                .to_string(),
        });
    }
    let mut metadata = BTreeMap::new();
    let mut tensors = BTreeMap::new();
    for (name, v) in &map {
        if name == "__metadata__" {
            metadata = parse_metadata(path, v)?;
        } else {
            let e = parse_entry(path, name, v, data.len() as u64)?;
            tensors.insert(name.clone(), e);
        }
    }
    check_coverage(path, &tensors, data.len())?;
    Ok(Header {
        tensors,
        metadata,
        data_start: 8 + header_len,
    })
}

/// The first key that the JSON object `json` repeats. A parse into [`Value`] keeps only the
/// last of repeated keys, so a second definition of a tensor would silently win.
fn first_duplicate_key(json: &[u8]) -> Option<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Option<String>, A::Error> {
            // Read to the end: the parser rejects a map left half-read.
            let (mut seen, mut first) = (BTreeSet::new(), None);
            while let Some((k, IgnoredAny)) = m.next_entry::<String, IgnoredAny>()? {
                if first.is_none() && seen.contains(&k) {
                    first = Some(k);
                } else {
                    seen.insert(k);
                }
            }
            Ok(first)
        }
    }
    // The header already parsed as an object, so this parse succeeds.
    let mut de = serde_json::Deserializer::from_slice(json);
    (&mut de).deserialize_map(Keys).ok().flatten()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_metadata(path: &Path, v: &Value) -> Result<BTreeMap<String, String>, LoadError> {
    let err = |reason: String| LoadError::Metadata {
        path: path.to_path_buf(),
        key: "__metadata__".to_string(),
        reason,
    };
    let Value::Object(m) = v else {
        return Err(err(format!(
            "expected an object of strings, got {}",
            json_kind(v)
        )));
    };
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            other => Err(err(format!(
                "key `{k}` holds {}, expected a string",
                json_kind(other)
            ))),
        })
        .collect()
}

fn parse_entry(path: &Path, name: &str, v: &Value, data_len: u64) -> Result<Entry, LoadError> {
    let err = |reason: String| LoadError::TensorHeader {
        path: path.to_path_buf(),
        tensor: name.to_string(),
        reason,
    };
    let Value::Object(obj) = v else {
        return Err(err(format!(
            "header entry is {}, expected an object with dtype, shape and data_offsets",
            json_kind(v)
        )));
    };
    let field = |key: &str| -> Result<&Value, LoadError> {
        obj.get(key)
            .ok_or_else(|| err(format!("header entry has no `{key}`")))
    };
    let dtype = match field("dtype")? {
        Value::String(s) => Dtype::from_safetensors(s),
        other => {
            return Err(err(format!(
                "`dtype` is {}, expected a string",
                json_kind(other)
            )))
        }
    };
    let shape: Vec<usize> = u64_list(field("shape")?)
        .and_then(|l| l.into_iter().map(|d| usize::try_from(d).ok()).collect())
        .ok_or_else(|| err("`shape` must be a list of non-negative integers".to_string()))?;
    let offsets = u64_list(field("data_offsets")?)
        .filter(|l| l.len() == 2)
        .ok_or_else(|| err("`data_offsets` must be two non-negative integers".to_string()))?;
    let (begin, end) = (offsets[0], offsets[1]);
    let numel = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err(format!("shape {shape:?} overflows the element count")))?;
    let bad_offsets = |reason: &str| LoadError::Offsets {
        path: path.to_path_buf(),
        tensor: name.to_string(),
        begin,
        end,
        data_len,
        reason: reason.to_string(),
    };
    if begin > end {
        return Err(bad_offsets("are reversed (begin after end)"));
    }
    if end > data_len {
        return Err(bad_offsets("run past the end of the data section"));
    }
    if let Some(size) = dtype.size() {
        let expected = numel
            .checked_mul(size)
            .ok_or_else(|| err(format!("shape {shape:?} overflows the byte count")))?;
        if expected as u64 != end - begin {
            return Err(LoadError::ByteSize {
                path: path.to_path_buf(),
                tensor: name.to_string(),
                dtype: dtype.name().to_string(),
                shape,
                expected: expected as u64,
                got: end - begin,
            });
        }
    }
    // Both fit in usize: they are at most `data_len`, the length of an in-memory slice.
    Ok(Entry {
        dtype,
        shape,
        begin: begin as usize,
        end: end as usize,
    })
}

fn u64_list(v: &Value) -> Option<Vec<u64>> {
    v.as_array()?.iter().map(Value::as_u64).collect()
}

/// The non-empty spans must tile `0..data_len` exactly: no overlap, no hole.
fn check_coverage(
    path: &Path,
    tensors: &BTreeMap<String, Entry>,
    data_len: usize,
) -> Result<(), LoadError> {
    let mut spans: Vec<(usize, usize, &str)> = tensors
        .iter()
        .filter(|(_, e)| e.end > e.begin)
        .map(|(n, e)| (e.begin, e.end, n.as_str()))
        .collect();
    spans.sort_unstable();
    let mut cursor = 0usize;
    let mut previous = "";
    for (begin, end, name) in spans {
        if begin < cursor {
            return Err(LoadError::Overlap {
                path: path.to_path_buf(),
                tensor: name.to_string(),
                other: previous.to_string(),
                at: begin as u64,
            });
        }
        if begin > cursor {
            return Err(LoadError::Uncovered {
                path: path.to_path_buf(),
                begin: cursor as u64,
                end: begin as u64,
            });
        }
        cursor = end;
        previous = name;
    }
    if cursor < data_len {
        return Err(LoadError::Uncovered {
            path: path.to_path_buf(),
            begin: cursor as u64,
            end: data_len as u64,
        });
    }
    Ok(())
}

/// Builds the bytes of a safetensors file from a raw JSON header and data (for tests of
/// malformed files, which no writer produces).
#[cfg(test)]
pub(crate) fn raw_file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
#[path = "safetensors_file_tests.rs"]
mod tests;
