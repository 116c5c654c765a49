//! The classification head and the AdUE uncertainty it induces.
//!
//! Every stage shares this one definition: the readers build a [`Head`] from a
//! checkpoint, the fit engine starts from a copy of it, the scorer and the
//! validator run it as the reference, and the exporter writes it as an ONNX graph.
//! [`HeadLayout`] lists its layers and tensors once for all of them; [`UeHead`] is a
//! fitted UE head (weights and the spec of its `U`); `head.safetensors` is read and
//! written by [`read_head`] / [`write_head`].
//! Inference here is f32 (what a deployed model computes); the metrics are taken
//! in f64 from its outputs.

mod activation;
mod file;
pub mod layout;
mod uncertainty;

pub use activation::{gelu, Activation};
pub use file::{encode_head, read_head, write_head, HeadFileError, RESERVED_KEYS};
pub use layout::{HeadLayout, Layer, LayerParams, ShapeError, TensorSlot};
pub use uncertainty::{softmax_rows, uncertainty_from_probs, UeSpec};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// A classification head: the module between the hidden state and the logits.
#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    /// `logits = h Wᵀ (+ b)`: a decoder's `score` layer or BERT's `classifier`.
    Linear {
        /// `[C, D]` weight.
        weight: Array2<f32>,
        /// `[C]` bias, absent for most decoder `score` layers.
        bias: Option<Array1<f32>>,
    },
    /// `logits = act(h W₁ᵀ + b₁) W₂ᵀ + b₂`: the RoBERTa / ELECTRA head.
    Dense {
        /// `[H, D]` weight of `dense`.
        dense_weight: Array2<f32>,
        /// `[H]` bias of `dense`.
        dense_bias: Array1<f32>,
        /// Non-linearity between the two layers.
        activation: Activation,
        /// `[C, H]` weight of `out_proj`.
        out_weight: Array2<f32>,
        /// `[C]` bias of `out_proj`.
        out_bias: Array1<f32>,
    },
}

/// Most layers a head of any kind has.
pub const MAX_LAYERS: usize = 2;

/// The two shapes of head, as named in `inspect --json` (`head.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadKind {
    /// One linear layer.
    Linear,
    /// `dense -> activation -> out_proj`.
    Dense,
}

impl HeadKind {
    /// The name used in JSON and safetensors metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            HeadKind::Linear => "linear",
            HeadKind::Dense => "dense",
        }
    }

    /// The kind and activation named in `head.safetensors` metadata (`none` for a head
    /// without an activation); `None` for a pair that is no head.
    pub fn from_names(kind: &str, activation: &str) -> Option<(HeadKind, Option<Activation>)> {
        match (kind, activation) {
            ("linear", "none") => Some((HeadKind::Linear, None)),
            ("dense", act) => Some((HeadKind::Dense, Some(Activation::parse(act)?))),
            _ => None,
        }
    }

    /// The tensor keys `(weight, bias)` of each layer, features to logits, as
    /// `head.safetensors` and the ONNX initializers name them ([`HeadLayout`]).
    pub fn layer_keys(self) -> &'static [(&'static str, &'static str)] {
        match self {
            HeadKind::Linear => &[("weight", "bias")],
            HeadKind::Dense => &[
                ("dense.weight", "dense.bias"),
                ("out_proj.weight", "out_proj.bias"),
            ],
        }
    }

    /// Whether every layer of this kind has a bias (a linear head's is optional).
    pub fn bias_required(self) -> bool {
        match self {
            HeadKind::Linear => false,
            HeadKind::Dense => true,
        }
    }
}

/// A fitted AdUE uncertainty head: the UE head's weights and the spec that turns its
/// probabilities into `U` (CONTRACT §6). What `fit` produces, `head.safetensors` stores,
/// and the exporter and the validator take as the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct UeHead {
    /// The UE head `g`.
    pub head: Head,
    /// λ, scale and clamp of `U`.
    pub spec: UeSpec,
}

impl UeHead {
    /// AdUE uncertainty `U` per row (`[N]`).
    pub fn uncertainty(&self, features: ArrayView2<f32>) -> Array1<f32> {
        self.head.uncertainty(features, &self.spec)
    }
}

