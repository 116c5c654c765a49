//! Cross-validated selection: every (configuration, fold) pair trained in parallel to the
//! end of its schedule, the held-out fold scored at every checkpoint; the (configuration,
//! checkpoint) with the highest mean held-out-fold error ROC-AUC wins, and is refitted on
//! all training rows.

use std::cmp::Reverse;

use rayon::prelude::*;

use super::data::FitData;
use super::folds::{complement, stratified_folds};
use super::grid::Config;
use super::runs::{fold_curve, refit, Curve, EvalSet};
use super::select::{pool, prepare, problem};
use super::theta::{flatten, Theta};
use super::{progress, AdueValidParams, CvRecord, FitError, FitOutcome, GridResult};
use crate::head::{Head, UeHead};

/// Fits an AdUE uncertainty head with stratified k-fold cross-validated selection and a refit.
///
/// The rows of `train` are split into `params.folds()` folds stratified on the error flag
/// `e` (seeded; `params.cv_repeats()` partitions). Every configuration is trained on each
/// fold's complement for its whole schedule, and the held-out fold's error ROC-AUC is
/// recorded at every checkpoint ([`Config::checkpoints`]). For each (configuration,
/// checkpoint) the fold AUCs are averaged (optionally smoothed over checkpoints,
/// `params.smoothing()`); the best pair wins (ties: grid order, then the earlier
/// checkpoint). The winner is then trained on all rows of `train` with the same schedule and
/// seed, and its weights after the chosen number of passes are the fitted head.
///
/// Every (configuration, fold) pair is an independent run with the same seed, so the
/// outcome does not depend on `params.threads()`. Errors as [`fit`](super::fit), and when
/// some fold would hold no error or no correct row.
pub fn fit_cv(
    params: &AdueValidParams,
    original: &Head,
    train: &FitData,
) -> Result<FitOutcome, FitError> {
    let (spec, targets) = prepare(params, original, train)?;
    let n = train.rows();
    let (k, repeats) = (params.folds(), params.cv_repeats());
    let folds: Vec<Vec<usize>> = (0..repeats)
        .map(|r| stratified_folds(&targets.errors, k, params.seed(), r))
        .collect::<Result<Vec<_>, _>>()?
        .concat();
    let fits: Vec<Vec<usize>> = folds.iter().map(|f| complement(n, f)).collect();
    let held: Vec<EvalSet> = folds
        .iter()
        .map(|f| EvalSet {
            x: train.features.view(),
            rows: Some(f),
            errors: f.iter().map(|&i| targets.errors[i]).collect(),
        })
        .collect();

    let theta0 = flatten::<f32>(original);
    let train_x = train.features.as_standard_layout();
    let problem = problem(params, original, &theta0, train_x.view(), &targets, spec);
    let configs = params.configurations();
    let mut pairs: Vec<(usize, usize)> = (0..configs.len())
        .flat_map(|c| (0..folds.len()).map(move |f| (c, f)))
        .collect();
    // Longest runs first, for a better balance across threads.
    pairs.sort_by_key(|&(c, _)| Reverse(configs[c].epochs));
    let bar = progress::bar(pairs.len() + 1, params.quiet());
    let workers = pool(params)?;
    let mut curves: Vec<((usize, usize), Curve)> = workers.install(|| {
        pairs
            .par_iter()
            .with_max_len(1)
            .map(|&(c, f)| {
                let curve = fold_curve(&problem, &configs[c], &fits[f], &held[f]);
                bar.inc(1);
                ((c, f), curve)
            })
            .collect()
    });
    curves.sort_by_key(|(key, _)| *key);
    let per_config: Vec<Vec<Curve>> = curves
        .chunks(folds.len())
        .map(|chunk| chunk.iter().map(|(_, c)| c.clone()).collect())
        .collect();

    let summaries: Vec<ConfigSummary> = configs
        .iter()
        .zip(&per_config)
        .map(|(cfg, curves)| summarise(cfg, curves, params.smoothing()))
        .collect();
    let Some(best) = choose(&summaries) else {
        bar.finish_and_clear();
        return Err(FitError::AllDiverged {
            configurations: configs.len(),
        });
    };
    let cfg = configs[best];
    let chosen = summaries[best].best;
    let all_rows: Vec<usize> = (0..n).collect();
    let (theta, _) = refit(&problem, &cfg, &all_rows, chosen.passes);
    bar.inc(1);
    bar.finish_and_clear();

    let grid: Vec<GridResult> = summaries.iter().map(|s| s.result.clone()).collect();
    let cv = CvRecord {
        folds: k,
        repeats,
        smoothing: params.smoothing(),
        fold_rows: folds.iter().map(Vec::len).collect(),
        fold_errors: held
            .iter()
            .map(|h| h.errors.iter().filter(|&&e| e).count())
            .collect(),
        fold_roc_auc: per_config[best]
            .iter()
            .map(|c| c.auc[chosen.checkpoint])
            .collect(),
        refit_rows: n,
        mean_curves: summaries.into_iter().map(|s| s.mean).collect(),
        fold_curves: per_config
            .iter()
            .map(|c| c.iter().map(|f| f.auc.clone()).collect())
            .collect(),
    };
    Ok(FitOutcome {
        ue: UeHead {
            head: original.layout().head_from(&theta),
            spec: problem.spec_of(&cfg),
        },
        selected: grid[best].clone(),
        selected_index: best,
        grid,
        cv: Some(cv),
    })
}

