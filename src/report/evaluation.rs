//! The stages' results in the report's form: every number becomes a [`Real`] (or a stated
//! `null`), the fitted baselines are described, the sections are keyed as in CONTRACT §7.
//! This is the only place that maps `score` and `fit` types into report types.

use super::fit_section::{
    CalibrationInfo, CvInfo, FitSection, GridEntry, RefitInfo, Selected, SelectionInfo,
    SelectionScore, METRIC_CV_ROC_AUC, METRIC_VAL_ROC_AUC,
};
use super::model::{
    real, Baselines, BootstrapInfo, Comparison, CovarianceInfo, Estimate, EvaluationSections,
    MahalanobisInfo, PointValue, SplitCalibration, SplitSummary, TemperatureCalibration,
    TemperatureInfo,
};
use super::real::Real;
use super::ReportError;
use crate::fit::{FitOutcome, GridResult};
use crate::score::bootstrap::BootstrapConfig;
use crate::score::mahalanobis::CovarianceFactorInfo;
use crate::score::{self, Evaluation, Mahalanobis, TemperatureScaling, TemperatureStatus};

impl From<&score::Estimate> for Estimate {
    fn from(e: &score::Estimate) -> Estimate {
        let ci95 = e
            .interval
            .bounds
            .and_then(|(lo, hi)| Some([Real::new(lo)?, Real::new(hi)?]));
        let (value, mut reason) = match &e.point {
            Ok(v) => match Real::new(*v) {
                Some(r) => (Some(r), None),
                None => (None, Some(format!("the statistic is not finite ({v})"))),
            },
            Err(why) => (None, Some(why.clone())),
        };
        if ci95.is_none() && reason.is_none() {
            reason = Some("undefined on every bootstrap resample".into());
        }
        Estimate {
            value,
            ci95,
            ci_method: e.interval.method.as_str().into(),
            reason,
            skipped_resamples: e.interval.skipped,
        }
    }
}

/// A value without an interval: finite, or `null` with the reason.
fn point(p: &score::metrics::Point) -> PointValue {
    match p {
        Ok(v) => match Real::new(*v) {
            Some(r) => PointValue {
                value: Some(r),
                reason: None,
            },
            None => PointValue {
                value: None,
                reason: Some(format!("the statistic is not finite ({v})")),
            },
        },
        Err(why) => PointValue {
            value: None,
            reason: Some(why.clone()),
        },
    }
}

/// [`Estimate::from`] as a function over any borrow (for the metric containers' `map`).
fn estimate(e: &score::Estimate) -> Estimate {
    e.into()
}

impl BootstrapInfo {
    /// Describes `config`.
    pub fn new(config: &BootstrapConfig) -> Result<Self, ReportError> {
        Ok(BootstrapInfo {
            resamples: config.resamples,
            seed: config.seed,
            level: real("bootstrap.level", config.level)?,
            method: "per estimate, see its ci_method (percentile, basic or bca); quantiles of \
                     the resamples by linear interpolation (numpy default)"
                .into(),
            rng: "xoshiro256++ per resample b, seeded with splitmix64(seed ^ splitmix64(b))".into(),
        })
    }
}

impl EvaluationSections {
    /// The report sections (`data`, `methods`, `calibration`, `comparisons`, `baselines`,
    /// `bootstrap`) of an evaluation.
    pub fn new(e: &Evaluation) -> Result<Self, ReportError> {
        let m = &e.metrics;
        let max_condition = e.config.max_condition;
        let temperature_split = &e.config.temperature_split;
        let baselines = Baselines {
            mahalanobis: md_info(&e.mahalanobis, "input", e, max_condition)?,
            mahalanobis_hidden: e
                .mahalanobis_hidden
                .as_ref()
                .map(|h| md_info(h, "dense_hidden", e, max_condition))
                .transpose()?,
            temperature_scaling: temperature_info(&e.temperature, temperature_split)?,
        };
        Ok(EvaluationSections {
            data: m
                .data
                .iter()
                .map(|(split, c)| {
                    let summary = SplitSummary {
                        rows: c.rows,
                        errors: c.errors,
                        // rows > 0 (checked by the scorer), so the rate is finite.
                        error_rate: Real::new(c.errors as f64 / c.rows as f64)
                            .unwrap_or(Real::ZERO),
                        classes_present: c.classes_present,
                    };
                    (split.clone(), summary)
                })
                .collect(),
            methods: m
                .methods
                .iter()
                .map(|(method, per_split)| {
                    let splits = per_split.iter().map(|(s, r)| (s.clone(), r.map(estimate)));
                    (method.clone(), splits.collect())
                })
                .collect(),
            calibration: m
                .calibration
                .iter()
                .map(|(split, (orig, after))| {
                    let reason = after.is_none().then(|| {
                        format!(
                            "T was fitted on `{split}`: metrics there are in-sample (optimistic); \
                             see a split T was not fitted on"
                        )
                    });
                    let cal = SplitCalibration {
                        original: orig.map(estimate, point),
                        temperature: TemperatureCalibration {
                            value: baselines.temperature_scaling.temperature,
                            fitted_on: temperature_split.clone(),
                            metrics: after.as_ref().map(|a| a.map(estimate, point)),
                            reason,
                        },
                    };
                    (split.clone(), cal)
                })
                .collect(),
            comparisons: m
                .comparisons
                .iter()
                .map(|(pair, per_split)| {
                    let splits = per_split.iter().map(|(s, d)| {
                        let cmp = Comparison {
                            roc_auc_diff: estimate(d),
                        };
                        (s.clone(), cmp)
                    });
                    (pair.clone(), splits.collect())
                })
                .collect(),
            baselines,
            bootstrap: BootstrapInfo::new(&e.config.bootstrap)?,
        })
    }
}

