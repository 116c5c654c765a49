//! Lookups a graph editor needs: initializers and value types by name, opset versions,
//! external data, and every name in use.

use std::collections::BTreeSet;

use super::pb::tensor_proto::DataLocation;
use super::pb::{type_proto, GraphProto, ModelProto, TensorProto, ValueInfoProto};
use super::walk;

/// The default operator domain, which ONNX also writes as the empty string.
pub const DEFAULT_DOMAIN: &str = "ai.onnx";

impl ModelProto {
    /// The version of the operator set imported for `domain` (`""` and `"ai.onnx"` are
    /// the same domain), or `None` when the model does not import it.
    pub fn opset_version(&self, domain: &str) -> Option<i64> {
        let wanted = canonical_domain(domain);
        self.opset_import
            .iter()
            .find(|o| canonical_domain(o.domain()) == wanted)
            .map(|o| o.version())
    }

    /// Whether any tensor anywhere in the model (initializers, sparse tensors, attribute
    /// tensors of graphs, subgraphs and function bodies) keeps its bytes in a side file
    /// (see [`is_external`]).
    pub fn uses_external_data(&self) -> bool {
        walk::tensors(self).into_iter().any(is_external)
    }

    /// Every name in use in the model's namespace, to pick new ones that cannot clash:
    /// graph, node, value (node inputs and outputs, graph inputs, outputs and value infos)
    /// and initializer names (dense and sparse) of the main graph, the training graphs
    /// and every subgraph nested in them. The empty name (an omitted input) is left out.
    pub fn all_names(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for g in walk::graphs(self) {
            names.insert(g.name().to_string());
            for n in &g.node {
                names.insert(n.name().to_string());
                names.extend(n.input.iter().chain(&n.output).cloned());
            }
            let infos = g.input.iter().chain(&g.output).chain(&g.value_info);
            names.extend(infos.map(|v| v.name().to_string()));
            names.extend(g.initializer.iter().map(|t| t.name().to_string()));
            for s in &g.sparse_initializer {
                let parts = s.values.iter().chain(&s.indices);
                names.extend(parts.map(|t| t.name().to_string()));
            }
        }
        names.remove("");
        names
    }

    /// The value of metadata entry `key`, if present.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata_props
            .iter()
            .find(|p| p.key() == key)
            .map(|p| p.value())
    }
}

impl GraphProto {
    /// The initializer named `name`.
    pub fn find_initializer(&self, name: &str) -> Option<&TensorProto> {
        self.initializer.iter().find(|t| t.name() == name)
    }

    /// The initializer named `name`, to edit.
    pub fn find_initializer_mut(&mut self, name: &str) -> Option<&mut TensorProto> {
        self.initializer.iter_mut().find(|t| t.name() == name)
    }

    /// The type description of value `name`: a graph input, output, or an entry of
    /// `value_info`, looked up in that order.
    pub fn find_value_info(&self, name: &str) -> Option<&ValueInfoProto> {
        (self.input.iter())
            .chain(&self.output)
            .chain(&self.value_info)
            .find(|v| v.name() == name)
    }
}

impl ValueInfoProto {
    /// Its tensor type (element type and shape), when it declares one.
    pub fn tensor_type(&self) -> Option<&type_proto::Tensor> {
        match self.r#type.as_ref()?.value.as_ref()? {
            type_proto::Value::TensorType(t) => Some(t),
            _ => None,
        }
    }
}

impl TensorProto {
    /// The `location` entry of `external_data`, if any.
    pub fn external_location(&self) -> Option<&str> {
        self.external_data
            .iter()
            .find(|e| e.key() == "location")
            .map(|e| e.value())
    }
}

/// Whether `t` keeps its bytes in a side file: `data_location = EXTERNAL`, or (malformed,
/// but no less a reference to a side file) `external_data` entries without it.
pub fn is_external(t: &TensorProto) -> bool {
    t.data_location == Some(DataLocation::External as i32) || !t.external_data.is_empty()
}

fn canonical_domain(domain: &str) -> &str {
    if domain.is_empty() {
        DEFAULT_DOMAIN
    } else {
        domain
    }
}
