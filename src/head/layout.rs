//! The one description of a head's layers and tensors.
//!
//! A head is a chain of affine layers `x Wᵀ + b` (PyTorch `[out, in]` weights), each
//! optionally followed by an activation. [`HeadLayout`] lists them from the features to the
//! logits and names every tensor: its key in `head.safetensors` (prefixed, its ONNX
//! initializer name), its shape and its offset in the fit engine's flat parameter vector θ
//! (each layer's weight row-major, then its bias). The head file reader and writer, the θ
//! packing of the fit engine and the ONNX graph builder all walk this list; the keys of each
//! kind are [`HeadKind::layer_keys`], and only the maths of a new kind of head
//! (forward/backward, ONNX nodes of a new activation) is written per kind.
//!
//! The layout is `Copy` and allocation-free: the fit engine cuts θ with it on every step.

use ndarray::{Array1, Array2};

use super::{Activation, Head, HeadKind, MAX_LAYERS};

/// One affine layer of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Key of the `[outputs, inputs]` weight.
    pub weight_key: &'static str,
    /// Key of the `[outputs]` bias.
    pub bias_key: &'static str,
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Whether the layer has a bias.
    pub bias: bool,
    /// Non-linearity applied to the layer's output, if any.
    pub activation: Option<Activation>,
    /// Offset of the weight in θ; the bias follows it.
    pub offset: usize,
}

impl Layer {
    /// Scalars of the weight.
    pub fn weight_len(&self) -> usize {
        self.outputs * self.inputs
    }

    /// Scalars of the bias (0 without one).
    pub fn bias_len(&self) -> usize {
        if self.bias {
            self.outputs
        } else {
            0
        }
    }

    /// The layer's name in ONNX node names: the weight key without `.weight` (`dense`).
    pub fn name(&self) -> &'static str {
        self.weight_key
            .strip_suffix(".weight")
            .unwrap_or(self.weight_key)
    }
}

/// One tensor of a head, as [`HeadLayout::tensors`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorSlot {
    /// Key in `head.safetensors`.
    pub key: &'static str,
    /// `[outputs, inputs]` for a weight, `[outputs]` for a bias (`rank` tells which).
    pub shape: [usize; 2],
    /// 2 for a weight, 1 for a bias.
    pub rank: usize,
    /// Offset in θ.
    pub offset: usize,
}

impl TensorSlot {
    /// The shape as a slice of `rank` dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.shape[..self.rank]
    }

    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.dims().iter().product()
    }

    /// Whether the tensor has no scalars.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The layers of a head, from the features to the logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLayout {
    kind: HeadKind,
    layers: [Option<Layer>; MAX_LAYERS],
}

impl HeadLayout {
    /// The layout of a head of `kind` with the given `(outputs, inputs, has bias)` per layer
    /// and the activation after the first layer of a dense head.
    fn new(kind: HeadKind, shapes: &[(usize, usize, bool)], act: Option<Activation>) -> Self {
        let mut layers = [None; MAX_LAYERS];
        let mut offset = 0;
        let last = shapes.len().saturating_sub(1);
        for (i, ((&(outputs, inputs, bias), &(w, b)), slot)) in shapes
            .iter()
            .zip(kind.layer_keys())
            .zip(&mut layers)
            .enumerate()
        {
            let layer = Layer {
                weight_key: w,
                bias_key: b,
                inputs,
                outputs,
                bias,
                activation: if i < last { act } else { None },
                offset,
            };
            offset += layer.weight_len() + layer.bias_len();
            *slot = Some(layer);
        }
        HeadLayout { kind, layers }
    }

    /// A linear head `[C, D]` weight (+ `[C]` bias).
    pub fn linear(d: usize, c: usize, bias: bool) -> Self {
        HeadLayout::new(HeadKind::Linear, &[(c, d, bias)], None)
    }

    /// A dense head: `[H, D]` → `act` → `[C, H]`, both with biases.
    pub fn dense(d: usize, h: usize, c: usize, act: Activation) -> Self {
        HeadLayout::new(HeadKind::Dense, &[(h, d, true), (c, h, true)], Some(act))
    }

    /// The layout of `head`.
    pub fn of(head: &Head) -> Self {
        let shapes: Vec<(usize, usize, bool)> = head
            .layers()
            .iter()
            .map(|(w, b)| (w.nrows(), w.ncols(), b.is_some()))
            .collect();
        HeadLayout::new(head.kind(), &shapes, head.activation())
    }

    /// Which kind of head.
    pub fn kind(&self) -> HeadKind {
        self.kind
    }

