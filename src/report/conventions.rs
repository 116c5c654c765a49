//! `conventions` of `report.json`: the metric definitions in words, for readers of the file
//! and of the exported model's `adue.metric_conventions` metadata.

use serde::{Deserialize, Serialize};

use crate::score::metrics;

/// The metric conventions, spelled out for readers of the file (and of the ONNX metadata
/// `adue.metric_conventions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conventions {
    /// Definition of an error.
    pub error: String,
    /// Direction of the scores.
    pub uncertainty: String,
    /// Where the metrics are defined.
    pub metrics: String,
    /// AURC: the rectangle rule and its tie convention.
    pub aurc: String,
    /// E-AURC: the oracle.
    pub e_aurc: String,
    /// PRR: the normalisation.
    pub prr: String,
    /// ECE / MCE / adaptive-ECE bins.
    pub ece_bins: usize,
    /// The debiased ECE.
    pub ece_debiased: String,
    /// How the intervals are formed, per metric.
    pub intervals: String,
}

impl Default for Conventions {
    fn default() -> Self {
        Conventions {
            error: "e = 1 where argmax of the original logits differs from the label".into(),
            uncertainty: "higher = less trust".into(),
            metrics: "CONTRACT §5, computed in f64 from the stored logits".into(),
            aurc: "rectangle mean (1/N)·Σ_k r_k, r_k = error rate of the k rows with the lowest \
                   uncertainty (lm-polygraph's RiskCoverageCurveAUC); a run of g tied rows with \
                   m errors after k0 rows and E0 errors contributes Σ_{j=1..g} (E0 + j·m/g)/(k0 + j), \
                   the mean over the orders within the tie (rect_tieavg)"
                .into(),
            e_aurc: "AURC − AURC_oracle, the discrete oracle (1/N)·Σ_k max(0, k − C)/k with C \
                     correct rows (one point per row, as lm-polygraph)"
                .into(),
            prr: "(ē − AURC)/(ē − AURC_oracle), ē = error rate (the exact AURC of a random order; \
                  lm-polygraph's prr normalised with the exact random baseline)"
                .into(),
            ece_bins: crate::score::calibration::ECE_BINS,
            ece_debiased: "Kumar, Liang & Ma 2019 on the same bins: 2·ECE − Σ_b (n_b/N)·\
                           E|N(acc_b − conf_b, acc_b(1 − acc_b)/n_b)|, in closed form; unclipped \
                           (can be negative)"
                .into(),
            intervals: format!(
                "bootstrap, per estimate as ci_method: percentile for ranking metrics, \
                 comparisons, accuracy, Brier and NLL; {} for ECE, {} for the debiased ECE, {} \
                 for the adaptive ECE (chosen by coverage, README); MCE has no interval (the \
                 bootstrap is inconsistent for a maximum); after-temperature metrics are \
                 reported only on splits the temperature was not fitted on, with T held fixed",
                metrics::ECE_INTERVAL.as_str(),
                metrics::ECE_DEBIASED_INTERVAL.as_str(),
                metrics::ADAPTIVE_ECE_INTERVAL.as_str()
            ),
        }
    }
}
