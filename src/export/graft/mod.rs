//! Grafting: the user's classifier ONNX and the fitted UE head as one model.
//!
//! ```text
//! user's inputs ─ user's graph (unchanged) ─┬─ original outputs (logits, …)
//!                                           │   └─ Softmax ─ probabilities
//!                     head input ─ pooling ─┴─ UE head ─ uncertainty ─ (accept)
//!                                               └─ (mahalanobis)
//! ```
//! [`graft`] reads the model, refuses what it cannot graft (external data, inputs text
//! cannot feed, an opset outside [`MIN_OPSET`]..=[`MAX_OPSET`], a head it cannot find, a
//! name it would clash with), locates the original head by its weights
//! ([`crate::extract::locate_head`]) and appends a fragment that reads the head's input
//! tensor, pools it as `features` does ([`pool`]) and computes the standalone export's
//! outputs from it ([`crate::export::model`]). Existing nodes, initializers, inputs,
//! outputs, the opset imports and the IR version are left exactly as they were: the new
//! nodes are written in the model's own opset (e.g. `Reduce*` axes as an attribute below
//! opset 18, GELU from `Erf`). Every new internal name starts with a prefix no existing
//! name starts with ([`PREFIX`], numbered if taken); the new outputs keep their public
//! names and must be free.

mod error;
pub mod pool;

pub use error::GraftError;

use std::collections::BTreeMap;
use std::path::Path;

use super::graph::{attr_int, value_info, Dim, GraphBuilder};
use super::metadata::{self, exporter_entries};
use super::model::{add_ue_outputs, check_spec, metadata_entries, PROBABILITIES};
use super::{ExportError, ExportSpec};
use crate::extract::graph::{check_inline, text_inputs};
use crate::extract::{locate_head, LocatedHead, Pooling};
use crate::head::Head;
use crate::onnx::pb::{
    tensor_shape_proto::dimension, DataType, GraphProto, ModelProto, ValueInfoProto,
};
use crate::onnx::{read_model, write_model};

/// Lowest ai.onnx opset a model may import to be grafted (`Squeeze` / `Unsqueeze` /
/// `Softmax` as written here).
pub const MIN_OPSET: i64 = 13;
/// Highest ai.onnx opset a model may import to be grafted (the grafted nodes are tested
/// up to this one).
pub const MAX_OPSET: i64 = 18;
/// Prefix of every new internal name (`adue/`, else `adue_2/`, `adue_3/`, …).
pub const PREFIX: &str = "adue";

/// `adue.sha256.original_model`: SHA-256 of the model file that was grafted.
pub const ORIGINAL_SHA256: &str = "adue.sha256.original_model";
/// The tensor the original head consumes, which the UE head reads.
pub const HEAD_INPUT: &str = "adue.graft.head_input";
/// How that tensor is pooled (`as_is`, `first_token`, `last_token`).
pub const POOLING: &str = "adue.graft.pooling";
/// The original graph output holding the logits.
pub const LOGITS_OUTPUT: &str = "adue.graft.logits_output";
/// The ai.onnx opset of the model, which the grafted nodes are written in.
pub const OPSET: &str = "adue.graft.opset";
/// The prefix of the grafted internal names.
pub const NAME_PREFIX: &str = "adue.graft.prefix";
/// Keys [`graft`] writes besides [`metadata::EXPORTER_KEYS`].
pub const GRAFT_KEYS: [&str; 6] = [
    ORIGINAL_SHA256,
    HEAD_INPUT,
    POOLING,
    LOGITS_OUTPUT,
    OPSET,
    NAME_PREFIX,
];

/// A grafted model and what was found to make it.
#[derive(Debug, Clone)]
pub struct Grafted {
    /// The model: the original with the UE fragment appended.
    pub model: ModelProto,
    /// Where the original head was found.
    pub located: LocatedHead,
    /// How the head input is pooled in the graph.
    pub pooling: Pooling,
    /// The model's ai.onnx opset.
    pub opset: i64,
    /// The prefix of the new internal names.
    pub prefix: String,
    /// SHA-256 of the original model file.
    pub sha256: String,
}