/// Index of the largest value, the first one on ties (PyTorch's and numpy's `argmax`);
/// `None` for an empty row. The predicted class of a row of logits or probabilities.
pub fn argmax(row: ArrayView1<f32>) -> Option<usize> {
    row.iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

impl Head {
    /// Which shape of head this is.
    pub fn kind(&self) -> HeadKind {
        match self {
            Head::Linear { .. } => HeadKind::Linear,
            Head::Dense { .. } => HeadKind::Dense,
        }
    }

    /// The activation of a dense head; `None` for a linear one.
    pub fn activation(&self) -> Option<Activation> {
        match self {
            Head::Linear { .. } => None,
            Head::Dense { activation, .. } => Some(*activation),
        }
    }

    /// Whether the output layer has a bias (dense heads always do).
    pub fn has_bias(&self) -> bool {
        match self {
            Head::Linear { bias, .. } => bias.is_some(),
            Head::Dense { .. } => true,
        }
    }

    /// The layers' parameters, features to logits: `(weight [out, in], bias [out])`.
    /// [`HeadLayout`] names them.
    pub fn layers(&self) -> Vec<(&Array2<f32>, Option<&Array1<f32>>)> {
        match self {
            Head::Linear { weight, bias } => vec![(weight, bias.as_ref())],
            Head::Dense {
                dense_weight,
                dense_bias,
                out_weight,
                out_bias,
                ..
            } => vec![
                (dense_weight, Some(dense_bias)),
                (out_weight, Some(out_bias)),
            ],
        }
    }

    /// A head of `kind` from its layers (features to logits); `activation` is the dense
    /// head's. Errors when the layers do not chain or the kind has another layer count.
    pub fn from_layers(
        kind: HeadKind,
        activation: Option<Activation>,
        layers: Vec<LayerParams>,
    ) -> Result<Head, ShapeError> {
        layout::check_layers(kind, layers.iter().map(|(w, b)| (w, b.as_ref())))?;
        let count = ShapeError::Layers {
            kind: kind.as_str(),
            expected: kind.layer_keys().len(),
            got: layers.len(),
        };
        let mut it = layers.into_iter();
        Ok(match (kind, it.next(), it.next()) {
            (HeadKind::Linear, Some((weight, bias)), None) => Head::Linear { weight, bias },
            (HeadKind::Dense, Some((dense_weight, b1)), Some((out_weight, b2))) => Head::Dense {
                dense_bias: b1.unwrap_or_else(|| Array1::zeros(dense_weight.nrows())),
                out_bias: b2.unwrap_or_else(|| Array1::zeros(out_weight.nrows())),
                dense_weight,
                activation: activation.unwrap_or(Activation::Tanh),
                out_weight,
            },
            _ => return Err(count),
        })
    }

    /// The layout of this head's tensors.
    pub fn layout(&self) -> HeadLayout {
        HeadLayout::of(self)
    }

    /// Checks that the layers chain (bias lengths, widths between layers).
    pub fn check_shapes(&self) -> Result<(), ShapeError> {
        layout::check_layers(self.kind(), self.layers())
    }

    /// Every tensor with its values in row-major order, in [`HeadLayout::tensors`] order.
    pub fn tensors(&self) -> Vec<(TensorSlot, Vec<f32>)> {
        let layers = self.layers();
        let values = layers.iter().flat_map(|(w, b)| {
            std::iter::once(w.iter().copied().collect::<Vec<f32>>()).chain(b.map(|b| b.to_vec()))
        });
        self.layout().tensors().zip(values).collect()
    }

    /// Width `D` of the hidden state the head consumes.
    pub fn input_dim(&self) -> usize {
        self.layers().first().map_or(0, |(w, _)| w.ncols())
    }

    /// Number of classes `C`.
    pub fn num_classes(&self) -> usize {
        self.layers().last().map_or(0, |(w, _)| w.nrows())
    }

    /// Width of the dense head's hidden layer; `None` for a linear head.
    pub fn hidden_dim(&self) -> Option<usize> {
        let layers = self.layers();
        (layers.len() > 1).then(|| layers[0].0.nrows())
    }

    /// Number of trainable scalars (the θ of the L2-SP term).
    pub fn num_parameters(&self) -> usize {
        self.layers()
            .iter()
            .map(|(w, b)| w.len() + b.map_or(0, |b| b.len()))
            .sum()
    }

    /// The dense head's post-activation hidden layer `act(h W₁ᵀ + b₁)`, `[N, H]`;
    /// `None` for a linear head. Mahalanobis on this layer is one of the paper's baselines.
    pub fn hidden(&self, features: ArrayView2<f32>) -> Option<Array2<f32>> {
        match self {
            Head::Linear { .. } => None,
            Head::Dense {
                dense_weight,
                dense_bias,
                activation,
                ..
            } => {
                let mut z = features.dot(&dense_weight.t());
                z += dense_bias;
                z.mapv_inplace(|v| activation.apply(v));
                Some(z)
            }
        }
    }

    /// Logits `[N, C]` in eval mode (no dropout).
    pub fn logits(&self, features: ArrayView2<f32>) -> Array2<f32> {
        match self {
            Head::Linear { weight, bias } => {
                let mut z = features.dot(&weight.t());
                if let Some(b) = bias {
                    z += b;
                }
                z
            }
            Head::Dense {
                out_weight,
                out_bias,
                ..
            } => {
                // `hidden` is `Some` for every dense head.
                let h = self.hidden(features).unwrap_or_default();
                let mut z = h.dot(&out_weight.t());
                z += out_bias;
                z
            }
        }
    }

    /// Class probabilities `[N, C]`: the row-wise softmax of [`Head::logits`].
    pub fn probabilities(&self, features: ArrayView2<f32>) -> Array2<f32> {
        softmax_rows(self.logits(features).view())
    }

    /// AdUE uncertainty `U` per row (`[N]`), CONTRACT §6.
    pub fn uncertainty(&self, features: ArrayView2<f32>, spec: &UeSpec) -> Array1<f32> {
        let p = self.probabilities(features);
        p.axis_iter(Axis(0))
            .map(|row| uncertainty_from_probs(row, spec))
            .collect()
    }
}
