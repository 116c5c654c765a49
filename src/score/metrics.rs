//! The metrics of one evaluation, split by split: point values with their bootstrap
//! intervals, paired comparisons and counts (CONTRACT §5). Computed here in f64; the
//! report maps them into its typed, finite form (`report::evaluation`).
//!
//! Interval methods: percentile for the ranking metrics, the paired differences and the
//! means (accuracy, Brier, NLL); for the binned calibration errors the method with the best
//! coverage in `benches/stats.rs ece` ([`ECE_INTERVAL`], [`ECE_DEBIASED_INTERVAL`],
//! [`ADAPTIVE_ECE_INTERVAL`]); none for MCE (the bootstrap is inconsistent for a maximum).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::bootstrap::{
    self, basic_interval, bca_interval, percentile_interval, BootstrapConfig, Interval,
    IntervalMethod,
};
use super::calibration::{Calibration, CalibrationMetrics};
use super::evaluate::method;
use super::logits::LogitStats;
use super::ranking::Ranking;
use super::risk_coverage::SelectiveMetrics;
use super::scores_file::SplitScores;

/// Interval method of the plug-in ECE: basic. The plug-in is biased upward, so its
/// percentile interval sits too high (coverage 57% at true ECE 0.034 on 400 rows); the basic
/// interval reflects it about the estimate (88–90% at true ECE 0.034–0.095, 57% at 0).
pub const ECE_INTERVAL: IntervalMethod = IntervalMethod::Basic;

/// Interval method of the debiased ECE: percentile (94–97% at true ECE 0.034–0.095 on
/// 400–600 rows; basic and BCa 75–88%). At a true ECE of 0 no method covers well (this one
/// 0.2%: the estimate stays positive).
pub const ECE_DEBIASED_INTERVAL: IntervalMethod = IntervalMethod::Percentile;

/// Interval method of the adaptive (equal-mass) ECE: basic, for the plug-in's reason
/// (89–91% at true ECE 0.034–0.095, 50% at 0; percentile 33% at 0.034).
pub const ADAPTIVE_ECE_INTERVAL: IntervalMethod = IntervalMethod::Basic;

/// A statistic on a whole split with its bootstrap interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The value on the whole split, or why it is undefined there.
    pub point: Result<f64, String>,
    /// The interval of the finite replicates, its method and how many resamples were skipped.
    pub interval: Interval,
}

/// A statistic reported without an interval (MCE): the value, or why it is undefined.
pub type Point = Result<f64, String>;

impl Estimate {
    /// A percentile interval from the point value (or why it is undefined) and the
    /// per-resample values (`None` = undefined on that resample, skipped). Non-finite
    /// replicates count as undefined.
    pub fn from_replicates(point: Point, replicates: &[Option<f64>], level: f64) -> Estimate {
        Self::with_method(point, replicates, None, IntervalMethod::Percentile, level)
    }

    /// As [`Estimate::from_replicates`] with the interval formed by `method`; the basic and
    /// BCa intervals need the point value (none without it), BCa also the leave-one-out
    /// values `jackknife` (its acceleration is 0 without them).
    pub fn with_method(
        point: Point,
        replicates: &[Option<f64>],
        jackknife: Option<&[f64]>,
        method: IntervalMethod,
        level: f64,
    ) -> Estimate {
        let finite: Vec<Option<f64>> = replicates
            .iter()
            .map(|r| r.filter(|v| v.is_finite()))
            .collect();
        let interval = match (method, &point) {
            (IntervalMethod::Percentile, _) => percentile_interval(&finite, level),
            (IntervalMethod::Basic, Ok(p)) => basic_interval(*p, &finite, level),
            (IntervalMethod::Bca, Ok(p)) => {
                bca_interval(*p, &finite, jackknife.unwrap_or_default(), level)
            }
            (_, Err(_)) => Interval {
                bounds: None,
                method,
                ..percentile_interval(&finite, level)
            },
        };
        Estimate { point, interval }
    }
}

/// Ranking metrics of one uncertainty score on one split. `E` is [`Estimate`] here; the
/// report holds the same metrics as its own finite estimates (`report::model::MethodMetrics`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankingEstimates<E = Estimate> {
    /// Error ROC-AUC.
    pub roc_auc: E,
    /// Area under the risk–coverage curve.
    pub aurc: E,
    /// AURC minus the oracle's.
    pub e_aurc: E,
    /// Prediction rejection ratio.
    pub prr: E,
}

impl<E> RankingEstimates<E> {
    /// Every metric through `f`.
    pub fn map<T>(&self, f: impl Fn(&E) -> T) -> RankingEstimates<T> {
        RankingEstimates {
            roc_auc: f(&self.roc_auc),
            aurc: f(&self.aurc),
            e_aurc: f(&self.e_aurc),
            prr: f(&self.prr),
        }
    }
}

/// Calibration metrics of one set of probabilities on one split (`E` as in
/// [`RankingEstimates`]; `P` a value without an interval, [`Point`] here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationEstimates<E = Estimate, P = Point> {
    /// Fraction correct.
    pub accuracy: E,
    /// 15-bin equal-width ECE (plug-in).
    pub ece: E,
    /// The debiased ECE on the same bins (Kumar et al. 2019).
    pub ece_debiased: E,
    /// 15-bin equal-mass ECE.
    pub adaptive_ece: E,
    /// Maximum calibration error over non-empty bins: a point value only.
    pub mce: P,
    /// Mean Brier score.
    pub brier: E,
    /// Mean negative log-likelihood.
    pub nll: E,
}

