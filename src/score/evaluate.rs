//! The evaluation of a fit for `report.json`: every baseline and AdUE on every split,
//! with metrics, bootstrap intervals and paired comparisons (CONTRACT §5, §7).
//!
//! ```ignore
//! let eval = score::evaluate(&train, &[val, test], Some(&head), &EvalConfig::new(seed))?;
//! // eval.metrics → the report (mapped there); eval.scores → scores.safetensors;
//! // eval.mahalanobis.whitening() → the exporter.
//! ```

use std::collections::{BTreeMap, BTreeSet};

use linfa::traits::Fit;
use linfa::DatasetBase;
use ndarray::{ArrayView1, ArrayView2};

use super::bootstrap::BootstrapConfig;
use super::logits::{check_finite, check_logits, LogitStats};
use super::mahalanobis::{Mahalanobis, MahalanobisParams};
use super::metrics::Metrics;
use super::scores_file::SplitScores;
use super::temperature::{TemperatureScaling, TemperatureScalingParams};
use super::ScoreError;
use crate::head::Head;

/// Method names as they appear under `methods` in the report.
pub mod method {
    /// `1 − max p` of the original head.
    pub const SOFTMAX_RESPONSE: &str = "softmax_response";
    /// Predictive entropy of the original head.
    pub const ENTROPY: &str = "entropy";
    /// Min squared Mahalanobis distance on the input features.
    pub const MAHALANOBIS: &str = "mahalanobis";
    /// Relative Mahalanobis distance (Ren et al. 2021).
    pub const RELATIVE_MAHALANOBIS: &str = "relative_mahalanobis";
    /// Mahalanobis on the dense head's hidden layer.
    pub const MAHALANOBIS_HIDDEN: &str = "mahalanobis_hidden";
    /// `1 − max p` after temperature scaling.
    pub const TEMPERATURE_SCALING: &str = "temperature_scaling";
    /// The fitted AdUE head's `U`.
    pub const ADUE: &str = "adue";
}

/// How `condition_number` is obtained (written in the report).
pub const CONDITION_METHOD: &str =
    "cholesky_diagonal: (max L_ii / min L_ii)^2, a lower bound on the 2-norm condition number";

/// One split to score.
#[derive(Debug, Clone)]
pub struct SplitInputs<'a> {
    /// `val`, `test`, ...
    pub name: &'a str,
    /// Gold labels `[N]`.
    pub labels: ArrayView1<'a, usize>,
    /// The original head's logits `[N, C]` (the file's, when present).
    pub original_logits: ArrayView2<'a, f32>,
    /// The features `[N, D]` the head consumes.
    pub features: ArrayView2<'a, f32>,
    /// AdUE's `U` per row, when a fitted head exists.
    pub adue: Option<ArrayView1<'a, f32>>,
}

/// The rows the Mahalanobis Gaussians are fitted on (training split or `--md-train`).
#[derive(Debug, Clone)]
pub struct TrainInputs<'a> {
    /// Name of that split in the report.
    pub name: &'a str,
    /// Gold labels `[N]`.
    pub labels: ArrayView1<'a, usize>,
    /// Features `[N, D]`.
    pub features: ArrayView2<'a, f32>,
}

/// Settings of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalConfig {
    /// Bootstrap resamples, seed and level.
    pub bootstrap: BootstrapConfig,
    /// Split temperature scaling is fitted on.
    pub temperature_split: String,
    /// Temperature search bracket.
    pub temperature_bracket: (f64, f64),
    /// Largest accepted covariance condition estimate before jitter is added.
    pub max_condition: f64,
    /// Splits that are scored (their per-row scores are in [`Evaluation::scores`]) but not
    /// measured: no metrics, intervals or comparisons (e.g. the rows AdUE was fitted on).
    pub scores_only: BTreeSet<String>,
}

