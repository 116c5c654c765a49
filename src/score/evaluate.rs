//! The evaluation of a fit for `report.json`: every baseline and AdUE on every split,
//! with metrics, bootstrap intervals and paired comparisons (CONTRACT §5, §7).
//!
//! ```ignore
//! let eval = score::evaluate(&train, &[val, test], Some(&head), &EvalConfig::new(seed))?;
//! // eval.sections → Report::new(..);  eval.scores → scores.safetensors;
//! // eval.mahalanobis.whitening() → the exporter.
//! ```

use std::collections::{BTreeMap, BTreeSet};

use linfa::traits::Fit;
use linfa::DatasetBase;
use ndarray::{ArrayView1, ArrayView2};

use super::bootstrap::{self, BootstrapConfig};
use super::calibration::{Calibration, CalibrationMetrics};
use super::logits::{check_finite, check_logits, LogitStats};
use super::mahalanobis::{CovarianceFactorInfo, Mahalanobis, MahalanobisParams};
use super::ranking::Ranking;
use super::risk_coverage::SelectiveMetrics;
use super::scores_file::SplitScores;
use super::temperature::{TemperatureScaling, TemperatureScalingParams, TemperatureStatus};
use super::ScoreError;
use crate::head::Head;
use crate::report::model::{
    Baselines, BootstrapInfo, CalibrationEstimates, Comparison, CovarianceInfo, Estimate,
    EvaluationSections, MahalanobisInfo, MethodMetrics, SplitCalibration, SplitSummary,
    TemperatureCalibration, TemperatureInfo,
};
use crate::report::real::Real;

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
}

impl EvalConfig {
    /// CONTRACT defaults: 1000 resamples at 95% with `seed`, temperature fitted on `val`
    /// in `[0.01, 100]`, condition estimate at most 1e10.
    pub fn new(seed: u64) -> Self {
        EvalConfig {
            bootstrap: BootstrapConfig::new(seed),
            temperature_split: "val".into(),
            temperature_bracket: (0.01, 100.0),
            max_condition: 1e10,
        }
    }
}

/// Everything [`evaluate`] produces.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The report sections (`data`, `methods`, `calibration`, `comparisons`, `baselines`,
    /// `bootstrap`).
    pub sections: EvaluationSections,
    /// Per-split scores of every method (for `scores.safetensors` and the HTML curves).
    pub scores: Vec<SplitScores>,
    /// The Mahalanobis model on the input features (its `whitening()` feeds the exporter).
    pub mahalanobis: Mahalanobis,
    /// The Mahalanobis model on the dense head's hidden layer.
    pub mahalanobis_hidden: Option<Mahalanobis>,
    /// The fitted temperature.
    pub temperature: TemperatureScaling,
}