/// Grafts `spec`'s heads onto the model at `path` (see the module documentation).
/// `reads_last_token` says whether the original head is a decoder `score` head (pooling
/// the last real token) or a `classifier` (token 0); `None` when unknown, which is an
/// error only when the head reads a `[B, T, D]` tensor with a linear head.
pub fn graft(
    spec: &ExportSpec,
    path: &Path,
    reads_last_token: Option<bool>,
) -> Result<Grafted, GraftError> {
    check_spec(spec)?;
    for key in spec.metadata.keys() {
        if GRAFT_KEYS.contains(&key.as_str()) {
            return Err(ExportError::ReservedMetadataKey { key: key.clone() }.into());
        }
    }
    let sha256 = crate::load::sha256_file(path).map_err(|e| crate::extract::ExtractError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let mut model = read_model(path)?;
    check_inline(&model, path)?;
    let opset = model.opset_version("");
    let opset = match opset {
        Some(v) if (MIN_OPSET..=MAX_OPSET).contains(&v) => v,
        other => {
            return Err(GraftError::Opset {
                path: path.to_path_buf(),
                got: other.map_or("none".to_string(), |v| v.to_string()),
            })
        }
    };
    if let Some(p) = model
        .metadata_props
        .iter()
        .find(|p| p.key().starts_with(metadata::PREFIX))
    {
        return Err(GraftError::AlreadyGrafted {
            path: path.to_path_buf(),
            key: p.key().to_string(),
        });
    }
    let graph = model.graph.as_ref().ok_or_else(|| GraftError::Locate {
        path: path.to_path_buf(),
        source: crate::extract::LocateError::NoGraph,
    })?;
    let inputs = text_inputs(graph, path)?;
    let is_dense = matches!(spec.original, Head::Dense { .. });
    let last = reads_last_token.unwrap_or(false) && !is_dense;
    let located =
        locate_head(&model, spec.original, last).map_err(|source| GraftError::Locate {
            path: path.to_path_buf(),
            source,
        })?;
    let rank = located.head_input_rank;
    let rank_err = |rank: String| GraftError::Rank {
        path: path.to_path_buf(),
        tensor: located.head_input.clone(),
        rank,
    };
    let pooling = match rank {
        None => return Err(rank_err("no declared rank (no value info)".to_string())),
        Some(3) if reads_last_token.is_none() && !is_dense => {
            return Err(rank_err(
                "rank 3, and whether the linear head reads token 0 (`classifier`) or the last \
                 real token (`score`) is unknown: pass --checkpoint"
                    .to_string(),
            ))
        }
        Some(r) => located
            .pooling_for_rank(r)
            .ok_or_else(|| rank_err(format!("rank {r}")))?,
    };
    let names = model.all_names();
    let prefix = free_prefix(&names);
    let batch = batch_dim(graph, &located.logits_output);
    let mask = inputs.attention_mask.map(|_| "attention_mask");
    let mut public: Vec<&str> = vec![PROBABILITIES];
    public.extend(new_outputs(spec));
    for name in &public {
        if names.contains(*name) {
            return Err(GraftError::Clash {
                path: path.to_path_buf(),
                name: name.to_string(),
            });
        }
    }
    let mut external: Vec<&str> = vec![&located.head_input, &located.logits_output];
    external.extend(mask);
    external.extend(&public);
    let mut g = GraphBuilder::fragment(&prefix, opset, &external);
    let d = spec.original.input_dim();
    let features = pool::add_pooling(
        &mut g,
        &located.head_input,
        located.head_input_type,
        pooling,
        mask,
        d,
    );
    let axes = g.axes("axes.class", &[1]);
    // `probabilities` is float32 whatever the model computes its logits in.
    let logits = match elem_type(graph, &located.logits_output) {
        Some(t) if t != DataType::Float as i32 => {
            let to = attr_int("to", DataType::Float as i32 as i64);
            g.node("Cast", &[&located.logits_output], "logits_f32", vec![to])
        }
        _ => located.logits_output.clone(),
    };
    g.node(
        "Softmax",
        &[&logits],
        PROBABILITIES,
        vec![attr_int("axis", 1)],
    );
    let outs = add_ue_outputs(&mut g, spec, &features, &axes, &batch);
    let c = spec.original.num_classes();
    let fragment = g.finish();

    let mut declared = vec![(PROBABILITIES, DataType::Float, vec![batch, Dim::Fixed(c)])];
    declared.extend(outs);
    let mut original_outputs: Vec<String> = Vec::new();
    if let Some(graph) = model.graph.as_mut() {
        original_outputs.extend(graph.output.iter().map(|o| o.name().to_string()));
        graph.node.extend(fragment.node);
        graph.initializer.extend(fragment.initializer);
        for (name, elem, dims) in &declared {
            graph.output.push(value_info(name, *elem, dims));
        }
    }

    let mut all_outputs: Vec<&str> = original_outputs.iter().map(String::as_str).collect();
    all_outputs.extend(declared.iter().map(|o| o.0));
    let mut props: BTreeMap<String, String> = spec.metadata.clone();
    props.extend(exporter_entries(spec, &all_outputs));
    props.insert(ORIGINAL_SHA256.to_string(), sha256.clone());
    props.insert(HEAD_INPUT.to_string(), located.head_input.clone());
    props.insert(POOLING.to_string(), pooling.name().to_string());
    props.insert(LOGITS_OUTPUT.to_string(), located.logits_output.clone());
    props.insert(
        OPSET.to_string(),
        format!("ai.onnx {opset}: the model's opset, kept; the grafted nodes are written for it"),
    );
    props.insert(NAME_PREFIX.to_string(), prefix.clone());
    model.metadata_props.extend(metadata_entries(props));
    Ok(Grafted {
        model,
        located,
        pooling,
        opset,
        prefix,
        sha256,
    })
}

/// [`graft`], then writes the model to `out` atomically.
pub fn graft_to_file(
    spec: &ExportSpec,
    path: &Path,
    reads_last_token: Option<bool>,
    out: &Path,
) -> Result<Grafted, GraftError> {
    let grafted = graft(spec, path, reads_last_token)?;
    write_model(out, &grafted.model)?;
    Ok(grafted)
}

/// The outputs the UE fragment adds besides `probabilities`, as [`add_ue_outputs`] does.
fn new_outputs(spec: &ExportSpec) -> Vec<&'static str> {
    use super::model::{ACCEPT, MAHALANOBIS, UNCERTAINTY};
    let mut v = vec![UNCERTAINTY];
    if spec.mahalanobis.is_some() {
        v.push(MAHALANOBIS);
    }
    if spec.threshold.is_some() {
        v.push(ACCEPT);
    }
    v
}

