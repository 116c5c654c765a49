//! A `.npy` array over a memory map (format versions 1.0, 2.0 and 3.0).
//!
//! Layout: magic `\x93NUMPY`, major and minor version bytes, the header length (`u16` LE in
//! v1, `u32` LE in v2/v3), then a Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }` padded with spaces, then the
//! raw array. Little-endian (or byte-order-free) numeric types are read; both C and Fortran
//! order are supported.

use std::path::{Path, PathBuf};

use super::dtype::Dtype;
use super::error::LoadError;
use super::mapped::{map_file, FileBytes};
use super::tensor_view::TensorView;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// An open, validated `.npy` file.
#[derive(Debug)]
pub struct NpyFile {
    path: PathBuf,
    name: String,
    map: FileBytes,
    header: NpyHeader,
}

#[derive(Debug, Clone, PartialEq)]
struct NpyHeader {
    dtype: Dtype,
    shape: Vec<usize>,
    fortran_order: bool,
    data_start: usize,
}

impl NpyFile {
    /// Maps and validates `path`; the tensor is named after the file stem (`features.npy` →
    /// `features`).
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        Self::new(path, map_file(path)?)
    }

    /// Validates the whole contents of a `.npy` file already in memory, with the same
    /// checks as [`NpyFile::open`]; `path` names the file in errors and the tensor.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, LoadError> {
        Self::new(path, FileBytes::Owned(bytes))
    }

    fn new(path: &Path, map: FileBytes) -> Result<Self, LoadError> {
        let header = parse(path, &map)?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(NpyFile {
            path: path.to_path_buf(),
            name,
            map,
            header,
        })
    }

    /// The array as a tensor view.
    pub fn view(&self) -> TensorView<'_> {
        TensorView {
            path: &self.path,
            name: &self.name,
            dtype: &self.header.dtype,
            shape: &self.header.shape,
            fortran_order: self.header.fortran_order,
            // In bounds: `parse` checked that the data runs exactly to the end of the file.
            bytes: &self.map[self.header.data_start..],
        }
    }

    /// Drops the mapped pages of `bytes` (part of the array, already decoded) from memory;
    /// see [`TensorView::to_f32_matrix_releasing`].
    pub fn release(&self, bytes: &[u8]) {
        self.map.release(bytes);
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<NpyHeader, LoadError> {
    let err = |reason: String| LoadError::Npy {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(err(format!(
            "does not start with the .npy magic `\\x93NUMPY` ({} bytes)",
            bytes.len()
        )));
    }
    let major = bytes[6];
    let (header_len, header_start) = match major {
        1 => (
            usize::from(u16::from_le_bytes([bytes[8], bytes[9]])),
            10usize,
        ),
        2 | 3 => {
            let Some(b) = bytes.get(8..12) else {
                return Err(err("truncated before the header length".to_string()));
            };
            let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            (n as usize, 12)
        }
        v => {
            return Err(err(format!(
                "format version {v}.x is not supported (1, 2 or 3)"
            )))
        }
    };
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            err(format!(
                "header of {header_len} bytes runs past the end of the file ({} bytes)",
                bytes.len()
            ))
        })?;
    let text = std::str::from_utf8(&bytes[header_start..data_start])
        .map_err(|e| err(format!("header is not UTF-8 text: {e}")))?;
    let fields = parse_dict(text).map_err(|r| err(format!("header `{}`: {r}", text.trim())))?;
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .ok_or_else(|| err(format!("header has no `{key}`")))
    };
    let PyValue::Str(descr) = get("descr")? else {
        return Err(err(
            "`descr` is not a string (structured dtypes are not supported)".to_string(),
        ));
    };
    let dtype = parse_descr(descr).map_err(&err)?;
    let PyValue::Bool(fortran_order) = *get("fortran_order")? else {
        return Err(err("`fortran_order` is not True or False".to_string()));
    };
    let PyValue::Tuple(dims) = get("shape")? else {
        return Err(err("`shape` is not a tuple".to_string()));
    };
    let shape: Vec<usize> = dims.clone();
    let size = dtype.size().unwrap_or(0);
    let expected = shape
        .iter()
        .try_fold(size, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err(format!("shape {shape:?} overflows the byte count")))?;
    let got = bytes.len() - data_start;
    if got != expected {
        return Err(err(format!(
            "{} {shape:?} needs {expected} bytes of data, the file has {got}",
            dtype.name()
        )));
    }
    Ok(NpyHeader {
        dtype,
        shape,
        fortran_order,
        data_start,
    })
}

/// Maps a numpy type string such as `<f4` or `|u1` to a [`Dtype`].
fn parse_descr(descr: &str) -> Result<Dtype, String> {
    let (order, code) = descr.split_at_checked(1).unwrap_or(("", descr));
    let little = cfg!(target_endian = "little");
    match order {
        "<" | "|" => {}
        "=" if little => {}
        ">" | "=" => {
            return Err(format!(
                "dtype `{descr}` is big-endian; save the array little-endian (`.astype('<{code}')`)"
            ))
        }
        _ => return Err(format!("dtype `{descr}` has no byte-order mark")),
    }
    Ok(match code {
        "f2" => Dtype::F16,
        "f4" => Dtype::F32,
        "f8" => Dtype::F64,
        "i1" => Dtype::I8,
        "i2" => Dtype::I16,
        "i4" => Dtype::I32,
        "i8" => Dtype::I64,
        "u1" => Dtype::U8,
        "u2" => Dtype::U16,
        "u4" => Dtype::U32,
        "u8" => Dtype::U64,
        "b1" => Dtype::Bool,
        _ => return Err(format!("dtype `{descr}` is not supported")),
    })
}

