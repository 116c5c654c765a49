//! The head input pooled to `[batch, D]` inside the graph, exactly as `features` pools it
//! ([`Pooling`]): as is, token 0, or the last position whose attention mask is non-zero.
//! Every node here exists unchanged from ai.onnx opset 13 on (`Squeeze` / `Unsqueeze`
//! take `axes` as an input from 13), so the fragment is valid in the model's own opset.

use crate::export::graph::{attr_int, initializer_i64, GraphBuilder};
use crate::extract::locate::FloatType;
use crate::extract::Pooling;
use crate::onnx::pb::DataType;

/// Adds the nodes that turn `head_input` (`[B, D]` or `[B, T, D]`, of element type `ty`)
/// into float32 `[B, D]` rows and returns the local name of the result. `mask` is the
/// graph's `attention_mask` input, when it has one; `d` is the feature width.
pub fn add_pooling(
    g: &mut GraphBuilder,
    head_input: &str,
    ty: FloatType,
    pooling: Pooling,
    mask: Option<&str>,
    d: usize,
) -> String {
    let rows = match pooling {
        Pooling::AsIs => head_input.to_string(),
        Pooling::FirstToken => gather_token(g, head_input, 0),
        // Without a mask `features` batches texts of one length, so the last real token
        // is position T − 1 (Gather accepts negative indices from opset 13).
        Pooling::LastToken => match mask {
            None => gather_token(g, head_input, -1),
            Some(mask) => gather_last_real(g, head_input, mask, d),
        },
    };
    match ty {
        FloatType::F32 => rows,
        FloatType::F16 => {
            let to = attr_int("to", DataType::Float as i32 as i64);
            g.node("Cast", &[&rows], "pool/features_f32", vec![to])
        }
    }
}

/// `x[:, index, :]` as `Gather(axis = 1)` with a scalar index.
fn gather_token(g: &mut GraphBuilder, x: &str, index: i64) -> String {
    let i = g.initializer(initializer_i64("pool.token_index", &[], &[index]));
    g.node(
        "Gather",
        &[x, &i],
        "pool/features",
        vec![attr_int("axis", 1)],
    )
}

/// `x[b, t_b, :]` with `t_b` the last position of row `b` whose mask is non-zero:
/// `ArgMax(mask ≠ 0, select_last_index)` → `[B, 1]`, expanded to `[B, 1, D]`, then
/// `GatherElements(axis = 1)` (exact copies, no arithmetic) and `Squeeze`.
fn gather_last_real(g: &mut GraphBuilder, x: &str, mask: &str, d: usize) -> String {
    let bool_to = attr_int("to", DataType::Bool as i32 as i64);
    let float_to = attr_int("to", DataType::Float as i32 as i64);
    let nonzero = g.node("Cast", &[mask], "pool/mask_bool", vec![bool_to]);
    let m = g.node("Cast", &[&nonzero], "pool/mask_float", vec![float_to]);
    let last = g.node(
        "ArgMax",
        &[&m],
        "pool/last_position",
        vec![
            attr_int("axis", 1),
            attr_int("keepdims", 1),
            attr_int("select_last_index", 1),
        ],
    );
    let axis2 = g.axes("pool.axis_tokens_last", &[2]);
    let idx = g.node("Unsqueeze", &[&last, &axis2.name], "pool/index_b11", vec![]);
    let shape = g.initializer(initializer_i64("pool.index_shape", &[3], &[1, 1, d as i64]));
    let idx = g.node("Expand", &[&idx, &shape], "pool/index_b1d", vec![]);
    let picked = g.node(
        "GatherElements",
        &[x, &idx],
        "pool/picked",
        vec![attr_int("axis", 1)],
    );
    let axis1 = g.axes("pool.axis_tokens", &[1]);
    g.node("Squeeze", &[&picked, &axis1.name], "pool/features", vec![])
}
