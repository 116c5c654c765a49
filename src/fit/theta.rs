//! θ, the flat parameter vector the fit engine trains, cut into tensors by the head's
//! [`HeadLayout`]: each layer's `[out, in]` weight row-major, then its bias (CONTRACT §6
//! names the same tensors in `head.safetensors`). Cutting allocates nothing: the training
//! loop does it on every step.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, NdFloat};

use super::model::cast;
use crate::head::{Head, HeadLayout, LayerParams};

/// Borrowed parameter tensors of one θ (or of one gradient vector).
pub(crate) struct Parts<W, B> {
    /// `W` (linear) or `W₁` (dense).
    pub w1: W,
    /// `b` (linear, if any) or `b₁` (dense).
    pub b1: Option<B>,
    /// `W₂` (dense only).
    pub w2: Option<W>,
    /// `b₂` (dense only).
    pub b2: Option<B>,
}

/// `(rows, cols)` of layer `i`'s weight and the length of its bias; zeros for a layer the
/// head does not have.
fn sizes(layout: &HeadLayout, i: usize) -> ((usize, usize), usize) {
    layout
        .layer(i)
        .map_or(((0, 0), 0), |l| ((l.outputs, l.inputs), l.bias_len()))
}

/// θ as tensors.
pub(crate) trait Theta {
    /// Views of θ as tensors. `theta.len()` must be [`HeadLayout::num_params`].
    fn split<'a, F: NdFloat>(&self, theta: &'a [F]) -> Parts<ArrayView2<'a, F>, ArrayView1<'a, F>>;

    /// Mutable views of a gradient (or θ) vector as tensors.
    fn split_mut<'a, F: NdFloat>(
        &self,
        theta: &'a mut [F],
    ) -> Parts<ArrayViewMut2<'a, F>, ArrayViewMut1<'a, F>>;

    /// The [`Head`] whose weights are θ.
    fn head_from(&self, theta: &[f32]) -> Head;
}

impl Theta for HeadLayout {
    fn split<'a, F: NdFloat>(&self, theta: &'a [F]) -> Parts<ArrayView2<'a, F>, ArrayView1<'a, F>> {
        let ((w1s, b1n), (w2s, b2n)) = (sizes(self, 0), sizes(self, 1));
        let (w1, rest) = theta.split_at(w1s.0 * w1s.1);
        let (b1, rest) = rest.split_at(b1n);
        let (w2, b2) = rest.split_at(w2s.0 * w2s.1);
        // The lengths were cut to exactly these shapes just above.
        let view2 = |d: &'a [F], sh| ArrayView2::from_shape(sh, d).expect("length matches shape");
        Parts {
            w1: view2(w1, w1s),
            b1: (b1n > 0).then(|| ArrayView1::from(b1)),
            w2: (w2s.0 > 0).then(|| view2(w2, w2s)),
            b2: (b2n > 0).then(|| ArrayView1::from(&b2[..b2n])),
        }
    }

    fn split_mut<'a, F: NdFloat>(
        &self,
        theta: &'a mut [F],
    ) -> Parts<ArrayViewMut2<'a, F>, ArrayViewMut1<'a, F>> {
        let ((w1s, b1n), (w2s, b2n)) = (sizes(self, 0), sizes(self, 1));
        let (w1, rest) = theta.split_at_mut(w1s.0 * w1s.1);
        let (b1, rest) = rest.split_at_mut(b1n);
        let (w2, b2) = rest.split_at_mut(w2s.0 * w2s.1);
        // The lengths were cut to exactly these shapes just above.
        let view2 =
            |d: &'a mut [F], sh| ArrayViewMut2::from_shape(sh, d).expect("length matches shape");
        Parts {
            w1: view2(w1, w1s),
            b1: (b1n > 0).then(|| ArrayViewMut1::from(b1)),
            w2: (w2s.0 > 0).then(|| view2(w2, w2s)),
            b2: (b2n > 0).then(|| ArrayViewMut1::from(&mut b2[..b2n])),
        }
    }

    fn head_from(&self, theta: &[f32]) -> Head {
        let layers: Vec<LayerParams> = self
            .layers()
            .map(|l| {
                let w = &theta[l.offset..l.offset + l.weight_len()];
                let b = &theta[l.offset + l.weight_len()..][..l.bias_len()];
                // θ is cut to exactly this shape.
                let weight = ArrayView2::from_shape((l.outputs, l.inputs), w)
                    .expect("length matches shape")
                    .to_owned();
                (weight, l.bias.then(|| ArrayView1::from(b).to_owned()))
            })
            .collect();
        // The layers come from a layout, so they chain.
        Head::from_layers(self.kind(), self.activation(), layers).expect("layout is consistent")
    }
}

/// θ₀: the head's weights flattened in [`HeadLayout::tensors`] order.
pub(crate) fn flatten<F: NdFloat>(head: &Head) -> Vec<F> {
    let tensors = head.tensors();
    let mut out = Vec::with_capacity(head.num_parameters());
    for (_, values) in &tensors {
        out.extend(values.iter().map(|&v| cast::<F>(f64::from(v))));
    }
    out
}