impl EvalConfig {
    /// CONTRACT defaults: 1000 resamples at 95% with `seed`, temperature fitted on `val`
    /// in `[0.01, 100]`, condition estimate at most 1e10, every split measured.
    pub fn new(seed: u64) -> Self {
        EvalConfig {
            bootstrap: BootstrapConfig::new(seed),
            temperature_split: "val".into(),
            temperature_bracket: (0.01, 100.0),
            max_condition: 1e10,
            scores_only: BTreeSet::new(),
        }
    }
}

/// Everything [`evaluate`] produces.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Metrics, intervals and comparisons of every method on every split.
    pub metrics: Metrics,
    /// Per-split scores of every method (for `scores.safetensors` and the HTML curves).
    pub scores: Vec<SplitScores>,
    /// The Mahalanobis model on the input features (its `whitening()` feeds the exporter).
    pub mahalanobis: Mahalanobis,
    /// The Mahalanobis model on the dense head's hidden layer.
    pub mahalanobis_hidden: Option<Mahalanobis>,
    /// The fitted temperature.
    pub temperature: TemperatureScaling,
    /// The settings it ran with.
    pub config: EvalConfig,
    /// Name of the split the Mahalanobis Gaussians were fitted on.
    pub md_train_split: String,
    /// Rows of that split.
    pub md_train_rows: usize,
}

/// Scores every method on every split and computes the metrics of CONTRACT §5.
///
/// Mahalanobis (and its relative form) is fitted on `train`; for a dense `head`, also on
/// its hidden layer; the temperature on the split named `config.temperature_split`. Splits
/// named in `config.scores_only` get per-row scores but no metrics.
pub fn evaluate(
    train: &TrainInputs,
    splits: &[SplitInputs],
    head: Option<&Head>,
    config: &EvalConfig,
) -> Result<Evaluation, ScoreError> {
    let b = &config.bootstrap;
    if b.resamples == 0 || !(b.level > 0.0 && b.level < 1.0) {
        return Err(ScoreError::InvalidParameter {
            name: "bootstrap",
            reason: format!(
                "needs at least 1 resample and a level in (0, 1), got {} resamples at {}",
                b.resamples, b.level
            ),
        });
    }
    let fit_split = splits
        .iter()
        .find(|s| s.name == config.temperature_split)
        .ok_or_else(|| ScoreError::MissingSplit {
            split: config.temperature_split.clone(),
            purpose: "temperature scaling is fitted on it",
        })?;
    let classes = fit_split.original_logits.ncols();
    check_inputs(train, splits, head, classes)?;

    let md = MahalanobisParams::new(classes)
        .max_condition(config.max_condition)
        .fit(&DatasetBase::new(train.features, train.labels))?;
    let hidden_md = match head.and_then(|h| h.hidden(train.features)) {
        Some(h) => Some(
            MahalanobisParams::new(classes)
                .max_condition(config.max_condition)
                .background(false)
                .fit(&DatasetBase::new(h.view(), train.labels))?,
        ),
        None => None,
    };
    let (t_min, t_max) = config.temperature_bracket;
    let ts = TemperatureScalingParams::new()
        .bracket(t_min, t_max)
        .fit(&DatasetBase::new(
            fit_split.original_logits,
            fit_split.labels,
        ))?;

    let mut metrics = Metrics::default();
    let mut scores = Vec::with_capacity(splits.len());
    for split in splits {
        let stats = LogitStats::new(split.original_logits, split.labels, 1.0);
        let scaled = LogitStats::new(split.original_logits, split.labels, ts.temperature);
        let s = split_scores(split, &stats, &scaled, &md, hidden_md.as_ref(), head)?;
        if !config.scores_only.contains(split.name) {
            // After-temperature calibration only on splits T was not fitted on: on its own
            // split the metrics are in-sample (optimistic), and a fixed-T bootstrap there
            // ignores the variability of fitting T.
            let held_out = (split.name != config.temperature_split).then_some(&scaled);
            metrics.add(split.name, &s, &stats, held_out, &config.bootstrap);
        }
        scores.push(s);
    }
    Ok(Evaluation {
        metrics,
        scores,
        mahalanobis: md,
        mahalanobis_hidden: hidden_md,
        temperature: ts,
        config: config.clone(),
        md_train_split: train.name.to_string(),
        md_train_rows: train.labels.len(),
    })
}

