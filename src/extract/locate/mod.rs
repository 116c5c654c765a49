//! Locating a checkpoint's classification head inside a user's ONNX classifier.
//!
//! The head is found by its weights, not by names (exporters rename and transpose them):
//! the checkpoint's first head matrix (`classifier.weight`, `score.weight` or
//! `classifier.dense.weight`, LoRA merged) is compared with every 2-D float constant of the
//! main graph ([`weights`]), and the linear layer that applies the match ([`consumers`])
//! names the tensor the head consumes. For a dense head, `classifier.out_proj.weight` must
//! be found as well. The logits are the output named `logits`, else the one output whose
//! last dimension is the head's class count.
//!
//! [`locate_head`] answers what both `features` and a grafter need: which tensor feeds the
//! head ([`LocatedHead::head_input`], its element type and rank), how it becomes one row per
//! text ([`LocatedHead::pooling`]) and which graph output is the logits.

mod consumers;
mod error;
pub mod weights;

pub use consumers::LayerUse;
pub use error::LocateError;
pub use weights::FloatType;

use ndarray::Array2;

use super::pool::Pooling;
use crate::head::Head;
use crate::onnx::pb::{GraphProto, ModelProto, ValueInfoProto};
use consumers::Consumers;
use weights::{candidates, compare, Comparison};

/// A head matrix found in the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedWeight {
    /// The checkpoint's name for it, e.g. `classifier.dense.weight`.
    pub role: String,
    /// The graph's constant holding it (initializer, or `Constant` output).
    pub tensor: String,
    /// That constant's dims.
    pub dims: Vec<i64>,
    /// Its element type.
    pub dtype: FloatType,
    /// Whether it holds `Wᵀ` (`[in, out]`) rather than `W` as stored (`[out, in]`).
    pub transposed: bool,
    /// `max |x − w|` in that orientation.
    pub max_abs_diff: f32,
    /// The tolerance it was accepted with ([`weights::tolerance`]).
    pub tolerance: f32,
    /// The layer applying it.
    pub layer: LayerUse,
}

/// Where the head sits in the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedHead {
    /// The tensor the head consumes: `[B, D]`, or `[B, T, D]` to be pooled.
    pub head_input: String,
    /// Its element type.
    pub head_input_type: FloatType,
    /// Its rank when the graph declares it (value info, or a `Gemm`'s 2-D input).
    pub head_input_rank: Option<usize>,
    /// Whether the head reads the last real token of a `[B, T, D]` input (a decoder
    /// `score` head) rather than token 0.
    pub reads_last_token: bool,
    /// The graph output holding the model's logits.
    pub logits_output: String,
    /// The head matrices found: `[weight]`, or `[dense.weight, out_proj.weight]`.
    pub weights: Vec<MatchedWeight>,
}

impl LocatedHead {
    /// The pooling, when the head input's rank is declared in the graph.
    pub fn pooling(&self) -> Option<Pooling> {
        self.head_input_rank.and_then(|r| self.pooling_for_rank(r))
    }

    /// The pooling for a head input of `rank` (2 or 3; `None` otherwise), e.g. the rank of
    /// the tensor ONNX Runtime returned.
    pub fn pooling_for_rank(&self, rank: usize) -> Option<Pooling> {
        Pooling::for_rank(rank, self.reads_last_token)
    }
}

/// The checkpoint's names of a head's matrices: `score.weight` for a decoder head
/// (`reads_last_token`), else `classifier.weight`, or the dense head's two layers.
fn head_matrices(head: &Head, reads_last_token: bool) -> Vec<(String, &Array2<f32>)> {
    match head {
        Head::Linear { weight, .. } => {
            let module = if reads_last_token {
                "score"
            } else {
                "classifier"
            };
            vec![(format!("{module}.weight"), weight)]
        }
        Head::Dense {
            dense_weight,
            out_weight,
            ..
        } => vec![
            ("classifier.dense.weight".to_string(), dense_weight),
            ("classifier.out_proj.weight".to_string(), out_weight),
        ],
    }
}

