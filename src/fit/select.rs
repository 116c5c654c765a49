//! The grid search: every configuration trained in parallel, the best by validation error
//! ROC-AUC kept.

use std::cmp::Reverse;
use std::sync::Mutex;

use rayon::prelude::*;

use super::data::FitData;
use super::theta::{flatten, Theta};
use super::train::{self, Problem, Run};
use super::{progress, AdueValidParams, FitError, FitOutcome, GridResult};
use crate::head::{Head, UeHead, UeSpec};

/// Fits an AdUE uncertainty head: starting from a copy of `original`, trains every
/// configuration of `params.grid()` on `train` and keeps the one with the highest error
/// ROC-AUC on `val` (the first in grid order on ties).
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
    val.check("val", original)?;
    let spec = UeSpec {
        lambda: params.lambda(),
        scale: if params.rescale() {
            1.0 / (1.0 - 1.0 / c as f64)
        } else {
            1.0
        },
        ..UeSpec::paper()
    };
    let train_targets = train.targets(spec.scale);
    let val_targets = val.targets(spec.scale);
    for (split, t) in [("train", &train_targets), ("val", &val_targets)] {
        let errors = t.num_errors();
        if errors == 0 || errors == t.errors.len() {
            return Err(FitError::SingleOutcome {
                split,
                errors,
                rows: t.errors.len(),
            });
        }
    }

    let arch = original.layout();
    let theta0 = flatten::<f32>(original);
    let train_x = train.features.as_standard_layout();
    let problem = Problem {
        arch,
        theta0: &theta0,
        train_x: train_x.view(),
        train: &train_targets,
        val_x: val.features.view(),
        val_errors: &val_targets.errors,
        spec,
        batch_size: params.batch_size(),
        dropout: params.dropout(),
        patience: params.patience(),
        balanced: params.balanced(),
        seed: params.seed(),
    };

    // Longest runs first, for a better balance across threads; results return to grid order.
    let mut configs = params.grid().configurations();
    configs.sort_by_key(|c| Reverse(c.epochs));
    let bar = progress::bar(configs.len(), params.quiet());
    let best: Mutex<Option<Best>> = Mutex::new(None);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(params.threads())
        .build()
        .map_err(|e| FitError::ThreadPool {
            threads: params.threads(),
            reason: e.to_string(),
        })?;
    let mut results: Vec<(usize, GridResult)> = pool.install(|| {
        configs
            .par_iter()
            .with_max_len(1)
            .map(|cfg| {
                let run = train::run(&problem, cfg);
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
        Some(best) if best.auc.is_some() => Ok(FitOutcome {
            ue: UeHead {
                head: arch.head_from(&best.theta),
                spec,
            },
            selected: grid[best.index].clone(),
            grid,
        }),
        _ => Err(FitError::AllDiverged {
            configurations: grid.len(),
        }),
    }
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
