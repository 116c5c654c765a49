//! Scoring: uncertainty baselines and the metrics of CONTRACT §5.
//!
//! - per-sample quantities from logits: [`logits`];
//! - baselines (linfa estimators): [`baselines`] (softmax response, entropy),
//!   [`temperature`] (temperature scaling), [`mahalanobis`] (Mahalanobis, relative
//!   Mahalanobis, with the whitening form for the exporter);
//! - metrics: [`roc_auc`](mod@roc_auc), [`risk_coverage`] (AURC, E-AURC, PRR), [`calibration`]
//!   (accuracy, ECE, adaptive ECE, MCE, Brier, NLL), on a shared [`ranking`];
//! - intervals: [`bootstrap`]; per-split estimates and comparisons: [`metrics`];
//! - DeLong variances of an AUC and of a paired AUC difference: [`delong`];
//! - the whole evaluation of a fit: [`evaluate`](evaluate()) (the report maps it into its
//!   own types; nothing here knows the report).

pub mod baselines;
pub mod bootstrap;
pub mod calibration;
pub mod delong;
mod error;
mod evaluate;
pub mod logits;
pub mod mahalanobis;
pub mod metrics;
pub mod ranking;
pub mod risk_coverage;
pub mod roc_auc;
pub mod scores_file;
pub mod temperature;

pub use baselines::{Entropy, SoftmaxResponse};
pub use error::ScoreError;
pub use evaluate::{
    evaluate, method, EvalConfig, Evaluation, SplitInputs, TrainInputs, CONDITION_METHOD,
};
pub use logits::LogitStats;
pub use mahalanobis::{Mahalanobis, MahalanobisParams, RelativeMahalanobis, WhiteningExport};
pub use metrics::{CalibrationEstimates, Estimate, Metrics, RankingEstimates, SplitCounts};
pub use roc_auc::{auc_standard_error, roc_auc};
pub use scores_file::{scores_from_bytes, scores_to_bytes, SplitScores};
pub use temperature::{TemperatureScaling, TemperatureScalingParams, TemperatureStatus};