/// Scores every method on every split and computes the metrics of CONTRACT §5.
///
/// Mahalanobis (and its relative form) is fitted on `train`; for a dense `head`, also on
/// its hidden layer; the temperature on the split named `config.temperature_split`.
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

    let mut sections = Sections::default();
    let mut scores = Vec::with_capacity(splits.len());
    for split in splits {
        let stats = LogitStats::new(split.original_logits, split.labels, 1.0);
        let scaled = LogitStats::new(split.original_logits, split.labels, ts.temperature);
        let s = split_scores(split, &stats, &scaled, &md, hidden_md.as_ref(), head)?;
        sections.add(split.name, &s, &stats, &scaled, &config.bootstrap);
        scores.push(s);
    }

    let baselines = Baselines {
        mahalanobis: md_info(&md, "input", train, config.max_condition)?,
        mahalanobis_hidden: hidden_md
            .as_ref()
            .map(|m| md_info(m, "dense_hidden", train, config.max_condition))
            .transpose()?,
        temperature_scaling: temperature_info(&ts, &config.temperature_split)?,
    };
    let bootstrap =
        BootstrapInfo::new(&config.bootstrap).map_err(|_| ScoreError::NonFiniteSummary {
            field: "bootstrap.level".into(),
            value: config.bootstrap.level,
        })?;
    Ok(Evaluation {
        sections: EvaluationSections {
            data: sections.data,
            methods: sections.methods,
            calibration: sections
                .calibration
                .into_iter()
                .map(|(split, (orig, after))| {
                    let cal = SplitCalibration {
                        original: orig,
                        temperature: TemperatureCalibration {
                            value: baselines.temperature_scaling.temperature,
                            fitted_on: config.temperature_split.clone(),
                            metrics: after,
                        },
                    };
                    (split, cal)
                })
                .collect(),
            comparisons: sections.comparisons,
            baselines,
            bootstrap,
        },
        scores,
        mahalanobis: md,
        mahalanobis_hidden: hidden_md,
        temperature: ts,
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

/// One bootstrap resample's statistics.
struct Replicate {
    selective: Vec<Option<SelectiveMetrics>>,
    original: Option<CalibrationMetrics>,
    scaled: Option<CalibrationMetrics>,
}

/// The report sections as they are filled split by split.
#[derive(Default)]
struct Sections {
    data: BTreeMap<String, SplitSummary>,
    methods: BTreeMap<String, BTreeMap<String, MethodMetrics>>,
    calibration: BTreeMap<String, (CalibrationEstimates, CalibrationEstimates)>,
    comparisons: BTreeMap<String, BTreeMap<String, Comparison>>,
}

impl Sections {
    /// Metrics, intervals and comparisons of one split.
    fn add(
        &mut self,
        split: &str,
        s: &SplitScores,
        stats: &LogitStats,
        scaled: &LogitStats,
        cfg: &BootstrapConfig,
    ) {
        let errors = s.errors.to_vec();
        let (n, n_err) = (errors.len(), errors.iter().filter(|&&e| e).count());
        let names: Vec<&String> = s.uncertainty.keys().collect();
        let rankings: Vec<Option<Ranking>> = s
            .uncertainty
            .values()
            .map(|u| Ranking::new(&u.to_vec()))
            .collect();
        let cal = Calibration::new(stats);
        let cal_ts = Calibration::new(scaled);
        let compute = |w: Option<&[u32]>| Replicate {
            selective: rankings
                .iter()
                .map(|r| {
                    r.as_ref()
                        .and_then(|r| SelectiveMetrics::compute(r, &errors, w))
                })
                .collect(),
            original: cal.compute(w),
            scaled: cal_ts.compute(w),
        };
        let point = compute(None);
        let reps = bootstrap::run(n, cfg, |w| compute(Some(w)));

        let undefined = |metric: &str| {
            if n_err == 0 {
                format!("no prediction in split `{split}` is wrong: {metric} is undefined")
            } else {
                format!("every prediction in split `{split}` is wrong: {metric} is undefined")
            }
        };
        let nan = "the scores contain NaN".to_string();
        let est = |point: Result<f64, String>, pick: &dyn Fn(&Replicate) -> Option<f64>| {
            let r: Vec<Option<f64>> = reps.iter().map(pick).collect();
            Estimate::from_replicates(point, &r, cfg.level)
        };
        for (m, name) in names.iter().enumerate() {
            let p = point.selective[m];
            let sel = |f: fn(&SelectiveMetrics) -> Option<f64>, metric: &str| {
                let value = match p {
                    None => Err(nan.clone()),
                    Some(sm) => f(&sm).ok_or_else(|| undefined(metric)),
                };
                est(value, &|r| r.selective[m].as_ref().and_then(f))
            };
            let metrics = MethodMetrics {
                roc_auc: sel(|s| s.roc_auc, "error ROC-AUC"),
                aurc: sel(|s| Some(s.aurc), "AURC"),
                e_aurc: sel(|s| Some(s.e_aurc), "E-AURC"),
                prr: sel(|s| s.prr, "PRR"),
            };
            self.methods
                .entry((*name).clone())
                .or_default()
                .insert(split.into(), metrics);
        }

        let calib = |which: fn(&Replicate) -> Option<CalibrationMetrics>| {
            let c = |f: fn(&CalibrationMetrics) -> f64| {
                // Calibration exists for every non-empty split (checked above).
                let value = which(&point)
                    .map(|m| f(&m))
                    .ok_or_else(|| format!("split `{split}` has no rows"));
                est(value, &|r| which(r).map(|m| f(&m)))
            };
            CalibrationEstimates {
                accuracy: c(|m| m.accuracy),
                ece: c(|m| m.ece),
                adaptive_ece: c(|m| m.adaptive_ece),
                mce: c(|m| m.mce),
                brier: c(|m| m.brier),
                nll: c(|m| m.nll),
            }
        };
        self.calibration
            .insert(split.into(), (calib(|r| r.original), calib(|r| r.scaled)));

        // Paired differences: the same resample for both methods.
        let idx = |name: &str| names.iter().position(|n| n.as_str() == name);
        if let Some(a) = idx(method::ADUE) {
            for other in [method::SOFTMAX_RESPONSE, method::MAHALANOBIS] {
                let Some(b) = idx(other) else { continue };
                let diff = |r: &Replicate| {
                    let auc = |m: usize| r.selective[m].as_ref().and_then(|s| s.roc_auc);
                    Some(auc(a)? - auc(b)?)
                };
                let value = diff(&point).ok_or_else(|| undefined("error ROC-AUC"));
                let cmp = Comparison {
                    roc_auc_diff: est(value, &diff),
                };
                self.comparisons
                    .entry(format!("{}_vs_{other}", method::ADUE))
                    .or_default()
                    .insert(split.into(), cmp);
            }
        }

        let classes: BTreeSet<usize> = s.labels.iter().copied().collect();
        self.data.insert(
            split.into(),
            SplitSummary {
                rows: n,
                errors: n_err,
                // n > 0 (checked), so the rate is finite.
                error_rate: Real::new(n_err as f64 / n as f64).unwrap_or(Real::ZERO),
                classes_present: classes.len(),
            },
        );
    }
}

fn finite(field: &str, v: f64) -> Result<Real, ScoreError> {
    Real::new(v).ok_or_else(|| ScoreError::NonFiniteSummary {
        field: field.into(),
        value: v,
    })
}

fn covariance_info(
    field: &str,
    i: &CovarianceFactorInfo,
    max_condition: f64,
) -> Result<CovarianceInfo, ScoreError> {
    Ok(CovarianceInfo {
        jitter: finite(&format!("{field}.jitter"), i.jitter)?,
        relative_jitter: finite(&format!("{field}.relative_jitter"), i.relative_jitter)?,
        mean_variance: finite(&format!("{field}.mean_variance"), i.mean_variance)?,
        attempts: i.attempts,
        condition_number: finite(&format!("{field}.condition_number"), i.condition_number)?,
        condition_method: CONDITION_METHOD.into(),
        max_condition: finite(&format!("{field}.max_condition"), max_condition)?,
    })
}

fn md_info(
    md: &Mahalanobis,
    features: &str,
    train: &TrainInputs,
    max_condition: f64,
) -> Result<MahalanobisInfo, ScoreError> {
    let field = format!("baselines.mahalanobis[{features}]");
    Ok(MahalanobisInfo {
        features: features.into(),
        train_split: train.name.into(),
        train_rows: train.labels.len(),
        dim: md.dim(),
        class_counts: md.class_counts().to_vec(),
        within: covariance_info(&format!("{field}.within"), &md.within_info(), max_condition)?,
        background: md
            .background_info()
            .map(|b| covariance_info(&format!("{field}.background"), &b, max_condition))
            .transpose()?,
    })
}

fn temperature_info(ts: &TemperatureScaling, split: &str) -> Result<TemperatureInfo, ScoreError> {
    let f = "baselines.temperature_scaling";
    Ok(TemperatureInfo {
        temperature: finite(&format!("{f}.temperature"), ts.temperature)?,
        fitted_on: split.into(),
        status: match ts.status {
            TemperatureStatus::Converged => "converged",
            TemperatureStatus::AtBracketEdge => "at_bracket_edge",
            TemperatureStatus::Flat => "flat",
        }
        .into(),
        nll_before: finite(&format!("{f}.nll_before"), ts.nll_before)?,
        nll_after: finite(&format!("{f}.nll_after"), ts.nll_after)?,
        bracket: [
            finite(&format!("{f}.bracket"), ts.bracket.0)?,
            finite(&format!("{f}.bracket"), ts.bracket.1)?,
        ],
    })
}