/// Trains configuration `cfg` on all rows of `train` for `passes` passes of its schedule
/// (epochs, or full-batch steps; the schedule keeps its full length), exactly as the refit
/// of [`fit_cv`] does, and returns the head with the spec of its `U`.
pub fn refit_config(
    params: &AdueValidParams,
    original: &Head,
    train: &FitData,
    cfg: &Config,
    passes: usize,
) -> Result<UeHead, FitError> {
    let (spec, targets) = prepare(params, original, train)?;
    let theta0 = flatten::<f32>(original);
    let train_x = train.features.as_standard_layout();
    let problem = problem(params, original, &theta0, train_x.view(), &targets, spec);
    let rows: Vec<usize> = (0..train.rows()).collect();
    let (theta, _) = refit(&problem, cfg, &rows, passes);
    Ok(UeHead {
        head: original.layout().head_from(&theta),
        spec: problem.spec_of(cfg),
    })
}

/// For studies of the selection: every configuration trained on all rows of `train` for
/// its whole schedule (no early stopping), with the error ROC-AUC on `eval` at each of its
/// checkpoints ([`Config::checkpoints`]), in grid order. Runs as the refit of [`fit_cv`]
/// does, so `trace(..)[c][j]` is the score of the head `fit_cv` would return had it chosen
/// configuration `c` at checkpoint `j` (computed with the training kernels).
pub fn trace(
    params: &AdueValidParams,
    original: &Head,
    train: &FitData,
    eval: &FitData,
) -> Result<Vec<Curve>, FitError> {
    let (spec, targets) = prepare(params, original, train)?;
    eval.check("val", original)?;
    let eval_set = EvalSet {
        x: eval.features.view(),
        rows: None,
        errors: eval.targets(spec.scale).errors,
    };
    let theta0 = flatten::<f32>(original);
    let train_x = train.features.as_standard_layout();
    let problem = problem(params, original, &theta0, train_x.view(), &targets, spec);
    let rows: Vec<usize> = (0..train.rows()).collect();
    let configs = params.configurations();
    Ok(pool(params)?.install(|| {
        configs
            .par_iter()
            .with_max_len(1)
            .map(|cfg| fold_curve(&problem, cfg, &rows, &eval_set))
            .collect()
    }))
}

/// The chosen checkpoint of one configuration.
#[derive(Debug, Clone, Copy)]
struct Chosen {
    /// Index into [`Config::checkpoints`].
    checkpoint: usize,
    /// Passes trained at that checkpoint.
    passes: usize,
    /// The score it was chosen by (smoothed mean fold AUC).
    score: f64,
}

/// One configuration's cross-validation: its mean curve, chosen checkpoint and grid entry.
struct ConfigSummary {
    mean: Vec<Option<f64>>,
    best: Chosen,
    defined: bool,
    result: GridResult,
}

/// Means over folds per checkpoint (undefined if any fold is), the smoothed curve's best
/// checkpoint (the earliest on ties) and the grid entry with the unsmoothed mean there.
fn summarise(cfg: &Config, curves: &[Curve], smoothing: usize) -> ConfigSummary {
    let checkpoints = cfg.checkpoints();
    let mean: Vec<Option<f64>> = (0..checkpoints.len())
        .map(|j| {
            let vals: Option<Vec<f64>> = curves.iter().map(|c| c.auc[j]).collect();
            vals.map(|v| v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect();
    let smoothed = smooth(&mean, smoothing);
    let mut best: Option<Chosen> = None;
    for (j, s) in smoothed.iter().enumerate() {
        if let Some(s) = *s {
            if best.is_none_or(|b| s > b.score) {
                best = Some(Chosen {
                    checkpoint: j,
                    passes: checkpoints[j],
                    score: s,
                });
            }
        }
    }
    let final_loss = curves.iter().map(|c| c.final_loss).sum::<f64>() / curves.len().max(1) as f64;
    let (best, defined) = match best {
        Some(b) => (b, true),
        None => (
            Chosen {
                checkpoint: 0,
                passes: 0,
                score: f64::NEG_INFINITY,
            },
            false,
        ),
    };
    let auc = if defined { mean[best.checkpoint] } else { None };
    ConfigSummary {
        result: GridResult::new(cfg, best.passes, auc, final_loss),
        mean,
        best,
        defined,
    }
}

/// Centred moving average of width `w` (odd) over the defined neighbours; undefined points
/// stay undefined.
fn smooth(curve: &[Option<f64>], w: usize) -> Vec<Option<f64>> {
    let half = w / 2;
    (0..curve.len())
        .map(|j| {
            curve[j]?;
            let lo = j.saturating_sub(half);
            let hi = (j + half + 1).min(curve.len());
            let vals: Vec<f64> = curve[lo..hi].iter().flatten().copied().collect();
            Some(vals.iter().sum::<f64>() / vals.len() as f64)
        })
        .collect()
}

/// The configuration with the highest chosen score (the first in grid order on ties);
/// `None` when no configuration has a defined one.
fn choose(summaries: &[ConfigSummary]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, s) in summaries.iter().enumerate() {
        if s.defined && best.is_none_or(|b| s.best.score > summaries[b].best.score) {
            best = Some(i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_averages_defined_neighbours() {
        let c = [Some(1.0), Some(3.0), None, Some(5.0), Some(7.0)];
        assert_eq!(smooth(&c, 1), c.to_vec());
        assert_eq!(
            smooth(&c, 3),
            vec![Some(2.0), Some(2.0), None, Some(6.0), Some(6.0)]
        );
    }
}
