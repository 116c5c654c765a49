//! The typed `report.json` (CONTRACT §7). `schemas/report.schema.json` is its JSON Schema.
//!
//! Maps are `BTreeMap`s so that keys are written in a fixed order; every float is a
//! [`Real`] (finite by construction); a quantity that can be undefined is `Option<Real>`
//! together with a `reason`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::conventions::Conventions;
use super::fit_section::FitSection;
use super::provenance::{InputFile, Tool};
use super::real::Real;
use super::ReportError;
use crate::head::{Head, UeSpec};
use crate::score;

/// Version of the report layout; bumped on any change of the key paths.
pub const SCHEMA_VERSION: &str = "2.1.0";

/// A point estimate with its bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The value on the whole split; `null` when undefined (see `reason`).
    pub value: Option<Real>,
    /// 95% bootstrap interval `[lo, hi]`; `null` when no resample defines it.
    pub ci95: Option<[Real; 2]>,
    /// How `ci95` was formed from the resamples: `percentile`, `basic` or `bca`.
    pub ci_method: String,
    /// Why `value` or `ci95` is `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Resamples on which the statistic was undefined (e.g. no error) and was skipped.
    pub skipped_resamples: usize,
}

/// A value reported without an interval (MCE: the bootstrap is inconsistent for a maximum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointValue {
    /// The value on the whole split; `null` when undefined (see `reason`).
    pub value: Option<Real>,
    /// Why `value` is `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Ranking metrics (error ROC-AUC, AURC, E-AURC, PRR) of one uncertainty score on one split.
pub type MethodMetrics = score::RankingEstimates<Estimate>;

/// Calibration metrics (accuracy, ECE, debiased ECE, adaptive ECE, MCE, Brier, NLL) of one
/// set of probabilities on one split.
pub type CalibrationEstimates = score::CalibrationEstimates<Estimate, PointValue>;

/// Calibration of one split: the original probabilities, and after temperature scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitCalibration {
    /// Metrics of the original head's probabilities.
    #[serde(flatten)]
    pub original: CalibrationEstimates,
    /// The temperature and the metrics of `softmax(z / T)`.
    pub temperature: TemperatureCalibration,
}

/// Metrics after temperature scaling, with the temperature as `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperatureCalibration {
    /// The fitted temperature `T`.
    pub value: Real,
    /// The split `T` was fitted on.
    pub fitted_on: String,
    /// Metrics of the scaled probabilities, with `T` held fixed; absent on the split `T`
    /// was fitted on (see `reason`).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<CalibrationEstimates>,
    /// Why the metrics are absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A paired comparison of two methods on one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// ROC-AUC of the first method minus the second's, paired bootstrap interval (the same
    /// resample indices for both).
    pub roc_auc_diff: Estimate,
}

/// How one covariance was factorised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CovarianceInfo {
    /// Absolute jitter `j` on the diagonal (`Σ + j·I = L Lᵀ`).
    pub jitter: Real,
    /// `j / (tr(Σ)/D)`.
    pub relative_jitter: Real,
    /// `tr(Σ)/D`.
    pub mean_variance: Real,
    /// Factorisations attempted.
    pub attempts: usize,
    /// Condition-number estimate of `Σ + j·I`.
    pub condition_number: Real,
    /// How `condition_number` was obtained.
    pub condition_method: String,
    /// Largest condition estimate accepted before adding jitter.
    pub max_condition: Real,
}

/// A fitted Mahalanobis baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MahalanobisInfo {
    /// Which features: `input` (what the head consumes) or `dense_hidden`.
    pub features: String,
    /// Split the Gaussians were fitted on.
    pub train_split: String,
    /// Rows it had.
    pub train_rows: usize,
    /// Feature dimension.
    pub dim: usize,
    /// Training rows per class (classes without rows are left out of the minimum).
    pub class_counts: Vec<usize>,
    /// The shared within-class covariance.
    pub within: CovarianceInfo,
    /// The background Gaussian of the relative distance; absent when not fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<CovarianceInfo>,
}

/// The fitted temperature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperatureInfo {
    /// `T`.
    pub temperature: Real,
    /// Split it was fitted on.
    pub fitted_on: String,
    /// `converged`, `at_bracket_edge` or `flat`.
    pub status: String,
    /// NLL there at `T = 1`.
    pub nll_before: Real,
    /// NLL there at `T`.
    pub nll_after: Real,
    /// Search bracket `[T_min, T_max]`.
    pub bracket: [Real; 2],
}

/// Fitted baselines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// Mahalanobis on the input features (also gives the relative distance).
    pub mahalanobis: MahalanobisInfo,
    /// Mahalanobis on the dense head's hidden layer (dense heads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mahalanobis_hidden: Option<MahalanobisInfo>,
    /// Temperature scaling.
    pub temperature_scaling: TemperatureInfo,
}

/// Rows and errors of one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    /// Rows.
    pub rows: usize,
    /// Rows where the original head is wrong.
    pub errors: usize,
    /// `errors / rows`.
    pub error_rate: Real,
    /// Distinct gold labels present.
    pub classes_present: usize,
}

/// How the bootstrap intervals were made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInfo {
    /// Resamples per split.
    pub resamples: usize,
    /// Seed.
    pub seed: u64,
    /// Two-sided coverage.
    pub level: Real,
    /// Interval method.
    pub method: String,
    /// How each resample's generator is seeded.
    pub rng: String,
}