impl<E, P> CalibrationEstimates<E, P> {
    /// Every estimate through `f`, the point value through `g`.
    pub fn map<T, Q>(
        &self,
        f: impl Fn(&E) -> T,
        g: impl Fn(&P) -> Q,
    ) -> CalibrationEstimates<T, Q> {
        CalibrationEstimates {
            accuracy: f(&self.accuracy),
            ece: f(&self.ece),
            ece_debiased: f(&self.ece_debiased),
            adaptive_ece: f(&self.adaptive_ece),
            mce: g(&self.mce),
            brier: f(&self.brier),
            nll: f(&self.nll),
        }
    }
}

/// Rows, errors and classes of one split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitCounts {
    /// Rows (> 0).
    pub rows: usize,
    /// Rows where the original head is wrong.
    pub errors: usize,
    /// Distinct gold labels present.
    pub classes_present: usize,
}

/// Every metric of every split, keyed as in the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// `<split>` → counts.
    pub data: BTreeMap<String, SplitCounts>,
    /// `<method>` → `<split>` → ranking metrics.
    pub methods: BTreeMap<String, BTreeMap<String, RankingEstimates>>,
    /// `<split>` → calibration of the original probabilities, then after temperature
    /// scaling (`None` on the split the temperature was fitted on: in-sample, optimistic).
    pub calibration: BTreeMap<String, (CalibrationEstimates, Option<CalibrationEstimates>)>,
    /// `<a>_vs_<b>` → `<split>` → paired ROC-AUC difference.
    pub comparisons: BTreeMap<String, BTreeMap<String, Estimate>>,
}

/// One bootstrap resample's statistics.
struct Replicate {
    selective: Vec<Option<SelectiveMetrics>>,
    original: Option<CalibrationMetrics>,
    scaled: Option<CalibrationMetrics>,
}

impl Metrics {
    /// Metrics, intervals and comparisons of one split. `scaled` are the temperature-scaled
    /// statistics, `None` on the split the temperature was fitted on.
    pub(crate) fn add(
        &mut self,
        split: &str,
        s: &SplitScores,
        stats: &LogitStats,
        scaled: Option<&LogitStats>,
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
        let cal_ts = scaled.map(Calibration::new);
        let compute = |w: Option<&[u32]>| Replicate {
            selective: rankings
                .iter()
                .map(|r| {
                    r.as_ref()
                        .and_then(|r| SelectiveMetrics::compute(r, &errors, w))
                })
                .collect(),
            original: cal.compute(w),
            scaled: cal_ts.as_ref().and_then(|c| c.compute(w)),
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
            let metrics = RankingEstimates {
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

        let calib = |c: &Calibration, which: fn(&Replicate) -> Option<CalibrationMetrics>| {
            let value = |f: fn(&CalibrationMetrics) -> f64| {
                // Calibration exists for every non-empty split (checked by the caller).
                which(&point)
                    .map(|m| f(&m))
                    .ok_or_else(|| format!("split `{split}` has no rows"))
            };
            let mean =
                |f: fn(&CalibrationMetrics) -> f64| est(value(f), &|r| which(r).map(|m| f(&m)));
            // The binned errors, each with its method (BCa would need the leave-one-out values).
            let methods = [ECE_INTERVAL, ECE_DEBIASED_INTERVAL, ADAPTIVE_ECE_INTERVAL];
            let jack = methods
                .contains(&IntervalMethod::Bca)
                .then(|| c.jackknife());
            let binned = |f: fn(&CalibrationMetrics) -> f64, method: IntervalMethod| {
                let reps: Vec<Option<f64>> = reps.iter().map(|r| which(r).map(|m| f(&m))).collect();
                let loo: Option<Vec<f64>> = jack.as_ref().map(|j| j.iter().map(f).collect());
                Estimate::with_method(value(f), &reps, loo.as_deref(), method, cfg.level)
            };
            CalibrationEstimates {
                accuracy: mean(|m| m.accuracy),
                ece: binned(|m| m.ece, ECE_INTERVAL),
                ece_debiased: binned(|m| m.ece_debiased, ECE_DEBIASED_INTERVAL),
                adaptive_ece: binned(|m| m.adaptive_ece, ADAPTIVE_ECE_INTERVAL),
                mce: value(|m| m.mce),
                brier: mean(|m| m.brier),
                nll: mean(|m| m.nll),
            }
        };
        let original = calib(&cal, |r| r.original);
        let after = cal_ts.as_ref().map(|c| calib(c, |r| r.scaled));
        self.calibration.insert(split.into(), (original, after));

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
                self.comparisons
                    .entry(format!("{}_vs_{other}", method::ADUE))
                    .or_default()
                    .insert(split.into(), est(value, &diff));
            }
        }

        let classes: BTreeSet<usize> = s.labels.iter().copied().collect();
        self.data.insert(
            split.into(),
            SplitCounts {
                rows: n,
                errors: n_err,
                classes_present: classes.len(),
            },
        );
    }
}
