//! From a head matrix to the layer that applies it, and that layer's data input.
//!
//! A linear layer `y = x Wᵀ (+ b)` appears in ONNX as `Gemm(x, B)` (with `transB = 1` when
//! `B` is `W` as stored, `transB = 0` when `B` is `Wᵀ`) or `MatMul(x, Wᵀ)`, the matrix in
//! input 1. Between the constant and the layer an exporter may put `Identity`, `Cast` (e.g.
//! f16 weights computed in f32) or a 2-D `Transpose`; those are followed (a few steps).

use std::collections::{BTreeMap, BTreeSet};

use super::weights::FloatType;
use crate::onnx::pb::{GraphProto, NodeProto};

/// How many `Identity` / `Cast` / `Transpose` nodes are followed from the constant.
const MAX_HOPS: usize = 4;

/// Which nodes read each value of the main graph: name → (node index, input slot).
pub struct Consumers<'g> {
    graph: &'g GraphProto,
    map: BTreeMap<&'g str, Vec<(usize, usize)>>,
}

/// A layer that applies a constant tensor as its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerUse {
    /// The layer node's name (or `#index` when unnamed).
    pub node: String,
    /// `Gemm` or `MatMul`.
    pub op: String,
    /// The tensor the layer multiplies by the weight: the head input, for the first layer.
    pub data_input: String,
    /// Whether the constant must hold `Wᵀ` (`[in, out]`) for this layer to compute `x Wᵀ`.
    pub wants_transposed: bool,
    /// Element type of the data input (the layer computes in one type), when known.
    pub elem_type: Option<FloatType>,
}

impl<'g> Consumers<'g> {
    /// Indexes the consumers of every value of `graph` (subgraphs are not searched).
    pub fn new(graph: &'g GraphProto) -> Self {
        let mut map: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
        for (i, node) in graph.node.iter().enumerate() {
            for (slot, name) in node.input.iter().enumerate() {
                if !name.is_empty() {
                    map.entry(name.as_str()).or_default().push((i, slot));
                }
            }
        }
        Consumers { graph, map }
    }

    /// Every `Gemm` / `MatMul` that applies the constant `name` (of type `dtype`) as a
    /// linear layer's weight, and the op types of its other uses (for messages).
    pub fn layer_uses(&self, name: &str, dtype: FloatType) -> (Vec<LayerUse>, Vec<String>) {
        let (mut uses, mut other) = (Vec::new(), Vec::new());
        // (value, flipped by a Transpose on the way, element type, hops)
        let mut stack = vec![(name.to_string(), false, dtype, 0usize)];
        // Each (value, orientation, type) is expanded once: a hostile graph with cycles or a
        // huge fan-out costs at most one visit per node input.
        let mut seen = BTreeSet::new();
        while let Some((value, flipped, ty, hops)) = stack.pop() {
            if !seen.insert((value.clone(), flipped, ty)) {
                continue;
            }
            for &(i, slot) in self.map.get(value.as_str()).into_iter().flatten() {
                let node = &self.graph.node[i];
                let out = node.output.first().filter(|o| !o.is_empty());
                let next =
                    |flip: bool, ty: FloatType| -> Option<(String, bool, FloatType, usize)> {
                        Some((out.cloned()?, flip, ty, hops + 1))
                    };
                let follow = match (node.domain(), node.op_type()) {
                    _ if hops >= MAX_HOPS => None,
                    ("", "Identity") => next(flipped, ty),
                    ("", "Cast") => attr_i(node, "to")
                        .and_then(|to| FloatType::from_code(to as i32))
                        .and_then(|to| next(flipped, to)),
                    ("", "Transpose") if is_2d_swap(node) => next(!flipped, ty),
                    _ => None,
                };
                if let Some(f) = follow {
                    stack.push(f);
                    continue;
                }
                match layer(node, i, slot, flipped, ty) {
                    Some(u) => uses.push(u),
                    None => other.push(format!("{} input {slot}", node.op_type())),
                }
            }
        }
        uses.sort_by(|a, b| (&a.node, &a.data_input).cmp(&(&b.node, &b.data_input)));
        uses.dedup();
        other.sort();
        other.dedup();
        (uses, other)
    }
}

/// `node` as a linear layer whose weight arrives in input `slot`, if it is one.
fn layer(
    node: &NodeProto,
    i: usize,
    slot: usize,
    flipped: bool,
    ty: FloatType,
) -> Option<LayerUse> {
    if !node.domain().is_empty() || slot != 1 {
        return None;
    }
    // `x · op(B)` must be `x Wᵀ`: op(B) = Wᵀ.
    let b_is_transposed = match node.op_type() {
        "MatMul" => true,
        "Gemm" => {
            let alpha = node.attribute.iter().find(|a| a.name() == "alpha");
            if attr_i(node, "transA").unwrap_or(0) != 0 || alpha.is_some_and(|a| a.f() != 1.0) {
                return None;
            }
            attr_i(node, "transB").unwrap_or(0) == 0
        }
        _ => return None,
    };
    Some(LayerUse {
        node: match node.name() {
            "" => format!("#{i}"),
            n => n.to_string(),
        },
        op: node.op_type().to_string(),
        data_input: node.input.first()?.clone(),
        wants_transposed: b_is_transposed != flipped,
        elem_type: Some(ty),
    })
}

/// An integer attribute of `node`.
fn attr_i(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name() == name)?.i
}

/// Whether a `Transpose` swaps the two axes of a matrix (no `perm`, or `perm = [1, 0]`).
fn is_2d_swap(node: &NodeProto) -> bool {
    match node.attribute.iter().find(|a| a.name() == "perm") {
        None => true,
        Some(a) => a.ints == [1, 0],
    }
}