/// Everything the scorer produces for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSections {
    /// `data.<split>`.
    pub data: BTreeMap<String, SplitSummary>,
    /// `methods.<method>.<split>.<metric>`.
    pub methods: BTreeMap<String, BTreeMap<String, MethodMetrics>>,
    /// `calibration.<split>`.
    pub calibration: BTreeMap<String, SplitCalibration>,
    /// `comparisons.<a>_vs_<b>.<split>`.
    pub comparisons: BTreeMap<String, BTreeMap<String, Comparison>>,
    /// `baselines`.
    pub baselines: Baselines,
    /// `bootstrap`.
    pub bootstrap: BootstrapInfo,
}

/// The classification head and the uncertainty definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadSummary {
    /// `linear` or `dense`.
    pub kind: String,
    /// `tanh` / `gelu`, `null` for linear heads.
    pub activation: Option<String>,
    /// Whether the output layer has a bias.
    pub has_bias: bool,
    /// Classes `C`.
    pub num_classes: usize,
    /// Input width `D`.
    pub hidden_size: usize,
    /// Width of the dense head's hidden layer.
    pub dense_size: Option<usize>,
    /// λ of SmoothMax.
    pub lambda: Real,
    /// Scale of `U`.
    pub scale: Real,
    /// Clamp margin of `U`.
    pub eps: Real,
}

impl HeadSummary {
    /// Describes `head` and `spec`.
    pub fn new(head: &Head, spec: &UeSpec) -> Result<Self, ReportError> {
        Ok(HeadSummary {
            kind: head.kind().as_str().into(),
            activation: head.activation().map(|a| a.as_str().into()),
            has_bias: head.has_bias(),
            num_classes: head.num_classes(),
            hidden_size: head.input_dim(),
            dense_size: head.hidden_dim(),
            lambda: real("head.lambda", spec.lambda)?,
            scale: real("head.scale", spec.scale)?,
            eps: real("head.eps", spec.eps)?,
        })
    }
}

/// The whole `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// Producer.
    pub tool: Tool,
    /// Seed of the run (fit and bootstrap).
    pub seed: u64,
    /// Class names, index = class, when the feature files name them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_names: Option<Vec<String>>,
    /// `inputs.<name>`: every input file.
    pub inputs: BTreeMap<String, InputFile>,
    /// The head, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<HeadSummary>,
    /// The grid search.
    pub fit: FitSection,
    /// `data`, `methods`, `calibration`, `comparisons`, `baselines` and `bootstrap`, at the
    /// top level of the file.
    #[serde(flatten)]
    pub evaluation: EvaluationSections,
    /// Key paths of the numbers that are selection-biased: AdUE's metrics on the split whose
    /// rows chose its configuration and epoch (the best of many looks optimistic there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selection_biased: Vec<String>,
    /// Metric conventions.
    pub conventions: Conventions,
    /// Seconds per stage (varies run to run; everything else is deterministic).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub timing: BTreeMap<String, Real>,
}

/// Inputs of [`Report::new`].
#[derive(Debug, Clone)]
pub struct ReportParts {
    /// Seed of the run.
    pub seed: u64,
    /// Class names, when known.
    pub label_names: Option<Vec<String>>,
    /// Every input file by name (`checkpoint`, `train`, `val`, `test`, ...).
    pub inputs: BTreeMap<String, InputFile>,
    /// The head.
    pub head: Option<HeadSummary>,
    /// The grid search.
    pub fit: FitSection,
    /// What [`crate::score::evaluate`] produced, in the report's form
    /// ([`EvaluationSections::new`]).
    pub evaluation: EvaluationSections,
    /// Seconds per stage.
    pub timing: BTreeMap<String, f64>,
}

impl Report {
    /// Assembles the report.
    pub fn new(parts: ReportParts) -> Result<Report, ReportError> {
        let timing = parts
            .timing
            .into_iter()
            .map(|(k, v)| Ok((k.clone(), real(&format!("timing.{k}"), v)?)))
            .collect::<Result<_, ReportError>>()?;
        let selection_biased = selection_biased(&parts.fit, &parts.evaluation);
        Ok(Report {
            schema_version: SCHEMA_VERSION.into(),
            tool: Tool::default(),
            seed: parts.seed,
            label_names: parts.label_names,
            inputs: parts.inputs,
            head: parts.head,
            fit: parts.fit,
            evaluation: parts.evaluation,
            selection_biased,
            conventions: Conventions::default(),
            timing,
        })
    }
}

/// The key paths of the selection-biased numbers: the selected configuration's selection
/// score (the best of the grid on the rows that scored it, whether a hold-out split or the
/// cross-validation folds), and AdUE's ranking metrics and paired comparisons on every split
/// in `fit.selection.biased_splits` (rows that took part in fitting or selection).
fn selection_biased(fit: &FitSection, e: &EvaluationSections) -> Vec<String> {
    let adue = score::method::ADUE;
    let mut out = Vec::new();
    if fit.selected.val_roc_auc.is_some() {
        out.push("fit.selected.val_roc_auc".to_string());
    }
    for split in &fit.selection.biased_splits {
        if e.methods.get(adue).is_some_and(|m| m.contains_key(split)) {
            out.push(format!("methods.{adue}.{split}"));
        }
        for (pair, per_split) in &e.comparisons {
            if pair.starts_with(&format!("{adue}_vs_")) && per_split.contains_key(split) {
                out.push(format!("comparisons.{pair}.{split}"));
            }
        }
    }
    out
}

/// `Real` or an error naming the field.
pub fn real(field: &str, v: f64) -> Result<Real, ReportError> {
    Real::new(v).ok_or_else(|| ReportError::NonFinite {
        field: field.to_string(),
        value: v,
    })
}