    /// The layers, features to logits.
    pub fn layers(&self) -> impl Iterator<Item = &Layer> + '_ {
        self.layers.iter().flatten()
    }

    /// Layer `i`, if the head has it.
    pub fn layer(&self, i: usize) -> Option<&Layer> {
        self.layers.get(i).and_then(Option::as_ref)
    }

    /// Every tensor, features to logits (weight, then bias, per layer).
    pub fn tensors(&self) -> impl Iterator<Item = TensorSlot> + '_ {
        self.layers().flat_map(|l| {
            let weight = TensorSlot {
                key: l.weight_key,
                shape: [l.outputs, l.inputs],
                rank: 2,
                offset: l.offset,
            };
            let bias = l.bias.then_some(TensorSlot {
                key: l.bias_key,
                shape: [l.outputs, 0],
                rank: 1,
                offset: l.offset + l.weight_len(),
            });
            std::iter::once(weight).chain(bias)
        })
    }

    /// Input width D.
    pub fn input_dim(&self) -> usize {
        self.layers().next().map_or(0, |l| l.inputs)
    }

    /// Number of classes C.
    pub fn num_classes(&self) -> usize {
        self.layers().last().map_or(0, |l| l.outputs)
    }

    /// Width of the hidden layer (0 for a single-layer head).
    pub fn hidden_dim(&self) -> usize {
        match self.layer(1) {
            Some(_) => self.layer(0).map_or(0, |l| l.outputs),
            None => 0,
        }
    }

    /// The non-linearity between the layers (dense heads).
    pub fn activation(&self) -> Option<Activation> {
        self.layers().find_map(|l| l.activation)
    }

    /// Length of θ.
    pub fn num_params(&self) -> usize {
        self.layers()
            .last()
            .map_or(0, |l| l.offset + l.weight_len() + l.bias_len())
    }
}

/// Why a set of layer tensors does not form a head.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// A bias whose length is not its layer's output width.
    #[error("expected shape [{expected}], got {got:?}")]
    Bias {
        /// The bias key.
        key: &'static str,
        /// The layer's output width.
        expected: usize,
        /// Its shape.
        got: Vec<usize>,
    },
    /// A weight whose input width is not the previous layer's output width.
    #[error("expected {expected} columns (rows of {previous}), got {got}")]
    Columns {
        /// The weight key.
        key: &'static str,
        /// The previous layer's weight key.
        previous: &'static str,
        /// The previous layer's output width.
        expected: usize,
        /// The weight's columns.
        got: usize,
        /// The weight's shape.
        shape: Vec<usize>,
    },
    /// A layer the kind requires is missing, or one it does not have is present.
    #[error("a {kind} head has {expected} layer(s), got {got}")]
    Layers {
        /// The kind.
        kind: &'static str,
        /// Layers of that kind.
        expected: usize,
        /// Layers given.
        got: usize,
    },
}

impl ShapeError {
    /// The key of the offending tensor (the kind's first key for a wrong layer count).
    pub fn key(&self) -> &'static str {
        match self {
            ShapeError::Bias { key, .. } | ShapeError::Columns { key, .. } => key,
            ShapeError::Layers { .. } => "",
        }
    }
}

/// One layer's parameters: `[outputs, inputs]` weight and optional `[outputs]` bias.
pub type LayerParams = (Array2<f32>, Option<Array1<f32>>);

/// Checks that `layers` chain: each bias fits its layer, each layer's inputs are the previous
/// layer's outputs. Keys are `kind`'s (layers beyond its count are not checked).
pub fn check_layers<'a>(
    kind: HeadKind,
    layers: impl IntoIterator<Item = (&'a Array2<f32>, Option<&'a Array1<f32>>)>,
) -> Result<(), ShapeError> {
    let mut previous: Option<(&'static str, usize)> = None;
    for (&(wk, bk), (w, b)) in kind.layer_keys().iter().zip(layers) {
        if let Some((prev_key, width)) = previous {
            if w.ncols() != width {
                return Err(ShapeError::Columns {
                    key: wk,
                    previous: prev_key,
                    expected: width,
                    got: w.ncols(),
                    shape: w.shape().to_vec(),
                });
            }
        }
        if let Some(b) = b {
            if b.len() != w.nrows() {
                return Err(ShapeError::Bias {
                    key: bk,
                    expected: w.nrows(),
                    got: b.shape().to_vec(),
                });
            }
        }
        previous = Some((wk, w.nrows()));
    }
    Ok(())
}
