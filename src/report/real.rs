//! [`Real`]: a finite f64, the only float type in the report.
//!
//! `serde_json` writes NaN and ±∞ as `null` without complaint; a report built from
//! `Real`s cannot contain them, because a `Real` cannot hold them. Quantities that can be
//! undefined are `Option<Real>` and come with a stated reason.

use serde::{Deserialize, Deserializer, Serialize};

/// A finite `f64`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Real(f64);

/// A value that should have been finite was not.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("non-finite number {0}")]
pub struct NonFinite(pub f64);

impl Real {
    /// Zero.
    pub const ZERO: Real = Real(0.0);

    /// `Some` when `v` is finite.
    pub fn new(v: f64) -> Option<Real> {
        v.is_finite().then_some(Real(v))
    }

    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Real {
    type Error = NonFinite;

    fn try_from(v: f64) -> Result<Real, NonFinite> {
        Real::new(v).ok_or(NonFinite(v))
    }
}

impl From<Real> for f64 {
    fn from(r: Real) -> f64 {
        r.0
    }
}

impl<'de> Deserialize<'de> for Real {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Real, D::Error> {
        let v = f64::deserialize(d)?;
        Real::new(v).ok_or_else(|| serde::de::Error::custom(NonFinite(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finite_values_exist() {
        assert_eq!(Real::new(f64::NAN), None);
        assert_eq!(Real::new(f64::INFINITY), None);
        assert!(Real::try_from(f64::NEG_INFINITY).is_err());
        assert_eq!(Real::new(0.25).map(Real::get), Some(0.25));
        let json = serde_json::to_string(&Real::new(1.5)).unwrap();
        assert_eq!(json, "1.5");
        assert!(serde_json::from_str::<Real>("1e400").is_err());
    }
}