/// Shapes, labels, finiteness and unique names of all inputs.
fn check_inputs(
    train: &TrainInputs,
    splits: &[SplitInputs],
    head: Option<&Head>,
    classes: usize,
) -> Result<(), ScoreError> {
    let dim = train.features.ncols();
    if let Some(h) = head {
        if h.num_classes() != classes {
            return Err(ScoreError::ColumnMismatch {
                split: splits[0].name.into(),
                tensor: "logits",
                expected: h.num_classes(),
                got: classes,
            });
        }
        if h.input_dim() != dim {
            return Err(ScoreError::ColumnMismatch {
                split: train.name.into(),
                tensor: "features",
                expected: h.input_dim(),
                got: dim,
            });
        }
    }
    let mut names = BTreeSet::new();
    for s in splits {
        let err = |tensor, expected, got| ScoreError::RowMismatch {
            split: s.name.into(),
            tensor,
            expected,
            got,
        };
        if !names.insert(s.name) {
            return Err(ScoreError::DuplicateSplit {
                split: s.name.into(),
            });
        }
        if s.labels.is_empty() {
            return Err(ScoreError::EmptySplit {
                split: s.name.into(),
            });
        }
        check_logits(s.name, s.original_logits, s.labels, classes)?;
        if s.features.nrows() != s.labels.len() {
            return Err(err("features", s.labels.len(), s.features.nrows()));
        }
        if s.features.ncols() != dim {
            return Err(ScoreError::ColumnMismatch {
                split: s.name.into(),
                tensor: "features",
                expected: dim,
                got: s.features.ncols(),
            });
        }
        check_finite(s.name, "features", s.features)?;
        if let Some(u) = s.adue {
            if u.len() != s.labels.len() {
                return Err(err("adue", s.labels.len(), u.len()));
            }
            if let Some(row) = u.iter().position(|v| !v.is_finite()) {
                return Err(ScoreError::NonFinite {
                    split: s.name.into(),
                    tensor: "adue",
                    row,
                });
            }
        }
    }
    Ok(())
}

/// Every method's uncertainty on one split, with the probability summaries.
fn split_scores(
    s: &SplitInputs,
    stats: &LogitStats,
    scaled: &LogitStats,
    md: &Mahalanobis,
    hidden_md: Option<&Mahalanobis>,
    head: Option<&Head>,
) -> Result<SplitScores, ScoreError> {
    let mut u = BTreeMap::new();
    u.insert(method::SOFTMAX_RESPONSE.into(), stats.softmax_response());
    u.insert(method::ENTROPY.into(), stats.entropy.clone());
    u.insert(method::MAHALANOBIS.into(), md.scores(s.features)?);
    if let Some(rel) = md.relative_scores(s.features)? {
        u.insert(method::RELATIVE_MAHALANOBIS.into(), rel);
    }
    if let (Some(m), Some(h)) = (hidden_md, head.and_then(|h| h.hidden(s.features))) {
        u.insert(method::MAHALANOBIS_HIDDEN.into(), m.scores(h.view())?);
    }
    u.insert(
        method::TEMPERATURE_SCALING.into(),
        scaled.softmax_response(),
    );
    if let Some(a) = s.adue {
        u.insert(method::ADUE.into(), a.mapv(f64::from));
    }
    Ok(SplitScores {
        split: s.name.to_string(),
        labels: s.labels.to_owned(),
        predictions: stats.predictions.clone(),
        errors: stats.errors.clone(),
        confidence: stats.confidence.clone(),
        confidence_ts: scaled.confidence.clone(),
        uncertainty: u,
    })
}
