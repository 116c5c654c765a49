//! A deterministic safetensors encoder, the one writer of every `.safetensors` output.
//!
//! The `safetensors` crate keeps `__metadata__` in a `HashMap`, so two runs that
//! write the same tensors and metadata can produce different bytes. Our outputs
//! must be byte-identical for the same inputs and seed, so we encode the (simple)
//! format ourselves: an 8-byte little-endian header length, a JSON header with
//! `__metadata__` first and tensors in name order, padded with spaces to a multiple
//! of 8, then the tensors' little-endian bytes in the same order.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// The values of a tensor to write, in one of the dtypes our outputs use.
#[derive(Debug, Clone, Copy)]
pub enum TensorData<'a> {
    /// Written as `F32`.
    F32(&'a [f32]),
    /// Written as `F64`.
    F64(&'a [f64]),
    /// Written as `I64`.
    I64(&'a [i64]),
    /// Written as `U8`.
    U8(&'a [u8]),
}

impl TensorData<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::U8(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The safetensors dtype name and the size of one value in bytes.
    fn dtype(&self) -> (&'static str, usize) {
        match self {
            TensorData::F32(_) => ("F32", 4),
            TensorData::F64(_) => ("F64", 8),
            TensorData::I64(_) => ("I64", 8),
            TensorData::U8(_) => ("U8", 1),
        }
    }

    /// Appends the values, little-endian.
    fn extend_le(&self, out: &mut Vec<u8>) {
        match self {
            TensorData::F32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            TensorData::F64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            TensorData::I64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            TensorData::U8(v) => out.extend_from_slice(v),
        }
    }
}

/// One tensor to write.
#[derive(Debug, Clone)]
pub struct TensorOut<'a> {
    /// Tensor name (key in the header).
    pub name: &'a str,
    /// Shape; the product must match the number of values.
    pub shape: Vec<usize>,
    /// Values.
    pub data: TensorData<'a>,
}

impl<'a> TensorOut<'a> {
    /// An `F32` tensor.
    pub fn f32(name: &'a str, shape: Vec<usize>, data: &'a [f32]) -> Self {
        TensorOut {
            name,
            shape,
            data: TensorData::F32(data),
        }
    }
}

/// Encodes tensors (sorted by name) and string metadata as safetensors bytes.
/// Each tensor's shape must describe its data (checked in debug builds).
pub fn encode_safetensors(
    tensors: &[TensorOut<'_>],
    metadata: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut sorted: Vec<&TensorOut<'_>> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(b.name));

    let mut header = Map::new();
    if !metadata.is_empty() {
        let meta: Map<String, Value> = metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        header.insert("__metadata__".into(), Value::Object(meta));
    }
    let mut offset = 0usize;
    for t in &sorted {
        debug_assert_eq!(
            t.shape.iter().product::<usize>(),
            t.data.len(),
            "{}",
            t.name
        );
        let (dtype, size) = t.data.dtype();
        let end = offset + t.data.len() * size;
        header.insert(
            t.name.to_string(),
            json!({"dtype": dtype, "shape": t.shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut header_bytes = Value::Object(header).to_string().into_bytes();
    header_bytes.resize(header_bytes.len().next_multiple_of(8), b' ');

    let mut out = Vec::with_capacity(8 + header_bytes.len() + offset);
    out.extend_from_slice(&(header_bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&header_bytes);
    for t in &sorted {
        t.data.extend_le(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_safetensors_crate() {
        let a = [1.0f32, -2.5, 3.25, 0.0, 7.0, 1e-7];
        let b = [42.0f32];
        let meta = BTreeMap::from([
            ("zeta".to_string(), "1".to_string()),
            ("alpha".to_string(), "x".to_string()),
        ]);
        let bytes = encode_safetensors(
            &[
                TensorOut::f32("w", vec![2, 3], &a),
                TensorOut::f32("b", vec![1], &b),
            ],
            &meta,
        );
        let (_, parsed_meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let w = st.tensor("w").unwrap();
        assert_eq!(w.shape(), &[2, 3]);
        let got: Vec<f32> = w
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(got, a);
        assert_eq!(
            parsed_meta
                .metadata()
                .as_ref()
                .unwrap()
                .get("zeta")
                .map(String::as_str),
            Some("1")
        );
    }

    #[test]
    fn identical_inputs_give_identical_bytes_whatever_the_order() {
        let a = [1.0f32, 2.0];
        let m1 = BTreeMap::from([("k1".into(), "v".into()), ("k2".into(), "w".into())]);
        let x = encode_safetensors(
            &[
                TensorOut::f32("a", vec![2], &a),
                TensorOut::f32("b", vec![2], &a),
            ],
            &m1,
        );
        let y = encode_safetensors(
            &[
                TensorOut::f32("b", vec![2], &a),
                TensorOut::f32("a", vec![2], &a),
            ],
            &m1,
        );
        assert_eq!(x, y);
        assert_eq!((x.len() - 8 - 16) % 8, 0);
    }
}
