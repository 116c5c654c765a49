//! Reading and writing the payload of FLOAT and FLOAT16 tensors.
//!
//! ONNX stores a payload either in `raw_data` (fixed-width little-endian) or in a typed
//! list: `float_data` for FLOAT, `int32_data` for FLOAT16 (one 16-bit pattern per entry).
//! `raw_data`, when present, takes precedence. Tensors with external data are refused:
//! their bytes are not in the model.

use half::f16;

use super::pb::tensor_proto::DataType;
use super::pb::TensorProto;
use super::query::is_external;
use super::OnnxError;

/// The number of elements the tensor's dims describe (1 for a scalar).
pub fn element_count(t: &TensorProto) -> Result<usize, OnnxError> {
    t.dims
        .iter()
        .try_fold(1usize, |n, &d| {
            usize::try_from(d).ok().and_then(|d| n.checked_mul(d))
        })
        .ok_or_else(|| OnnxError::Dims {
            tensor: t.name().to_string(),
            dims: t.dims.clone(),
        })
}

/// The values of a FLOAT tensor, from `raw_data` or `float_data`.
pub fn f32_values(t: &TensorProto) -> Result<Vec<f32>, OnnxError> {
    let raw = raw_or_list(
        t,
        DataType::Float,
        "float_data",
        t.float_data.len(),
        f32::from_le_bytes,
    )?;
    Ok(raw.unwrap_or_else(|| t.float_data.clone()))
}

/// The values of a FLOAT16 tensor, from `raw_data` or `int32_data` (each entry a 16-bit
/// pattern in its low bits; anything outside `0..=65535` is an error).
pub fn f16_values(t: &TensorProto) -> Result<Vec<f16>, OnnxError> {
    let list = t.int32_data.len();
    if let Some(raw) = raw_or_list(t, DataType::Float16, "int32_data", list, f16::from_le_bytes)? {
        return Ok(raw);
    }
    (t.int32_data.iter().enumerate())
        .map(|(index, &value)| {
            u16::try_from(value)
                .map(f16::from_bits)
                .map_err(|_| OnnxError::BitPattern {
                    tensor: t.name().to_string(),
                    index,
                    value,
                })
        })
        .collect()
}

/// For a tensor of type `expected` whose payload is in the model: its `raw_data` decoded
/// as `W`-byte little-endian elements when set, else `None` once the typed list `field`
/// (of `list_len` entries) is checked to hold as many elements as the dims need.
fn raw_or_list<T, const W: usize>(
    t: &TensorProto,
    expected: DataType,
    field: &'static str,
    list_len: usize,
    from_le: fn([u8; W]) -> T,
) -> Result<Option<Vec<T>>, OnnxError> {
    let n = inline_payload(t, expected)?;
    if let Some(raw) = &t.raw_data {
        return Ok(Some(raw_elements::<W>(t, raw, n)?.map(from_le).collect()));
    }
    check_len(t, field, list_len, n)?;
    Ok(None)
}

/// A FLOAT tensor named `name` of shape `dims` holding `values` in `raw_data` (the
/// compact form `torch.onnx` and `onnx.numpy_helper` write).
pub fn f32_tensor(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    raw_tensor(name, dims, DataType::Float, raw)
}

/// A FLOAT16 tensor named `name` of shape `dims` holding `values` in `raw_data`.
pub fn f16_tensor(name: &str, dims: &[i64], values: &[f16]) -> TensorProto {
    let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    raw_tensor(name, dims, DataType::Float16, raw)
}

fn raw_tensor(name: &str, dims: &[i64], data_type: DataType, raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(data_type as i32),
        raw_data: Some(raw),
        ..TensorProto::default()
    }
}

/// Checks that `t` is of type `expected` with its payload in the model; returns its
/// element count.
fn inline_payload(t: &TensorProto, expected: DataType) -> Result<usize, OnnxError> {
    let code = t.data_type.unwrap_or(DataType::Undefined as i32);
    if code != expected as i32 {
        return Err(OnnxError::DataType {
            tensor: t.name().to_string(),
            expected: format!("{expected:?}"),
            got: DataType::try_from(code)
                .map_or_else(|_| format!("unknown ({code})"), |d| format!("{d:?}")),
        });
    }
    if is_external(t) {
        return Err(OnnxError::ExternalData {
            tensor: t.name().to_string(),
            location: t.external_location().unwrap_or("?").to_string(),
        });
    }
    element_count(t)
}

