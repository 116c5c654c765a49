//! Element types of stored tensors and their little-endian decoding.
//!
//! Bytes are decoded from fixed-size chunks (`from_le_bytes`), so a tensor may start at any
//! byte offset: nothing here assumes the memory map is aligned.

use half::{bf16, f16};

/// The element type of a stored tensor, with safetensors' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dtype {
    /// Boolean, one byte.
    Bool,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 32-bit integer.
    U32,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 64-bit integer.
    U64,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
    /// Any other type (8-bit and sub-byte floats, complex ...); never decoded.
    Other {
        /// Its name as written in the file.
        name: String,
        /// Bytes per element, when whole.
        size: Option<usize>,
    },
}

/// What a float tensor (features, logits, head weights) may be stored as.
pub const FLOAT_DTYPES: &str = "F32, F16, BF16 or F64";
/// What a label tensor may be stored as.
pub const INT_DTYPES: &str = "an integer type (I64, I32, I16, I8, U32, U16 or U8)";

impl Dtype {
    /// The type named `name` in a safetensors header.
    pub fn from_safetensors(name: &str) -> Dtype {
        match name {
            "BOOL" => Dtype::Bool,
            "U8" => Dtype::U8,
            "I8" => Dtype::I8,
            "I16" => Dtype::I16,
            "U16" => Dtype::U16,
            "I32" => Dtype::I32,
            "U32" => Dtype::U32,
            "I64" => Dtype::I64,
            "U64" => Dtype::U64,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "F32" => Dtype::F32,
            "F64" => Dtype::F64,
            other => Dtype::Other {
                name: other.to_string(),
                size: match other {
                    "F8_E5M2" | "F8_E4M3" | "F8_E8M0" | "F8_E4M3FNUZ" | "F8_E5M2FNUZ" => Some(1),
                    "C64" => Some(8),
                    _ => None,
                },
            },
        }
    }

    /// The safetensors name.
    pub fn name(&self) -> &str {
        match self {
            Dtype::Bool => "BOOL",
            Dtype::U8 => "U8",
            Dtype::I8 => "I8",
            Dtype::I16 => "I16",
            Dtype::U16 => "U16",
            Dtype::I32 => "I32",
            Dtype::U32 => "U32",
            Dtype::I64 => "I64",
            Dtype::U64 => "U64",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
            Dtype::Other { name, .. } => name,
        }
    }

    /// Bytes per element; `None` for types that are not a whole number of bytes or unknown.
    pub fn size(&self) -> Option<usize> {
        Some(match self {
            Dtype::Bool | Dtype::U8 | Dtype::I8 => 1,
            Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::BF16 => 2,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::U64 | Dtype::F64 => 8,
            Dtype::Other { size, .. } => return *size,
        })
    }

    /// Decodes little-endian floats to f32 (f16 and bf16 exactly, f64 rounded);
    /// `None` when this is not a float type. `bytes` must be a whole number of elements
    /// (trailing bytes are ignored).
    pub fn decode_f32(&self, bytes: &[u8]) -> Option<Vec<f32>> {
        let mut out = Vec::new();
        self.decode_f32_into(bytes, &mut out)?;
        Some(out)
    }

    /// [`Dtype::decode_f32`], appending to `out` (so that a large tensor can be decoded
    /// block by block into one allocation); `None`, with `out` unchanged, for a non-float type.
    pub fn decode_f32_into(&self, bytes: &[u8], out: &mut Vec<f32>) -> Option<()> {
        match self {
            Dtype::F32 => extend(bytes, out, f32::from_le_bytes),
            Dtype::F16 => extend(bytes, out, |b| f16::from_le_bytes(b).to_f32()),
            Dtype::BF16 => extend(bytes, out, |b| bf16::from_le_bytes(b).to_f32()),
            Dtype::F64 => extend(bytes, out, |b| f64::from_le_bytes(b) as f32),
            _ => return None,
        }
        Some(())
    }

