//! A validated, borrowed tensor from either a safetensors or a `.npy` file, and its
//! conversion to ndarray arrays with the file and tensor named in every error.

use std::path::Path;

use ndarray::{Array1, Array2, ShapeBuilder};

use super::dtype::{Dtype, FLOAT_DTYPES, INT_DTYPES};
use super::error::LoadError;

/// Bytes decoded between two calls of the `release` hook of
/// [`TensorView::to_f32_matrix_releasing`] (8 MiB).
pub const RELEASE_BLOCK: usize = 8 << 20;

/// A tensor whose bytes have been checked against its dtype and shape.
#[derive(Debug, Clone)]
pub struct TensorView<'a> {
    /// The file it lives in.
    pub path: &'a Path,
    /// Its name (key in a safetensors file, stem of a `.npy` file).
    pub name: &'a str,
    /// Element type.
    pub dtype: &'a Dtype,
    /// Shape; the product equals the number of elements in `bytes`.
    pub shape: &'a [usize],
    /// `true` for a column-major `.npy` array (safetensors are always row-major).
    pub fortran_order: bool,
    /// Exactly `numel × dtype size` bytes.
    pub bytes: &'a [u8],
}

impl TensorView<'_> {
    fn shape_error(&self, expected: &str) -> LoadError {
        LoadError::Shape {
            path: self.path.to_path_buf(),
            tensor: self.name.to_string(),
            expected: expected.to_string(),
            got: self.shape.to_vec(),
        }
    }

    fn dtype_error(&self, expected: &str) -> LoadError {
        LoadError::Dtype {
            path: self.path.to_path_buf(),
            tensor: self.name.to_string(),
            expected: expected.to_string(),
            got: self.dtype.name().to_string(),
        }
    }

    /// Decodes the floats (one allocation), in storage order.
    pub fn to_f32_vec(&self) -> Result<Vec<f32>, LoadError> {
        self.dtype
            .decode_f32(self.bytes)
            .ok_or_else(|| self.dtype_error(FLOAT_DTYPES))
    }

    /// A rank-2 float tensor as a row-major `[rows, cols]` f32 array. `expected` describes
    /// the required shape in errors (e.g. `[N, D]`).
    pub fn to_f32_matrix(&self, expected: &str) -> Result<Array2<f32>, LoadError> {
        self.to_f32_matrix_releasing(expected, &|_| {})
    }

    /// [`TensorView::to_f32_matrix`], decoding `RELEASE_BLOCK` bytes at a time into the one
    /// output allocation and passing each decoded block to `release` (for a memory-mapped
    /// file: [`SafetensorsFile::release`](super::SafetensorsFile::release) or
    /// [`NpyFile::release`](super::NpyFile::release)), so that the file's pages do not stay
    /// resident beside the array: peak memory is the array plus one block, not twice the
    /// tensor.
    pub fn to_f32_matrix_releasing(
        &self,
        expected: &str,
        release: &dyn Fn(&[u8]),
    ) -> Result<Array2<f32>, LoadError> {
        let &[rows, cols] = self.shape else {
            return Err(self.shape_error(expected));
        };
        let size = self
            .dtype
            .size()
            .ok_or_else(|| self.dtype_error(FLOAT_DTYPES))?;
        // A whole number of elements per block, so no element straddles two blocks.
        let step = (RELEASE_BLOCK / size).max(1) * size;
        let mut data = Vec::with_capacity(self.bytes.len() / size);
        let mut rest = self.bytes;
        loop {
            // At least one call, so that an empty tensor of a non-float type is an error too.
            let (block, tail) = rest.split_at(rest.len().min(step));
            self.dtype
                .decode_f32_into(block, &mut data)
                .ok_or_else(|| self.dtype_error(FLOAT_DTYPES))?;
            release(block);
            rest = tail;
            if rest.is_empty() {
                break;
            }
        }
        if self.fortran_order {
            let a = Array2::from_shape_vec((rows, cols).f(), data)
                .map_err(|_| self.shape_error(expected))?;
            // A second allocation, only for column-major `.npy` input.
            Ok(a.as_standard_layout().into_owned())
        } else {
            Array2::from_shape_vec((rows, cols), data).map_err(|_| self.shape_error(expected))
        }
    }

    /// A rank-1 float tensor as an f32 array.
    pub fn to_f32_vector(&self, expected: &str) -> Result<Array1<f32>, LoadError> {
        if self.shape.len() != 1 {
            return Err(self.shape_error(expected));
        }
        Ok(Array1::from(self.to_f32_vec()?))
    }

    /// A rank-1 integer tensor widened to i64.
    pub fn to_i64_vector(&self, expected: &str) -> Result<Vec<i64>, LoadError> {
        if self.shape.len() != 1 {
            return Err(self.shape_error(expected));
        }
        self.dtype
            .decode_i64(self.bytes)
            .ok_or_else(|| self.dtype_error(INT_DTYPES))
    }
}

