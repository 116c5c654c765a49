//! Finding the checkpoint's head matrices among a graph's constant tensors.
//!
//! Candidates are the main graph's initializers and the `value` tensors of its `Constant`
//! nodes, of element type FLOAT or FLOAT16, with two dimensions equal to the head matrix's
//! `[out, in]` (as stored, as `nn.Linear` keeps it) or `[in, out]` (transposed, what an
//! exporter writes for `MatMul`). A candidate matches when `max |x − w| ≤ tolerance(w)`.
//!
//! **Tolerance.** The checkpoint's head is merged here in f32 (`W + s·B·A`, LoRA); an
//! exporter merges the same factors in another order or precision and rounds to the stored
//! type. Each element then differs by the rounding to the stored type, at most
//! `u·|w|` (`u` = unit roundoff: 2⁻²⁴ for f32, 2⁻¹¹ for f16), plus the rounding of the
//! merge itself, a few f32 ulps of the largest term. So
//! `tolerance = max|w| · (u_stored + 16 · ε_f32)` (ε_f32 = 2⁻²³): 16 ulps of the largest
//! weight for f32 (the fixtures' exports differ by ≤ 1 ulp), about 1e-3 · max|w| for f16.
//! An unrelated matrix of real weights misses this by orders of magnitude in some element.

use ndarray::Array2;

use crate::onnx::pb::{DataType, GraphProto, TensorProto};
use crate::onnx::tensor_data::{f16_values, f32_values};
use crate::onnx::OnnxError;

/// Merge rounding allowed beyond the stored type's own rounding, in f32 ulps of `max|w|`.
pub const MERGE_ULPS: f32 = 16.0;

/// A float element type a head matrix may be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FloatType {
    /// `FLOAT` (IEEE f32).
    F32,
    /// `FLOAT16` (IEEE half).
    F16,
}

impl FloatType {
    /// The type of an ONNX `data_type` / `elem_type` code, if it is one of ours.
    pub fn from_code(code: i32) -> Option<FloatType> {
        match DataType::try_from(code) {
            Ok(DataType::Float) => Some(FloatType::F32),
            Ok(DataType::Float16) => Some(FloatType::F16),
            _ => None,
        }
    }

    /// The ONNX `elem_type` code.
    pub fn code(self) -> i32 {
        match self {
            FloatType::F32 => DataType::Float as i32,
            FloatType::F16 => DataType::Float16 as i32,
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            FloatType::F32 => "f32",
            FloatType::F16 => "f16",
        }
    }

    /// Unit roundoff of the type (half its machine epsilon).
    pub fn unit_roundoff(self) -> f32 {
        match self {
            FloatType::F32 => f32::EPSILON / 2.0,
            FloatType::F16 => half::f16::EPSILON.to_f32() / 2.0,
        }
    }
}

/// The largest `max |x − w|` at which a tensor of type `dtype` counts as equal to `w`
/// (see the module documentation).
pub fn tolerance(w: &Array2<f32>, dtype: FloatType) -> f32 {
    let scale = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    scale * (dtype.unit_roundoff() + MERGE_ULPS * f32::EPSILON)
}

/// A constant tensor of the graph that could hold a head matrix.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The name nodes refer to it by (initializer name, or the `Constant`'s output).
    pub name: &'a str,
    /// The tensor.
    pub tensor: &'a TensorProto,
    /// Its element type.
    pub dtype: FloatType,
}

/// Every 2-D float initializer and `Constant` value of the main graph.
pub fn candidates(graph: &GraphProto) -> Vec<Candidate<'_>> {
    let from_initializers = graph.initializer.iter().map(|t| (t.name(), t));
    let from_constants = graph
        .node
        .iter()
        .filter(|n| n.op_type() == "Constant" && n.domain().is_empty())
        .filter_map(|n| {
            let value = n
                .attribute
                .iter()
                .find(|a| a.name() == "value")?
                .t
                .as_ref()?;
            Some((n.output.first()?.as_str(), value))
        });
    from_initializers
        .chain(from_constants)
        .filter(|(_, t)| t.dims.len() == 2)
        .filter_map(|(name, tensor)| {
            let dtype = FloatType::from_code(tensor.data_type?)?;
            Some(Candidate {
                name,
                tensor,
                dtype,
            })
        })
        .collect()
}

/// How close a candidate of the right shape is to the head matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The candidate's name.
    pub name: String,
    /// Its dims.
    pub dims: Vec<i64>,
    /// Its element type.
    pub dtype: FloatType,
    /// `max |x − w|` read as stored (`[out, in]`), when the shape allows it.
    pub as_stored: Option<f32>,
    /// `max |x − wᵀ|` read as transposed (`[in, out]`), when the shape allows it.
    pub transposed: Option<f32>,
    /// The tolerance for its element type.
    pub tolerance: f32,
}

impl Comparison {
    /// The smaller of the two differences (NaN counts as infinite).
    pub fn best(&self) -> f32 {
        let d = |x: Option<f32>| x.filter(|v| !v.is_nan()).unwrap_or(f32::INFINITY);
        d(self.as_stored).min(d(self.transposed))
    }

    /// Whether the candidate equals `w` read in this orientation.
    pub fn matches(&self, transposed: bool) -> bool {
        let diff = if transposed {
            self.transposed
        } else {
            self.as_stored
        };
        diff.is_some_and(|d| d <= self.tolerance)
    }

