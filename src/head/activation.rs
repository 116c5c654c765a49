//! Activations of the dense head.

use serde::{Deserialize, Serialize};

/// Non-linearity between `dense` and `out_proj`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `tanh`, RoBERTa's `RobertaClassificationHead`.
    Tanh,
    /// Exact (erf) GELU, ELECTRA's `ElectraClassificationHead` (`gelu` in HF is the erf form).
    Gelu,
}

impl Activation {
    /// The name used on the command line, in JSON and in safetensors metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
        }
    }

    /// Parses `tanh` or `gelu`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tanh" => Some(Activation::Tanh),
            "gelu" => Some(Activation::Gelu),
            _ => None,
        }
    }

    /// Applies the activation to one value in f32.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Tanh => x.tanh(),
            Activation::Gelu => gelu(f64::from(x)) as f32,
        }
    }
}

/// `GELU(x) = x·Φ(x) = ½x(1 + erf(x/√2))`, computed in f64.
pub fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2))
}