/// What the fit engine does not know about its own selection: the name, size and
/// stratification of the rows it selected on, and which reported splits are biased.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionContext {
    /// Seed of the run.
    pub seed: u64,
    /// The split whose rows scored the configurations (`train` under cv).
    pub split: String,
    /// Its rows.
    pub rows: usize,
    /// Errors among them.
    pub errors: usize,
    /// `error`, `label` or `none`.
    pub stratified_on: String,
    /// Splits whose AdUE metrics are optimistic (rows used in fitting or selection).
    pub biased_splits: Vec<String>,
}

impl GridEntry {
    /// A configuration's result; hyperparameters must be finite.
    pub fn new(g: &GridResult) -> Result<Self, ReportError> {
        let c = &g.config;
        Ok(GridEntry {
            alpha: real("fit.grid.alpha", c.alpha)?,
            beta: real("fit.grid.beta", c.beta)?,
            lr: real("fit.grid.lr", c.lr)?,
            lambda: real("fit.grid.lambda", c.lambda)?,
            epochs: c.epochs,
            schedule: c.schedule.as_str().into(),
            best_epoch: g.best_epoch,
            val_roc_auc: g.val_roc_auc.and_then(Real::new),
            final_train_loss: Real::new(g.final_train_loss),
        })
    }
}

impl FitSection {
    /// The grid search of a fit: every configuration in grid order, the selected one, how it
    /// was selected (`ctx` names the rows) and the calibration split left, if any.
    pub fn from_outcome(
        outcome: &FitOutcome,
        ctx: SelectionContext,
        calibration: Option<CalibrationInfo>,
    ) -> Result<Self, ReportError> {
        let grid = outcome
            .grid
            .iter()
            .map(GridEntry::new)
            .collect::<Result<Vec<_>, _>>()?;
        let index = outcome.selected_index;
        let g = grid.get(index).ok_or(ReportError::SelectionOutOfGrid {
            index,
            len: grid.len(),
        })?;
        let selected = Selected {
            grid_index: index,
            alpha: g.alpha,
            beta: g.beta,
            lr: g.lr,
            epochs: g.epochs,
            schedule: g.schedule.clone(),
            best_epoch: g.best_epoch,
            lambda: g.lambda,
            val_roc_auc: g.val_roc_auc,
        };
        let metric = match outcome.cv {
            Some(_) => METRIC_CV_ROC_AUC,
            None => METRIC_VAL_ROC_AUC,
        };
        let selection = SelectionInfo {
            method: if outcome.cv.is_some() {
                "cv"
            } else {
                "holdout"
            }
            .into(),
            seed: ctx.seed,
            split: ctx.split,
            rows: ctx.rows,
            errors: ctx.errors,
            stratified_on: ctx.stratified_on,
            cv: outcome.cv.as_ref().map(|cv| CvInfo {
                folds: cv.folds,
                repeats: cv.repeats,
                smoothing: cv.smoothing,
                fold_rows: cv.fold_rows.clone(),
                fold_errors: cv.fold_errors.clone(),
                fold_roc_auc: cv
                    .fold_roc_auc
                    .iter()
                    .map(|v| v.and_then(Real::new))
                    .collect(),
            }),
            score: SelectionScore {
                metric: metric.into(),
                value: selected.val_roc_auc,
                selection_biased: true,
            },
            refit: outcome.cv.as_ref().map(|cv| RefitInfo {
                rows: cv.refit_rows,
                passes: selected.best_epoch,
            }),
            biased_splits: ctx.biased_splits,
        };
        Ok(FitSection {
            selected,
            grid,
            selection_metric: metric.into(),
            selection,
            calibration,
            warnings: Vec::new(),
        })
    }
}

fn covariance_info(
    field: &str,
    i: &CovarianceFactorInfo,
    max_condition: f64,
) -> Result<CovarianceInfo, ReportError> {
    Ok(CovarianceInfo {
        jitter: real(&format!("{field}.jitter"), i.jitter)?,
        relative_jitter: real(&format!("{field}.relative_jitter"), i.relative_jitter)?,
        mean_variance: real(&format!("{field}.mean_variance"), i.mean_variance)?,
        attempts: i.attempts,
        condition_number: real(&format!("{field}.condition_number"), i.condition_number)?,
        condition_method: score::CONDITION_METHOD.into(),
        max_condition: real(&format!("{field}.max_condition"), max_condition)?,
    })
}

