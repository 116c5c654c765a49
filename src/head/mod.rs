//! The classification head and the AdUE uncertainty it induces.
//!
//! Every stage shares this one definition: the readers build a [`Head`] from a
//! checkpoint, the fit engine starts from a copy of it, the scorer and the
//! validator run it as the reference, and the exporter writes it as an ONNX graph.
//! Inference here is f32 (what a deployed model computes); the metrics are taken
//! in f64 from its outputs.

mod activation;
mod uncertainty;

pub use activation::{gelu, Activation};
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

    /// Width `D` of the hidden state the head consumes.
    pub fn input_dim(&self) -> usize {
        match self {
            Head::Linear { weight, .. } => weight.ncols(),
            Head::Dense { dense_weight, .. } => dense_weight.ncols(),
        }
    }

    /// Number of classes `C`.
    pub fn num_classes(&self) -> usize {
        match self {
            Head::Linear { weight, .. } => weight.nrows(),
            Head::Dense { out_weight, .. } => out_weight.nrows(),
        }
    }

    /// Width of the dense head's hidden layer; `None` for a linear head.
    pub fn hidden_dim(&self) -> Option<usize> {
        match self {
            Head::Linear { .. } => None,
            Head::Dense { dense_weight, .. } => Some(dense_weight.nrows()),
        }
    }

    /// Number of trainable scalars (the θ of the L2-SP term).
    pub fn num_parameters(&self) -> usize {
        match self {
            Head::Linear { weight, bias } => weight.len() + bias.as_ref().map_or(0, |b| b.len()),
            Head::Dense {
                dense_weight,
                dense_bias,
                out_weight,
                out_bias,
                ..
            } => dense_weight.len() + dense_bias.len() + out_weight.len() + out_bias.len(),
        }
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
