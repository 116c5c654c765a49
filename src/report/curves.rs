//! The data behind the HTML charts, from the per-split scores (`scores.safetensors`).

use crate::score::calibration::{equal_width_bin, ECE_BINS};
use crate::score::method;
use crate::score::risk_coverage::risk_coverage_curve;
use crate::score::SplitScores;

/// Most points drawn per risk–coverage curve (longer curves are thinned evenly, keeping
/// the first and last points).
pub const MAX_CURVE_POINTS: usize = 400;

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBin {
    /// Lower edge (exclusive, except for the first bin).
    pub lo: f64,
    /// Upper edge (inclusive).
    pub hi: f64,
    /// Samples in the bin.
    pub count: usize,
    /// Fraction correct in the bin (`None` when empty).
    pub accuracy: Option<f64>,
    /// Mean top-class probability in the bin (`None` when empty).
    pub confidence: Option<f64>,
}

/// Curves of one split.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    /// The split drawn.
    pub split: String,
    /// Reliability bins of the original probabilities.
    pub reliability: Vec<ReliabilityBin>,
    /// Reliability bins after temperature scaling.
    pub reliability_ts: Vec<ReliabilityBin>,
    /// `(method, [(coverage, risk)])` for AdUE, softmax response and Mahalanobis (those present).
    pub risk_coverage: Vec<(String, Vec<(f64, f64)>)>,
}

/// The methods whose risk–coverage curves are drawn, in drawing order.
pub const CURVE_METHODS: [&str; 3] = [method::ADUE, method::SOFTMAX_RESPONSE, method::MAHALANOBIS];

fn reliability(confidence: &[f64], correct: &[bool]) -> Vec<ReliabilityBin> {
    let mut sums = [(0usize, 0.0f64, 0.0f64); ECE_BINS];
    for (&c, &ok) in confidence.iter().zip(correct) {
        let b = &mut sums[equal_width_bin(c)];
        b.0 += 1;
        b.1 += if ok { 1.0 } else { 0.0 };
        b.2 += c;
    }
    sums.iter()
        .enumerate()
        .map(|(k, &(n, acc, conf))| ReliabilityBin {
            lo: k as f64 / ECE_BINS as f64,
            hi: (k + 1) as f64 / ECE_BINS as f64,
            count: n,
            accuracy: (n > 0).then(|| acc / n as f64),
            confidence: (n > 0).then(|| conf / n as f64),
        })
        .collect()
}

/// Keeps at most `max` points, evenly spaced, always with the first and the last.
fn thin(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max < 2 {
        return points;
    }
    let last = points.len() - 1;
    (0..max).map(|i| points[i * last / (max - 1)]).collect()
}

impl Curves {
    /// The curves of `split`; `None` when that split is not in `scores`.
    pub fn from_scores(scores: &[SplitScores], split: &str) -> Option<Curves> {
        let s = scores.iter().find(|s| s.split == split)?;
        let correct: Vec<bool> = s.errors.iter().map(|&e| !e).collect();
        let errors = s.errors.to_vec();
        let risk_coverage = CURVE_METHODS
            .iter()
            .filter_map(|&m| {
                let u = s.uncertainty.get(m)?;
                let pts = risk_coverage_curve(&u.to_vec(), &errors);
                Some((m.to_string(), thin(pts, MAX_CURVE_POINTS)))
            })
            .collect();
        Some(Curves {
            split: split.to_string(),
            reliability: reliability(&s.confidence.to_vec(), &correct),
            reliability_ts: reliability(&s.confidence_ts.to_vec(), &correct),
            risk_coverage,
        })
    }

    /// The preferred split to draw: `test` when present, else `val`, else the first.
    pub fn preferred(scores: &[SplitScores]) -> Option<Curves> {
        let name = ["test", "val"]
            .into_iter()
            .find(|n| scores.iter().any(|s| s.split == *n))
            .or_else(|| scores.first().map(|s| s.split.as_str()))?;
        Curves::from_scores(scores, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use std::collections::BTreeMap;

    #[test]
    fn bins_and_curves_from_scores() {
        let labels = array![0, 1, 1, 0];
        let predictions = array![0, 1, 0, 0];
        let errors = ndarray::Zip::from(&labels)
            .and(&predictions)
            .map_collect(|l, p| l != p);
        let s = SplitScores {
            split: "test".into(),
            labels,
            predictions,
            errors,
            confidence: array![0.95, 0.5, 0.6, 0.97],
            confidence_ts: array![0.9, 0.5, 0.55, 0.92],
            uncertainty: BTreeMap::from([("adue".to_string(), array![0.1, 0.3, 0.8, 0.1])]),
        };
        let c = Curves::preferred(&[s]).unwrap();
        let top = c.reliability[14];
        assert_eq!((top.count, top.accuracy), (2, Some(1.0)));
        assert!((top.confidence.unwrap() - 0.96).abs() < 1e-12);
        assert_eq!(c.reliability.iter().map(|b| b.count).sum::<usize>(), 4);
        assert_eq!(c.risk_coverage.len(), 1);
        // Points: start, u=0.1 (2 rows), 0.3, 0.8.
        assert_eq!(
            c.risk_coverage[0].1,
            vec![(0.0, 0.0), (0.5, 0.0), (0.75, 0.0), (1.0, 0.25)]
        );
    }

    #[test]
    fn thinning_keeps_ends() {
        let pts: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, 0.0)).collect();
        let t = thin(pts, 10);
        assert_eq!(t.len(), 10);
        assert_eq!((t[0].0, t[9].0), (0.0, 999.0));
    }
}
