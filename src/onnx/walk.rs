//! Visiting every graph and every tensor of a model, subgraphs and functions included.
//!
//! Iterative (an explicit work list), so a deeply nested model cannot overflow the stack.

use std::collections::VecDeque;

use super::pb::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};

/// Every graph of the model's namespace, outermost first: the main graph, the training
/// graphs (`training_info` initialization and algorithm), and every subgraph held by a
/// node attribute of those (`If` branches, `Loop` / `Scan` bodies), at any depth.
/// Subgraphs inside function bodies belong to the function's scope: see [`tensors`].
pub fn graphs(model: &ModelProto) -> Vec<&GraphProto> {
    let mut roots: Vec<&GraphProto> = model.graph.iter().collect();
    for t in &model.training_info {
        roots.extend(t.initialization.iter().chain(&t.algorithm));
    }
    with_subgraphs(roots)
}

/// `roots` and every subgraph reachable from them through node attributes, breadth first.
fn with_subgraphs(roots: Vec<&GraphProto>) -> Vec<&GraphProto> {
    let mut queue: VecDeque<&GraphProto> = roots.into();
    let mut out = Vec::new();
    while let Some(g) = queue.pop_front() {
        queue.extend(g.node.iter().flat_map(node_subgraphs));
        out.push(g);
    }
    out
}

fn node_subgraphs(node: &NodeProto) -> impl Iterator<Item = &GraphProto> {
    node.attribute.iter().flat_map(attribute_subgraphs)
}

fn attribute_subgraphs(a: &AttributeProto) -> impl Iterator<Item = &GraphProto> {
    a.g.iter().chain(&a.graphs)
}

/// Every `TensorProto` anywhere in the model: initializers and sparse initializers
/// (values and indices) of every graph, tensors in node attributes (`t`, `tensors`,
/// `sparse_tensor`, `sparse_tensors`) of graphs and subgraphs, and the same inside
/// function bodies, their subgraphs and their attribute defaults.
pub fn tensors(model: &ModelProto) -> Vec<&TensorProto> {
    let mut scopes = graphs(model);
    let mut attributes: Vec<&AttributeProto> = Vec::new();
    for f in &model.functions {
        attributes.extend(&f.attribute_proto);
        attributes.extend(f.node.iter().flat_map(|n| &n.attribute));
        let roots = (f.attribute_proto.iter().flat_map(attribute_subgraphs))
            .chain(f.node.iter().flat_map(node_subgraphs))
            .collect();
        scopes.extend(with_subgraphs(roots));
    }
    let mut out: Vec<&TensorProto> = Vec::new();
    for g in scopes {
        out.extend(&g.initializer);
        for s in &g.sparse_initializer {
            out.extend(s.values.iter().chain(&s.indices));
        }
        attributes.extend(g.node.iter().flat_map(|n| &n.attribute));
    }
    for a in attributes {
        out.extend(a.t.iter().chain(&a.tensors));
        for s in a.sparse_tensor.iter().chain(&a.sparse_tensors) {
            out.extend(s.values.iter().chain(&s.indices));
        }
    }
    out
}