    /// Whether it equals `w` in either orientation.
    pub fn matches_any(&self) -> bool {
        self.matches(false) || self.matches(true)
    }

    /// `name [dims] dtype, max abs diff d (tolerance t)` for messages.
    pub fn describe(&self) -> String {
        format!(
            "`{}` {:?} {}: max abs diff {:.3e} (tolerance {:.1e})",
            self.name,
            self.dims,
            self.dtype.name(),
            self.best(),
            self.tolerance
        )
    }
}

/// Compares `c` with `w` (`[out, in]`) in every orientation its shape allows; `None` when
/// the shape fits neither. Reading the payload can fail (a malformed tensor).
pub fn compare(w: &Array2<f32>, c: &Candidate<'_>) -> Result<Option<Comparison>, OnnxError> {
    let (rows, cols) = (w.nrows() as i64, w.ncols() as i64);
    let dims = c.tensor.dims.as_slice();
    let stored = dims == [rows, cols];
    let transposed = dims == [cols, rows];
    if !stored && !transposed {
        return Ok(None);
    }
    let values = match c.dtype {
        FloatType::F32 => f32_values(c.tensor)?,
        FloatType::F16 => f16_values(c.tensor)?
            .into_iter()
            .map(half::f16::to_f32)
            .collect(),
    };
    let ncols = w.ncols();
    // Element (i, j) of the stored [out, in] layout is values[i·in + j]; of the transposed
    // [in, out] layout, values[j·out + i].
    let max_diff = |index: &dyn Fn(usize, usize) -> usize| {
        w.indexed_iter().fold(0.0f32, |m, ((i, j), &v)| {
            let d = (values[index(i, j)] - v).abs();
            if d.is_nan() || m.is_nan() {
                f32::NAN
            } else {
                m.max(d)
            }
        })
    };
    let nrows = w.nrows();
    Ok(Some(Comparison {
        name: c.name.to_string(),
        dims: dims.to_vec(),
        dtype: c.dtype,
        as_stored: stored.then(|| max_diff(&|i, j| i * ncols + j)),
        transposed: transposed.then(|| max_diff(&|i, j| j * nrows + i)),
        tolerance: tolerance(w, c.dtype),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::tensor_data::{f16_tensor, f32_tensor};

    fn w() -> Array2<f32> {
        Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f32 * 0.25 - 0.5)
    }

    fn cand(t: &TensorProto) -> Candidate<'_> {
        Candidate {
            name: t.name(),
            tensor: t,
            dtype: FloatType::from_code(t.data_type.unwrap()).unwrap(),
        }
    }

    #[test]
    fn stored_and_transposed_f32_and_f16_match_within_tolerance() {
        let w = w();
        let stored: Vec<f32> = w.iter().copied().collect();
        let t = f32_tensor("a", &[2, 3], &stored);
        let c = compare(&w, &cand(&t)).unwrap().unwrap();
        assert_eq!((c.as_stored, c.transposed), (Some(0.0), None));
        assert!(c.matches(false) && !c.matches(true));
        let tr: Vec<f32> = w.t().iter().copied().collect();
        let t = f32_tensor("b", &[3, 2], &tr);
        let c = compare(&w, &cand(&t)).unwrap().unwrap();
        assert!(c.matches(true) && !c.matches(false));
        // One element off by two ulps of max|w| = 0.75 still matches; by 1e-4 it does not.
        let mut near = stored.clone();
        near[4] += 2.0 * 0.75 * f32::EPSILON;
        let t = f32_tensor("c", &[2, 3], &near);
        assert!(compare(&w, &cand(&t)).unwrap().unwrap().matches(false));
        near[4] += 1e-4;
        let t = f32_tensor("d", &[2, 3], &near);
        let c = compare(&w, &cand(&t)).unwrap().unwrap();
        assert!(!c.matches_any(), "{}", c.describe());
        // f16 rounding of every element is within the f16 tolerance.
        let h: Vec<half::f16> = tr.iter().map(|&v| half::f16::from_f32(v + 1e-4)).collect();
        let t = f16_tensor("e", &[3, 2], &h);
        let c = compare(&w, &cand(&t)).unwrap().unwrap();
        assert!(c.matches(true), "{}", c.describe());
        // Wrong shape: not compared; NaN never matches.
        let t = f32_tensor("f", &[6, 1], &stored);
        assert!(compare(&w, &cand(&t)).unwrap().is_none());
        let mut nan = stored;
        nan[0] = f32::NAN;
        let t = f32_tensor("g", &[2, 3], &nan);
        let c = compare(&w, &cand(&t)).unwrap().unwrap();
        assert!(!c.matches_any() && c.best().is_infinite());
    }

    #[test]
    fn tolerance_is_relative_to_the_largest_weight_and_the_stored_type() {
        let w = w();
        let f32_tol = tolerance(&w, FloatType::F32);
        assert_eq!(f32_tol, 0.75 * (f32::EPSILON / 2.0 + 16.0 * f32::EPSILON));
        let f16_tol = tolerance(&w, FloatType::F16);
        assert!(
            f16_tol > 0.75 * 4.8e-4 && f16_tol < 0.75 * 5.0e-4,
            "{f16_tol}"
        );
    }
}
