//! Cross-validated selection end to end on synthetic data: stratified, seeded folds; the
//! choice is the best mean held-out-fold ROC-AUC; the head is the chosen configuration
//! refitted on all rows for the chosen number of passes; results do not depend on the
//! thread count; full-batch and λ grid axes.

use adue_compile::fit::{
    fit_cv, refit_config, AdueParams, Config, FitError, FitOutcome, Grid, GridBlock, Schedule,
};
use adue_compile::head::encode_head;

use crate::fit_support::{synthetic, Problem};

fn grid() -> Grid {
    Grid {
        blocks: vec![
            GridBlock {
                alpha: vec![0.0, 1.0],
                beta: vec![0.01],
                lr: vec![1e-3, 1e-2],
                lambda: vec![30.0, 100.0],
                epochs: vec![4],
                schedule: Schedule::OneCycle,
            },
            GridBlock {
                alpha: vec![0.1],
                beta: vec![0.01],
                lr: vec![1e-3],
                lambda: vec![30.0],
                epochs: vec![25],
                schedule: Schedule::FullBatch,
            },
        ],
    }
}

fn problem(dense: bool) -> Problem {
    synthetic(dense, 24, 4, [400, 200, 200], if dense { 2 } else { 1 })
}

fn run(p: &Problem, threads: usize, seed: u64) -> FitOutcome {
    let params = AdueParams::new()
        .grid(grid())
        .threads(threads)
        .seed(seed)
        .quiet(true)
        .check()
        .unwrap();
    fit_cv(&params, &p.head, &p.train.data()).unwrap()
}

fn bytes(o: &FitOutcome) -> Vec<u8> {
    encode_head("h".as_ref(), &o.ue, &Default::default()).unwrap()
}

#[test]
fn folds_are_stratified_on_the_error_flag_and_partition_the_rows() {
    let p = problem(false);
    let out = run(&p, 2, 0);
    let cv = out.cv.as_ref().unwrap();
    let errors = p.train.errors().iter().filter(|&&e| e).count();
    assert_eq!((cv.folds, cv.repeats), (5, 1));
    assert_eq!(cv.fold_rows.iter().sum::<usize>(), 400);
    assert_eq!(cv.fold_errors.iter().sum::<usize>(), errors);
    for (&rows, &errs) in cv.fold_rows.iter().zip(&cv.fold_errors) {
        assert!((80..=80).contains(&rows), "{:?}", cv.fold_rows);
        assert!(
            errs == errors / 5 || errs == errors.div_ceil(5),
            "{:?}",
            cv.fold_errors
        );
    }
    // The same partition as the public fold function gives.
    let folds = adue_compile::fit::stratified_folds(&p.train.errors(), 5, 0, 0).unwrap();
    assert_eq!(cv.fold_rows, folds.iter().map(Vec::len).collect::<Vec<_>>());
}

#[test]
fn selects_the_best_mean_fold_auc_and_refits_on_all_rows() {
    for dense in [false, true] {
        let p = problem(dense);
        let out = run(&p, 2, 3);
        let cv = out.cv.as_ref().unwrap();
        let configs = AdueParams::new()
            .grid(grid())
            .check()
            .unwrap()
            .configurations();
        assert_eq!(out.grid.len(), configs.len());
        // The maximum over (configuration, checkpoint) of the mean fold AUC, the first in
        // grid order (then the earliest checkpoint) on ties.
        let mut best: Option<(f64, usize, usize)> = None;
        for (c, curve) in cv.mean_curves.iter().enumerate() {
            for (j, v) in curve.iter().enumerate() {
                if let Some(v) = *v {
                    if best.is_none_or(|(b, _, _)| v > b) {
                        best = Some((v, c, j));
                    }
                }
            }
        }
        let (auc, c, j) = best.unwrap();
        let cfg: &Config = &configs[c];
        assert_eq!(out.selected_index, c, "dense={dense}");
        assert_eq!(out.selected.best_epoch, cfg.checkpoints()[j]);
        assert_eq!(out.selected.val_roc_auc, Some(auc));
        // The recorded fold AUCs are those of the choice, and average to its score.
        let mean = cv.fold_roc_auc.iter().map(|v| v.unwrap()).sum::<f64>() / 5.0;
        assert!((mean - auc).abs() < 1e-12);
        assert_eq!(cv.refit_rows, 400);
        // The head is the chosen configuration trained on every row for the chosen passes.
        let params = AdueParams::new()
            .grid(grid())
            .seed(3)
            .quiet(true)
            .check()
            .unwrap();
        let refit = refit_config(
            &params,
            &p.head,
            &p.train.data(),
            cfg,
            out.selected.best_epoch,
        )
        .unwrap();
        assert_eq!(refit, out.ue, "dense={dense}");
        assert_eq!(out.ue.spec.lambda, cfg.lambda);
        // ... and not the same as one pass more or fewer, or another fold's rows.
        let other = refit_config(
            &params,
            &p.head,
            &p.train.data(),
            cfg,
            out.selected.best_epoch + 1,
        )
        .unwrap();
        assert_ne!(other.head, out.ue.head);
    }
}

#[test]
fn identical_for_any_thread_count_and_seeded() {
    let p = problem(true);
    let (a, b, c) = (run(&p, 1, 4), run(&p, 2, 4), run(&p, 2, 4));
    assert_eq!(a.grid, b.grid);
    assert_eq!(a.cv, b.cv);
    assert_eq!(bytes(&a), bytes(&b));
    assert_eq!(bytes(&b), bytes(&c));
    let d = run(&p, 2, 5);
    assert_ne!(d.cv.unwrap().fold_curves, a.cv.unwrap().fold_curves);
}

#[test]
fn repeats_average_over_more_partitions() {
    let p = problem(false);
    let params = AdueParams::new()
        .grid(grid())
        .cv_repeats(2)
        .folds(4)
        .quiet(true)
        .check()
        .unwrap();
    let out = fit_cv(&params, &p.head, &p.train.data()).unwrap();
    let cv = out.cv.unwrap();
    assert_eq!((cv.folds, cv.repeats, cv.fold_rows.len()), (4, 2, 8));
    assert_eq!(cv.fold_rows[..4].iter().sum::<usize>(), 400);
    assert_eq!(cv.fold_rows[4..].iter().sum::<usize>(), 400);
}

#[test]
fn too_few_errors_for_the_folds_is_a_named_error() {
    let p = problem(false);
    let params = AdueParams::new()
        .grid(grid())
        .folds(50)
        .quiet(true)
        .check()
        .unwrap();
    let idx: Vec<usize> = (0..60).collect();
    let small = p.train.select(&idx);
    let e = fit_cv(&params, &p.head, &small.data()).unwrap_err();
    assert!(matches!(e, FitError::CrossValidation { .. }), "{e}");
    assert!(e.to_string().contains("50 folds"), "{e}");
}