/// Errors on the first NaN or infinity, naming its row and column.
pub(crate) fn check_finite(path: &Path, tensor: &str, a: &Array2<f32>) -> Result<(), LoadError> {
    for (row, r) in a.rows().into_iter().enumerate() {
        if let Some((col, &value)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(LoadError::NonFinite {
                path: path.to_path_buf(),
                tensor: tensor.to_string(),
                row,
                col,
                value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(dtype: &'a Dtype, shape: &'a [usize], bytes: &'a [u8], f: bool) -> TensorView<'a> {
        TensorView {
            path: Path::new("x.safetensors"),
            name: "t",
            dtype,
            shape,
            fortran_order: f,
            bytes,
        }
    }

    #[test]
    fn fortran_order_is_transposed_to_rows() {
        // Column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
        let bytes: Vec<u8> = [1f32, 4., 2., 5., 3., 6.]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = view(&Dtype::F32, &[2, 3], &bytes, true)
            .to_f32_matrix("[N, D]")
            .unwrap();
        assert_eq!(a, ndarray::array![[1., 2., 3.], [4., 5., 6.]]);
        assert!(a.is_standard_layout());
    }

    #[test]
    fn releasing_decode_hands_over_every_block_once() {
        // 2.5 blocks of f16: three blocks, each a whole number of elements.
        let n = RELEASE_BLOCK * 5 / 4;
        let bytes: Vec<u8> = (0..n)
            .flat_map(|i| half::f16::from_f32((i % 2048) as f32 - 1024.0).to_le_bytes())
            .collect();
        let shape = [n / 64, 64];
        let v = view(&Dtype::F16, &shape, &bytes, false);
        let seen = std::cell::RefCell::new(Vec::new());
        let a = v
            .to_f32_matrix_releasing("[N, D]", &|b| seen.borrow_mut().push(b.len()))
            .unwrap();
        assert_eq!(
            *seen.borrow(),
            [
                RELEASE_BLOCK,
                RELEASE_BLOCK,
                bytes.len() - 2 * RELEASE_BLOCK
            ]
        );
        assert_eq!(a.as_slice().unwrap(), &v.to_f32_vec().unwrap()[..]);
        assert_eq!(a[[n / 64 - 1, 63]], ((n - 1) % 2048) as f32 - 1024.0);
        // An empty tensor of a non-float type is still a dtype error.
        let e = view(&Dtype::U8, &[0, 4], &[], false)
            .to_f32_matrix_releasing("[N, D]", &|_| {})
            .unwrap_err();
        assert!(matches!(e, LoadError::Dtype { .. }), "{e}");
    }

    #[test]
    fn rank_and_dtype_errors_name_tensor() {
        let bytes = [0u8; 8];
        let e = view(&Dtype::F32, &[2], &bytes, false)
            .to_f32_matrix("[N, D]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.safetensors") && e.contains("`t`") && e.contains("[N, D]"),
            "{e}"
        );
        let e = view(&Dtype::U8, &[8], &bytes, false)
            .to_f32_vector("[C]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("U8") && e.contains("F32"), "{e}");
    }

    #[test]
    fn first_non_finite_row_is_named() {
        let a = ndarray::array![[0.0f32, 1.0], [2.0, f32::NAN], [f32::INFINITY, 0.0]];
        let e = check_finite(Path::new("f.safetensors"), "features", &a).unwrap_err();
        assert!(
            matches!(e, LoadError::NonFinite { row: 1, col: 1, .. }),
            "{e}"
        );
    }
}