fn md_info(
    md: &Mahalanobis,
    features: &str,
    e: &Evaluation,
    max_condition: f64,
) -> Result<MahalanobisInfo, ReportError> {
    let field = format!("baselines.mahalanobis[{features}]");
    Ok(MahalanobisInfo {
        features: features.into(),
        train_split: e.md_train_split.clone(),
        train_rows: e.md_train_rows,
        dim: md.dim(),
        class_counts: md.class_counts().to_vec(),
        within: covariance_info(&format!("{field}.within"), &md.within_info(), max_condition)?,
        background: md
            .background_info()
            .map(|b| covariance_info(&format!("{field}.background"), &b, max_condition))
            .transpose()?,
    })
}

fn temperature_info(ts: &TemperatureScaling, split: &str) -> Result<TemperatureInfo, ReportError> {
    let f = "baselines.temperature_scaling";
    Ok(TemperatureInfo {
        temperature: real(&format!("{f}.temperature"), ts.temperature)?,
        fitted_on: split.into(),
        status: match ts.status {
            TemperatureStatus::Converged => "converged",
            TemperatureStatus::AtBracketEdge => "at_bracket_edge",
            TemperatureStatus::Flat => "flat",
        }
        .into(),
        nll_before: real(&format!("{f}.nll_before"), ts.nll_before)?,
        nll_after: real(&format!("{f}.nll_after"), ts.nll_after)?,
        bracket: [
            real(&format!("{f}.bracket"), ts.bracket.0)?,
            real(&format!("{f}.bracket"), ts.bracket.1)?,
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::super::fit_section::{FitSection, GridEntry};
    use super::super::model::Estimate;
    use super::SelectionContext;
    use crate::fit::{Config, FitOutcome, GridResult, Schedule};
    use crate::head::{Head, UeHead, UeSpec};
    use crate::score;

    fn result(alpha: f64, auc: Option<f64>, loss: f64) -> GridResult {
        let cfg = Config {
            index: 0,
            alpha,
            beta: 0.0,
            lr: 1e-3,
            lambda: 30.0,
            epochs: 5,
            schedule: Schedule::FullBatch,
        };
        GridResult::new(&cfg, 3, auc, loss)
    }

    fn estimate(point: Result<f64, String>, replicates: &[Option<f64>]) -> Estimate {
        Estimate::from(&score::Estimate::from_replicates(point, replicates, 0.95))
    }

    #[test]
    fn non_finite_numbers_become_stated_nulls_or_errors() {
        let e = estimate(Ok(f64::NAN), &[Some(0.5), Some(f64::NAN), None]);
        assert_eq!(e.value, None);
        assert!(e.reason.as_deref().unwrap().contains("not finite"));
        // The NaN replicate counts as skipped, like the undefined one.
        assert_eq!(e.skipped_resamples, 2);
        assert_eq!(e.ci95.map(|[a, b]| (a.get(), b.get())), Some((0.5, 0.5)));
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            !json.contains(":NaN") && json.contains("\"value\":null"),
            "{json}"
        );

        let r = result(0.1, Some(f64::NAN), f64::INFINITY);
        let g = GridEntry::new(&r).unwrap();
        assert_eq!((g.val_roc_auc, g.final_train_loss), (None, None));
        assert_eq!((g.schedule.as_str(), g.lambda.get()), ("full_batch", 30.0));
        let err = GridEntry::new(&result(f64::NAN, None, 0.1)).unwrap_err();
        assert!(err.to_string().contains("fit.grid.alpha"), "{err}");
        let outcome = FitOutcome {
            ue: UeHead {
                head: Head::Linear {
                    weight: ndarray::Array2::zeros((2, 3)),
                    bias: None,
                },
                spec: UeSpec::paper(),
            },
            selected: r.clone(),
            selected_index: 3,
            grid: vec![r],
            cv: None,
        };
        let ctx = SelectionContext {
            seed: 0,
            split: "val".into(),
            rows: 10,
            errors: 3,
            stratified_on: "none".into(),
            biased_splits: vec!["val".into()],
        };
        let err = FitSection::from_outcome(&outcome, ctx, None).unwrap_err();
        assert!(err.to_string().contains("index 3"), "{err}");
    }

    #[test]
    fn undefined_everywhere_keeps_the_point_reason() {
        let e = estimate(Err("no errors".into()), &[None, None]);
        assert_eq!((e.value, e.ci95), (None, None));
        assert_eq!(e.reason.as_deref(), Some("no errors"));
        let e = estimate(Ok(0.7), &[None, None]);
        assert_eq!(
            e.reason.as_deref(),
            Some("undefined on every bootstrap resample")
        );
    }
}