/// `raw` as `n` little-endian elements of `W` bytes.
fn raw_elements<'a, const W: usize>(
    t: &TensorProto,
    raw: &'a [u8],
    n: usize,
) -> Result<impl Iterator<Item = [u8; W]> + 'a, OnnxError> {
    if n.checked_mul(W) != Some(raw.len()) {
        return Err(OnnxError::Length {
            tensor: t.name().to_string(),
            field: "raw_data",
            dims: t.dims.clone(),
            expected: n,
            found: format!("{} bytes ({W} per element)", raw.len()),
        });
    }
    Ok(raw.chunks_exact(W).map(|c| {
        let mut a = [0u8; W];
        a.copy_from_slice(c);
        a
    }))
}

fn check_len(t: &TensorProto, field: &'static str, got: usize, n: usize) -> Result<(), OnnxError> {
    if got == n {
        return Ok(());
    }
    Err(OnnxError::Length {
        tensor: t.name().to_string(),
        field,
        dims: t.dims.clone(),
        expected: n,
        found: format!("{got} elements"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_from_raw_data_and_float_data() {
        let t = f32_tensor("w", &[2, 2], &[1.0, -2.5, 0.0, 3.25]);
        assert_eq!(f32_values(&t).unwrap(), [1.0, -2.5, 0.0, 3.25]);
        let listed = TensorProto {
            raw_data: None,
            float_data: vec![1.0, -2.5, 0.0, 3.25],
            ..t.clone()
        };
        assert_eq!(f32_values(&listed).unwrap(), [1.0, -2.5, 0.0, 3.25]);
        let scalar = f32_tensor("s", &[], &[7.0]);
        assert_eq!(
            (
                element_count(&scalar).unwrap(),
                f32_values(&scalar).unwrap()
            ),
            (1, vec![7.0])
        );
    }

    #[test]
    fn f16_from_raw_data_and_int32_bit_patterns() {
        let v = [f16::from_f32(1.5), f16::from_f32(-0.25), f16::MAX];
        let t = f16_tensor("h", &[3], &v);
        assert_eq!(t.raw_data.as_ref().unwrap()[..2], 0x3e00u16.to_le_bytes());
        assert_eq!(f16_values(&t).unwrap(), v);
        let listed = TensorProto {
            raw_data: None,
            int32_data: v.iter().map(|h| i32::from(h.to_bits())).collect(),
            ..t.clone()
        };
        assert_eq!(f16_values(&listed).unwrap(), v);
        let bad = TensorProto {
            int32_data: vec![0, 70000, 0],
            ..listed
        };
        let e = f16_values(&bad).unwrap_err().to_string();
        assert_eq!(
            e,
            "tensor `h`: int32_data[1] = 70000 is not a 16-bit pattern"
        );
    }

    #[test]
    fn wrong_type_length_dims_and_external_data_are_errors() {
        let t = f32_tensor("w", &[3], &[1.0, 2.0, 3.0]);
        let e = f16_values(&t).unwrap_err().to_string();
        assert_eq!(e, "tensor `w`: element type is Float, expected Float16");
        let short = TensorProto {
            raw_data: Some(vec![0; 10]),
            ..t.clone()
        };
        let e = f32_values(&short).unwrap_err().to_string();
        assert!(
            e.contains("raw_data holds 10 bytes (4 per element), dims [3] need 3"),
            "{e}"
        );
        let listed = TensorProto {
            raw_data: None,
            float_data: vec![1.0],
            ..t.clone()
        };
        let e = f32_values(&listed).unwrap_err().to_string();
        assert!(e.contains("float_data holds 1 elements"), "{e}");
        for dims in [vec![-1], vec![i64::MAX, i64::MAX]] {
            let t = TensorProto { dims, ..t.clone() };
            assert!(matches!(f32_values(&t), Err(OnnxError::Dims { .. })));
        }
        let ext = TensorProto {
            raw_data: None,
            data_location: Some(super::super::pb::tensor_proto::DataLocation::External as i32),
            ..t.clone()
        };
        let e = f32_values(&ext).unwrap_err().to_string();
        assert_eq!(
            e,
            "tensor `w`: data is stored externally (in `?`), not in the model"
        );
        let untyped = TensorProto {
            data_type: None,
            ..t
        };
        let e = f32_values(&untyped).unwrap_err().to_string();
        assert!(e.contains("element type is Undefined"), "{e}");
    }
}
