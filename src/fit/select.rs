//! Hold-out selection: every configuration trained in parallel with early stopping on a
//! validation split, the best by validation error ROC-AUC kept. Also the checks and
//! targets shared with cross-validated selection (`cv`).

use std::cmp::Reverse;
use std::sync::Mutex;

use rayon::prelude::*;

use super::data::{FitData, Targets};
use super::runs::{holdout_run, EvalSet, Run};
use super::theta::{flatten, Theta};
use super::train::Problem;
use super::{progress, AdueValidParams, FitError, FitOutcome, GridResult};
use crate::head::{Head, UeHead, UeSpec};

/// Fits an AdUE uncertainty head with hold-out selection: starting from a copy of
/// `original`, trains every configuration of `params.configurations()` on `train` with early
/// stopping on `val` and keeps the one with the highest error ROC-AUC on `val` (the first in
/// grid order on ties).
///
/// Configurations run in parallel on `params.threads()` threads; every run uses the same
/// seed, so the outcome (and the bytes of the written head) do not depend on the thread
/// count. Errors on inconsistent shapes, labels outside the head's classes, non-finite
/// inputs, a split where the original head is always right or always wrong, or when every
/// configuration diverges.
pub fn fit(
    params: &AdueValidParams,
    original: &Head,
    train: &FitData,
    val: &FitData,
) -> Result<FitOutcome, FitError> {
    let (spec, train_targets) = prepare(params, original, train)?;
    val.check("val", original)?;
    let val_targets = val.targets(spec.scale);
    single_outcome("val", &val_targets)?;

    let theta0 = flatten::<f32>(original);
    let train_x = train.features.as_standard_layout();
    let problem = problem(
        params,
        original,
        &theta0,
        train_x.view(),
        &train_targets,
        spec,
    );
    let val_set = EvalSet {
        x: val.features,
        rows: None,
        errors: val_targets.errors,
    };

    // Longest runs first, for a better balance across threads; results return to grid order.
    let mut configs = params.configurations();
    configs.sort_by_key(|c| Reverse(c.epochs));
    let bar = progress::bar(configs.len(), params.quiet());
    let best: Mutex<Option<Best>> = Mutex::new(None);
    let mut results: Vec<(usize, GridResult)> = pool(params)?.install(|| {
        configs
            .par_iter()
            .with_max_len(1)
            .map(|cfg| {
                let run = holdout_run(&problem, cfg, &val_set, params.patience());
                offer(&best, cfg.index, &run);
                bar.inc(1);
                (cfg.index, run.result)
            })
            .collect()
    });
    bar.finish_and_clear();
    results.sort_by_key(|(i, _)| *i);
    let grid: Vec<GridResult> = results.into_iter().map(|(_, r)| r).collect();

    let best = best
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    match best {
        Some(best) if best.auc.is_some() => {
            let selected = grid[best.index].clone();
            Ok(FitOutcome {
                ue: UeHead {
                    head: original.layout().head_from(&best.theta),
                    spec: UeSpec {
                        lambda: selected.config.lambda,
                        ..spec
                    },
                },
                selected,
                selected_index: best.index,
                grid,
                cv: None,
            })
        }
        _ => Err(FitError::AllDiverged {
            configurations: grid.len(),
        }),
    }
}

/// Checks `train` against `original` and returns the base spec of `U` (λ set per
/// configuration) and the training targets.
pub(super) fn prepare(
    params: &AdueValidParams,
    original: &Head,
    train: &FitData,
) -> Result<(UeSpec, Targets), FitError> {
    let c = original.num_classes();
    if c < 2 {
        return Err(FitError::Shape {
            split: "train",
            tensor: "original_logits",
            expected: "a head with at least 2 classes".into(),
            got: format!("{c} class"),
        });
    }
    train.check("train", original)?;
    let spec = UeSpec {
        lambda: params.lambda(),
        scale: if params.rescale() {
            1.0 / (1.0 - 1.0 / c as f64)
        } else {
            1.0
        },
        ..UeSpec::paper()
    };
    let targets = train.targets(spec.scale);
    single_outcome("train", &targets)?;
    Ok((spec, targets))
}

/// Errors when the original head is always right or always wrong on a split.
fn single_outcome(split: &'static str, t: &Targets) -> Result<(), FitError> {
    let errors = t.num_errors();
    if errors == 0 || errors == t.errors.len() {
        return Err(FitError::SingleOutcome {
            split,
            errors,
            rows: t.errors.len(),
        });
    }
    Ok(())
}

/// The problem every run of a search shares.
pub(super) fn problem<'a>(
    params: &AdueValidParams,
    original: &Head,
    theta0: &'a [f32],
    train_x: ndarray::ArrayView2<'a, f32>,
    targets: &'a Targets,
    spec: UeSpec,
) -> Problem<'a> {
    Problem {
        arch: original.layout(),
        theta0,
        train_x,
        train: targets,
        spec,
        batch_size: params.batch_size(),
        dropout: params.dropout(),
        balanced: params.balanced(),
        seed: params.seed(),
    }
}

/// A local pool of `params.threads()` workers.
pub(super) fn pool(params: &AdueValidParams) -> Result<rayon::ThreadPool, FitError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(params.threads())
        .build()
        .map_err(|e| FitError::ThreadPool {
            threads: params.threads(),
            reason: e.to_string(),
        })
}

/// The best run so far.
struct Best {
    index: usize,
    auc: Option<f64>,
    theta: Vec<f32>,
}

/// Keeps `run` if it beats the current best: a higher ROC-AUC (defined beats undefined),
/// or an equal one earlier in grid order. This is a total order, so the winner does not
/// depend on the order in which runs finish.
fn offer(best: &Mutex<Option<Best>>, index: usize, run: &Run) {
    let auc = run.result.val_roc_auc;
    let mut guard = best.lock().unwrap_or_else(|poison| poison.into_inner());
    let better = match guard.as_ref() {
        None => true,
        Some(b) => match (auc, b.auc) {
            (Some(a), Some(c)) => a > c || (a == c && index < b.index),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => index < b.index,
        },
    };
    if better {
        *guard = Some(Best {
            index,
            auc,
            theta: run.theta.clone(),
        });
    }
}