/// `adue/`, or the first `adue_<k>/` (k = 2, 3, …) that no name in use starts with.
fn free_prefix(names: &std::collections::BTreeSet<String>) -> String {
    let taken = |p: &str| names.iter().any(|n| n.starts_with(p));
    let first = format!("{PREFIX}/");
    if !taken(&first) {
        return first;
    }
    (2..)
        .map(|k| format!("{PREFIX}_{k}/"))
        .find(|p| !taken(p))
        .expect("finitely many names")
}

/// The first dimension of the logits output (its symbolic name, or size), else `batch`.
fn batch_dim(graph: &GraphProto, logits: &str) -> Dim {
    let first = graph
        .output
        .iter()
        .find(|o| o.name() == logits)
        .and_then(declared_dims)
        .and_then(|d| d.into_iter().next());
    first.unwrap_or_else(|| Dim::Symbolic(super::model::BATCH_DIM.to_string()))
}

/// The element type the graph declares for its output `name`.
fn elem_type(graph: &GraphProto, name: &str) -> Option<i32> {
    graph
        .output
        .iter()
        .find(|o| o.name() == name)?
        .tensor_type()?
        .elem_type
}

fn declared_dims(v: &ValueInfoProto) -> Option<Vec<Dim>> {
    let dims = v
        .tensor_type()?
        .shape
        .as_ref()?
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(dimension::Value::DimValue(n)) => Some(Dim::Fixed(*n as usize)),
            Some(dimension::Value::DimParam(s)) => Some(Dim::Symbolic(s.clone())),
            None => None,
        });
    dims.collect()
}