    /// Decodes little-endian integers to i64; `None` when this is not an integer type that
    /// fits in i64 (U64 does not).
    pub fn decode_i64(&self, bytes: &[u8]) -> Option<Vec<i64>> {
        Some(match self {
            Dtype::I64 => collect(bytes, i64::from_le_bytes),
            Dtype::I32 => collect(bytes, |b| i64::from(i32::from_le_bytes(b))),
            Dtype::I16 => collect(bytes, |b| i64::from(i16::from_le_bytes(b))),
            Dtype::I8 => collect(bytes, |b: [u8; 1]| i64::from(b[0] as i8)),
            Dtype::U32 => collect(bytes, |b| i64::from(u32::from_le_bytes(b))),
            Dtype::U16 => collect(bytes, |b| i64::from(u16::from_le_bytes(b))),
            Dtype::U8 => collect(bytes, |b: [u8; 1]| i64::from(b[0])),
            _ => return None,
        })
    }
}

/// One allocation: decodes every whole `N`-byte chunk with `f`.
fn collect<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    let mut out = Vec::new();
    extend(bytes, &mut out, f);
    out
}

/// Appends every whole `N`-byte chunk decoded with `f` to `out`, growing it at most once.
fn extend<const N: usize, T>(bytes: &[u8], out: &mut Vec<T>, f: impl Fn([u8; N]) -> T) {
    let (chunks, _) = bytes.as_chunks::<N>();
    out.reserve_exact(chunks.len());
    out.extend(chunks.iter().map(|c| f(*c)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_types_decode_exactly() {
        let vals = [1.5f32, -0.25, 65504.0, 0.0];
        let f16_bytes: Vec<u8> = vals
            .iter()
            .flat_map(|&v| f16::from_f32(v).to_le_bytes())
            .collect();
        assert_eq!(Dtype::F16.decode_f32(&f16_bytes).unwrap(), vals);
        let bf_vals = [1.5f32, -0.25, 3.0e38, 0.0];
        let bf16_bytes: Vec<u8> = bf_vals
            .iter()
            .flat_map(|&v| bf16::from_f32(v).to_le_bytes())
            .collect();
        let got = Dtype::BF16.decode_f32(&bf16_bytes).unwrap();
        assert_eq!(&got[..2], &bf_vals[..2]);
        assert!((got[2] - 3.0e38).abs() / 3.0e38 < 1e-2);
    }

    #[test]
    fn unaligned_bytes_decode() {
        // Put the floats at an odd offset to make sure nothing assumes alignment.
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&1.25f32.to_le_bytes());
        bytes.extend_from_slice(&(-7.0f32).to_le_bytes());
        assert_eq!(Dtype::F32.decode_f32(&bytes[1..]).unwrap(), [1.25, -7.0]);
    }

    #[test]
    fn integers_widen_with_sign() {
        assert_eq!(Dtype::I8.decode_i64(&[0xff, 2]).unwrap(), [-1, 2]);
        assert_eq!(Dtype::U8.decode_i64(&[0xff]).unwrap(), [255]);
        let b: Vec<u8> = (-3i32).to_le_bytes().to_vec();
        assert_eq!(Dtype::I32.decode_i64(&b).unwrap(), [-3]);
        assert!(Dtype::F32.decode_i64(&b).is_none());
        assert!(Dtype::I64.decode_f32(&[0; 8]).is_none());
        assert!(Dtype::U64.decode_i64(&[0; 8]).is_none());
    }

    #[test]
    fn names_round_trip() {
        for n in [
            "BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "BF16", "F32",
            "F64", "F8_E4M3",
        ] {
            assert_eq!(Dtype::from_safetensors(n).name(), n);
        }
        assert_eq!(Dtype::from_safetensors("F8_E4M3").size(), Some(1));
        assert_eq!(Dtype::from_safetensors("F4").size(), None);
    }
}