/// Finds `head` in `model`'s main graph (see the module documentation).
/// `reads_last_token` says the head is a decoder `score` head.
pub fn locate_head(
    model: &ModelProto,
    head: &Head,
    reads_last_token: bool,
) -> Result<LocatedHead, LocateError> {
    let graph = model.graph.as_ref().ok_or(LocateError::NoGraph)?;
    let cands = candidates(graph);
    let consumers = Consumers::new(graph);
    let matrices = head_matrices(head, reads_last_token);
    let mut found: Vec<MatchedWeight> = Vec::new();
    for (k, (role, w)) in matrices.iter().enumerate() {
        let mut comparisons = Vec::new();
        for c in &cands {
            comparisons.extend(compare(w, c)?);
        }
        let mut matched: Vec<MatchedWeight> = Vec::new();
        let mut unused = None;
        for c in comparisons.iter().filter(|c| c.matches_any()) {
            let (uses, mut other) = consumers.layer_uses(&c.name, c.dtype);
            let (valid, wrong): (Vec<LayerUse>, Vec<LayerUse>) = uses
                .into_iter()
                .partition(|u| c.matches(u.wants_transposed));
            if valid.is_empty() {
                other.extend(wrong.iter().map(|u| {
                    let want = if u.wants_transposed {
                        "Wᵀ [in, out]"
                    } else {
                        "W [out, in]"
                    };
                    format!("{} `{}`, which multiplies by it as {want}", u.op, u.node)
                }));
                unused.get_or_insert((c.name.clone(), other));
            }
            matched.extend(
                valid
                    .into_iter()
                    .map(|layer| matched_weight(role, c, layer)),
            );
        }
        if matched.is_empty() {
            return Err(match unused {
                Some((tensor, uses)) => LocateError::Unused {
                    role: role.clone(),
                    tensor,
                    uses: if uses.is_empty() {
                        "none".into()
                    } else {
                        uses.join(", ")
                    },
                },
                None => LocateError::NoMatch {
                    sought: sought(&matrices, k),
                    closest: closest(&comparisons, graph, w),
                },
            });
        }
        if k == 0 {
            let mut inputs: Vec<&str> = matched
                .iter()
                .map(|m| m.layer.data_input.as_str())
                .collect();
            inputs.sort_unstable();
            inputs.dedup();
            if inputs.len() > 1 {
                return Err(LocateError::Ambiguous {
                    role: role.clone(),
                    inputs: inputs
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        found.push(matched.swap_remove(0));
    }
    let first = &found[0];
    let head_input = first.layer.data_input.clone();
    let info = graph
        .find_value_info(&head_input)
        .and_then(ValueInfoProto::tensor_type);
    let head_input_type = match info.and_then(|t| t.elem_type) {
        Some(code) => FloatType::from_code(code).ok_or_else(|| LocateError::InputType {
            tensor: head_input.clone(),
            got: format!("{code}"),
        })?,
        None => first.layer.elem_type.unwrap_or(first.dtype),
    };
    let head_input_rank = info
        .and_then(|t| t.shape.as_ref())
        .map(|s| s.dim.len())
        .or((first.layer.op == "Gemm").then_some(2));
    Ok(LocatedHead {
        head_input,
        head_input_type,
        head_input_rank,
        reads_last_token,
        logits_output: logits_output(graph, head.num_classes())?,
        weights: found,
    })
}

fn matched_weight(role: &str, c: &Comparison, layer: LayerUse) -> MatchedWeight {
    let transposed = layer.wants_transposed;
    MatchedWeight {
        role: role.to_string(),
        tensor: c.name.clone(),
        dims: c.dims.clone(),
        dtype: c.dtype,
        transposed,
        max_abs_diff: if transposed {
            c.transposed
        } else {
            c.as_stored
        }
        .unwrap_or(f32::NAN),
        tolerance: c.tolerance,
        layer,
    }
}

/// `` `name` [out, in] `` of every head matrix, the one not found (`missing`) first.
fn sought(matrices: &[(String, &Array2<f32>)], missing: usize) -> String {
    let mut order: Vec<usize> = (0..matrices.len()).collect();
    order.swap(0, missing);
    let names: Vec<String> = order
        .iter()
        .map(|&i| format!("`{}` {:?}", matrices[i].0, matrices[i].1.shape()))
        .collect();
    names.join(" (and ") + &")".repeat(names.len() - 1)
}

/// The three nearest same-shape candidates, or the 2-D float shapes the graph has.
fn closest(comparisons: &[Comparison], graph: &GraphProto, w: &Array2<f32>) -> String {
    let mut near: Vec<&Comparison> = comparisons.iter().collect();
    near.sort_by(|a, b| a.best().total_cmp(&b.best()));
    if !near.is_empty() {
        return near
            .iter()
            .take(3)
            .map(|c| c.describe())
            .collect::<Vec<_>>()
            .join("; ");
    }
    let (rows, cols) = (w.nrows() as i64, w.ncols() as i64);
    let shapes: Vec<String> = candidates(graph)
        .iter()
        .filter(|c| c.tensor.dims.iter().any(|&d| d == rows || d == cols))
        .take(5)
        .map(|c| format!("`{}` {:?} {}", c.name, c.tensor.dims, c.dtype.name()))
        .collect();
    if shapes.is_empty() {
        format!("no 2-D float initializer has a dimension {rows} or {cols}")
    } else {
        format!(
            "no 2-D float initializer has that shape; with a dimension in common: {}",
            shapes.join(", ")
        )
    }
}

/// The last dimension of a graph output, when fixed.
fn last_dim(v: &ValueInfoProto) -> Option<i64> {
    use crate::onnx::pb::tensor_shape_proto::dimension::Value;
    match v
        .tensor_type()?
        .shape
        .as_ref()?
        .dim
        .last()?
        .value
        .as_ref()?
    {
        Value::DimValue(d) => Some(*d),
        Value::DimParam(_) => None,
    }
}

/// The output named `logits`, else the one output whose last dimension is `classes`.
fn logits_output(graph: &GraphProto, classes: usize) -> Result<String, LocateError> {
    if let Some(o) = graph.output.iter().find(|o| o.name() == "logits") {
        return Ok(o.name().to_string());
    }
    let fits: Vec<&ValueInfoProto> = (graph.output.iter())
        .filter(|o| last_dim(o) == Some(classes as i64))
        .collect();
    if let [one] = fits.as_slice() {
        return Ok(one.name().to_string());
    }
    let outputs: Vec<String> = (graph.output.iter())
        .map(|o| match o.tensor_type().and_then(|t| t.shape.as_ref()) {
            Some(s) => format!("`{}` {}", o.name(), shape_text(s)),
            None => format!("`{}` (shape not declared)", o.name()),
        })
        .collect();
    Err(LocateError::NoLogits {
        classes,
        found: if fits.is_empty() {
            "none".into()
        } else {
            format!("{}", fits.len())
        },
        outputs: if outputs.is_empty() {
            "none".into()
        } else {
            outputs.join(", ")
        },
    })
}

fn shape_text(s: &crate::onnx::pb::TensorShapeProto) -> String {
    use crate::onnx::pb::tensor_shape_proto::dimension::Value;
    let dims: Vec<String> = (s.dim.iter())
        .map(|d| match &d.value {
            Some(Value::DimValue(v)) => v.to_string(),
            Some(Value::DimParam(p)) => p.clone(),
            None => "?".to_string(),
        })
        .collect();
    format!("[{}]", dims.join(", "))
}

#[cfg(test)]
mod tests;