/// A value in the header dict.
#[derive(Debug, Clone, PartialEq)]
enum PyValue {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses the flat Python dict literal of a `.npy` header.
fn parse_dict(text: &str) -> Result<Vec<(String, PyValue)>, String> {
    let mut p = Cursor {
        s: text.trim().as_bytes(),
        i: 0,
    };
    p.expect(b'{')?;
    let mut out = Vec::new();
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.skip_ws();
        p.expect(b':')?;
        p.skip_ws();
        let value = p.value()?;
        out.push((key, value));
        p.skip_ws();
        if !p.eat(b',') {
            p.skip_ws();
            p.expect(b'}')?;
            break;
        }
    }
    p.skip_ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text after the dict at byte {}", p.i));
    }
    Ok(out)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.i))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("expected a quoted string at byte {}", self.i)),
        };
        self.i += 1;
        let start = self.i;
        while self.peek().is_some_and(|c| c != quote) {
            self.i += 1;
        }
        let s = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
        self.expect(quote)?;
        Ok(s.to_string())
    }

    fn word(&mut self) -> &str {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.i += 1;
        }
        // ASCII alphanumerics only, hence UTF-8.
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default()
    }

    fn value(&mut self) -> Result<PyValue, String> {
        match self.peek() {
            Some(b'\'' | b'"') => self.string().map(PyValue::Str),
            Some(b'(') => {
                self.i += 1;
                let mut dims = Vec::new();
                loop {
                    self.skip_ws();
                    if self.eat(b')') {
                        break;
                    }
                    let at = self.i;
                    let w = self.word();
                    // Python 2 wrote longs as `3L`.
                    let digits = w.strip_suffix('L').unwrap_or(w);
                    let d = digits
                        .parse::<usize>()
                        .map_err(|_| format!("shape entry `{w}` at byte {at} is not a size"))?;
                    dims.push(d);
                    self.skip_ws();
                    if !self.eat(b',') {
                        self.skip_ws();
                        self.expect(b')')?;
                        break;
                    }
                }
                Ok(PyValue::Tuple(dims))
            }
            _ => {
                let at = self.i;
                match self.word() {
                    "True" => Ok(PyValue::Bool(true)),
                    "False" => Ok(PyValue::Bool(false)),
                    w => Err(format!("unexpected value `{w}` at byte {at}")),
                }
            }
        }
    }
}

/// Bytes of a `.npy` v1 file (for tests).
#[cfg(test)]
pub(crate) fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let f = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {tuple}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(bytes: &[u8]) -> Result<NpyHeader, LoadError> {
        parse(Path::new("a.npy"), bytes)
    }

    #[test]
    fn v1_header_parses() {
        let h = p(&npy_bytes("<f4", false, &[2, 3], &[0; 24])).unwrap();
        assert_eq!(h.dtype, Dtype::F32);
        assert_eq!(h.shape, [2, 3]);
        assert!(!h.fortran_order);
        assert_eq!(h.data_start % 64, 0);
    }

    #[test]
    fn v2_header_and_python2_longs() {
        let header = "{'descr': '|u1', 'fortran_order': True, 'shape': (2L, 1L)}\n";
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[2, 0]);
        b.extend_from_slice(&(header.len() as u32).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(&[7, 8]);
        let h = p(&b).unwrap();
        assert_eq!(
            (h.dtype, h.shape, h.fortran_order),
            (Dtype::U8, vec![2, 1], true)
        );
    }

    #[test]
    fn scalar_shape() {
        let h = p(&npy_bytes("<i8", false, &[], &[0; 8])).unwrap();
        assert!(h.shape.is_empty());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let e = |b: &[u8]| p(b).unwrap_err().to_string();
        assert!(e(b"hello world").contains("magic"));
        assert!(e(&npy_bytes(">f4", false, &[1], &[0; 4])).contains("big-endian"));
        assert!(e(&npy_bytes("<c8", false, &[1], &[0; 8])).contains("not supported"));
        assert!(e(&npy_bytes("<f4", false, &[2], &[0; 4])).contains("needs 8 bytes"));
        assert!(e(&npy_bytes("<f4", false, &[2], &[0; 12])).contains("the file has 12"));
        let mut b = npy_bytes("<f4", false, &[1], &[0; 4]);
        b[6] = 9;
        assert!(e(&b).contains("version 9"));
        let mut b = npy_bytes("<f4", false, &[1], &[0; 4]);
        b.truncate(20);
        assert!(e(&b).contains("past the end"));
    }

    #[test]
    fn mutated_and_truncated_files_never_panic() {
        let good = npy_bytes("<f4", false, &[2, 3], &[1; 24]);
        assert!(p(&good).is_ok());
        for i in 0..good.len() {
            for b in [0u8, 0xff, b'\'', b'(', b')', b'9', b','] {
                let mut m = good.clone();
                m[i] = b;
                let _ = p(&m);
            }
            assert!(p(&good[..i]).is_err(), "truncated at {i}");
        }
    }

    #[test]
    fn dict_parser_rejects_garbage() {
        assert!(parse_dict("{'a': nope}").is_err());
        assert!(parse_dict("{'shape': (1, x)}").is_err());
        assert!(parse_dict("{'a': True} trailing").is_err());
        assert_eq!(
            parse_dict("{\"shape\": (), }").unwrap(),
            vec![("shape".to_string(), PyValue::Tuple(vec![]))]
        );
    }
}
