//! The fit engine end to end on synthetic data: selection, determinism, early stopping,
//! error handling.

use adue_compile::fit::{fit, AdueParams, FitData, FitError, Grid, GridBlock};
use adue_compile::score::roc_auc;
use ndarray::Array1;

use crate::fit_support::{synthetic, Problem};

fn small_block() -> GridBlock {
    GridBlock {
        alpha: vec![0.0, 0.3],
        beta: vec![0.01, 1.0],
        lr: vec![1e-3],
        epochs: vec![3, 6],
        ..GridBlock::default()
    }
}

fn small_grid() -> Grid {
    small_block().into()
}

fn auc_of(head: &adue_compile::head::Head, split: &crate::fit_support::Split) -> Option<f64> {
    let spec = adue_compile::head::UeSpec::paper();
    let u: Vec<f64> = head
        .uncertainty(split.x.view(), &spec)
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    roc_auc(&u, &split.errors())
}

fn problem(dense: bool) -> Problem {
    synthetic(dense, 24, 4, [700, 300, 300], if dense { 2 } else { 1 })
}

#[test]
fn selected_score_is_the_written_heads_validation_auc() {
    for dense in [false, true] {
        let p = problem(dense);
        let params = AdueParams::new()
            .grid(small_grid())
            .quiet(true)
            .threads(2)
            .check()
            .unwrap();
        let out = fit(&params, &p.head, &p.train.data(), &p.val.data()).unwrap();
        assert_eq!(out.grid.len(), 8);
        let best = out
            .grid
            .iter()
            .filter_map(|r| r.val_roc_auc)
            .fold(f64::MIN, f64::max);
        assert_eq!(
            out.selected.val_roc_auc,
            Some(best),
            "the maximum is selected"
        );
        let first = out
            .grid
            .iter()
            .position(|r| r.val_roc_auc == Some(best))
            .unwrap();
        assert_eq!(
            out.grid[first], out.selected,
            "ties go to the first in grid order"
        );
        // The kept weights are those of the best epoch: recomputing U from the returned head
        // gives exactly the recorded validation ROC-AUC.
        assert_eq!(
            auc_of(&out.ue.head, &p.val),
            out.selected.val_roc_auc,
            "dense={dense}"
        );
        assert!(
            out.selected.best_epoch >= 1 && out.selected.best_epoch <= out.selected.config.epochs
        );
        assert!(out
            .grid
            .iter()
            .all(|r| r.final_train_loss.is_finite() && r.final_train_loss > 0.0));
        assert_ne!(out.ue.head, p.head, "training moved the weights");
    }
}

#[test]
fn identical_for_any_thread_count_and_across_runs() {
    let p = problem(true);
    let run = |threads| {
        let params = AdueParams::new()
            .grid(small_grid())
            .quiet(true)
            .threads(threads)
            .seed(4);
        fit(
            &params.check().unwrap(),
            &p.head,
            &p.train.data(),
            &p.val.data(),
        )
        .unwrap()
    };
    let (a, b, c) = (run(1), run(2), run(2));
    assert_eq!(a.grid, b.grid);
    assert_eq!(a.ue.head, b.ue.head);
    assert_eq!(b.ue.head, c.ue.head);
    let dir = tempfile::tempdir().unwrap();
    let bytes = |o: &adue_compile::fit::FitOutcome, name: &str| {
        let path = dir.path().join(name);
        adue_compile::head::write_head(&path, &o.ue, &Default::default()).unwrap();
        std::fs::read(path).unwrap()
    };
    assert_eq!(bytes(&a, "a.safetensors"), bytes(&b, "b.safetensors"));
    // Another seed is another run.
    let params = AdueParams::new()
        .grid(small_grid())
        .quiet(true)
        .seed(5)
        .check()
        .unwrap();
    let d = fit(&params, &p.head, &p.train.data(), &p.val.data()).unwrap();
    assert_ne!(d.ue.head, a.ue.head);
}

#[test]
fn early_stopping_caps_the_run_and_restores_the_best_epoch() {
    let p = problem(false);
    let grid: Grid = GridBlock {
        alpha: vec![0.0],
        beta: vec![0.01],
        lr: vec![1e-2],
        epochs: vec![40],
        ..GridBlock::default()
    }
    .into();
    let params = AdueParams::new()
        .grid(grid)
        .patience(2)
        .quiet(true)
        .check()
        .unwrap();
    let out = fit(&params, &p.head, &p.train.data(), &p.val.data()).unwrap();
    // At lr 1e-2 the validation AUC peaks early; patience 2 ends the run two epochs later, so
    // the best epoch is well before the scheduled 40, and the returned weights are its weights.
    assert!(out.selected.best_epoch < 38, "{:?}", out.selected);
    assert_eq!(auc_of(&out.ue.head, &p.val), out.selected.val_roc_auc);
}

#[test]
fn rescaled_variant_is_recorded_in_the_spec() {
    let p = problem(false);
    let grid: Grid = GridBlock {
        epochs: vec![2],
        ..small_block()
    }
    .into();
    let params = AdueParams::new()
        .grid(grid)
        .rescale(true)
        .quiet(true)
        .check()
        .unwrap();
    let out = fit(&params, &p.head, &p.train.data(), &p.val.data()).unwrap();
    assert!(
        (out.ue.spec.scale - 4.0 / 3.0).abs() < 1e-15,
        "C = 4: 1/(1 − 1/4)"
    );
    assert_eq!(out.ue.spec.lambda, 100.0);
}

#[test]
fn balanced_sampling_runs_and_differs_from_shuffling() {
    let p = problem(false);
    let grid: Grid = GridBlock {
        epochs: vec![2],
        ..small_block()
    }
    .into();
    let run = |balanced| {
        let params = AdueParams::new()
            .grid(grid.clone())
            .balanced(balanced)
            .quiet(true);
        fit(
            &params.check().unwrap(),
            &p.head,
            &p.train.data(),
            &p.val.data(),
        )
        .unwrap()
    };
    let (a, b) = (run(false), run(true));
    assert_ne!(a.grid, b.grid);
    assert!(b.selected.val_roc_auc.is_some());
}

/// Labels that make the original head right on every row of `split`.
fn argmax_labels(split: &crate::fit_support::Split) -> Array1<usize> {
    split
        .logits
        .rows()
        .into_iter()
        .map(|z| {
            z.iter()
                .enumerate()
                .fold(0, |b, (i, &v)| if v > z[b] { i } else { b })
        })
        .collect()
}

#[test]
fn rejects_bad_inputs_with_named_errors() {
    let p = problem(false);
    let params = AdueParams::new()
        .grid(small_grid())
        .quiet(true)
        .check()
        .unwrap();
    let (train, val) = (p.train.data(), p.val.data());
    let err = |t: &FitData, v: &FitData| fit(&params, &p.head, t, v).unwrap_err();

    let labels = argmax_labels(&p.train);
    let perfect = FitData {
        labels: labels.view(),
        ..train
    };
    let e = err(&perfect, &val);
    assert!(
        matches!(
            e,
            FitError::SingleOutcome {
                split: "train",
                errors: 0,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("train split"), "{e}");
    let val_labels = argmax_labels(&p.val);
    let e = err(
        &train,
        &FitData {
            labels: val_labels.view(),
            ..val
        },
    );
    assert!(
        e.to_string()
            .contains("val split: the original head is wrong on 0 of 300"),
        "{e}"
    );

    let wrong: Array1<usize> = labels.mapv(|l| (l + 1) % 4);
    let e = err(
        &FitData {
            labels: wrong.view(),
            ..perfect
        },
        &val,
    );
    assert!(
        matches!(
            e,
            FitError::SingleOutcome {
                errors: 700,
                rows: 700,
                ..
            }
        ),
        "{e}"
    );

    let big: Array1<usize> = p.train.y.mapv(|l| if l == 3 { 9 } else { l });
    let e = err(
        &FitData {
            labels: big.view(),
            ..train
        },
        &val,
    );
    assert!(
        e.to_string().contains("label 9") && e.to_string().contains("4 classes"),
        "{e}"
    );

    let narrow = p.train.x.slice(ndarray::s![.., ..20]).to_owned();
    let e = err(
        &FitData {
            features: narrow.view(),
            ..train
        },
        &val,
    );
    assert!(
        e.to_string().contains("train features") && e.to_string().contains("24"),
        "{e}"
    );

    let mut nan = p.val.x.clone();
    nan[[17, 3]] = f32::NAN;
    let e = err(
        &train,
        &FitData {
            features: nan.view(),
            ..val
        },
    );
    assert!(
        e.to_string()
            .contains("val features: non-finite value at row 17"),
        "{e}"
    );

    let short = p.train.y.slice(ndarray::s![..5]).to_owned();
    let e = err(
        &FitData {
            labels: short.view(),
            ..train
        },
        &val,
    );
    assert!(e.to_string().contains("train labels"), "{e}");
}

#[test]
fn grid_files_are_validated_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my-grid.json");
    let ok = r#"{"alpha": [0, 0.5], "beta": [0.1], "lr": [1e-4, 1e-3], "epochs": [3]}"#;
    std::fs::write(&path, ok).unwrap();
    let g = Grid::from_json_file(&path).unwrap();
    assert_eq!(g.len(), 4);
    let b = &g.blocks[0];
    assert_eq!(
        (&b.alpha, &b.lr, &b.epochs),
        (&vec![0.0, 0.5], &vec![1e-4, 1e-3], &vec![3])
    );
    let cases = [
        ("{not json", "expected {\"alpha\""),
        (
            r#"{"alpha": [0], "beta": [0.1], "lr": [1e-3]}"#,
            "missing field `epochs`",
        ),
        (
            r#"{"alpha": [0], "beta": [0.1], "lr": [1e-3], "epochs": [2], "gamma": [1]}"#,
            "unknown field `gamma`",
        ),
        (
            r#"{"alpha": [], "beta": [0.1], "lr": [1e-3], "epochs": [2]}"#,
            "`alpha` is empty",
        ),
        (
            r#"{"alpha": [0], "beta": [0.1], "lr": [0], "epochs": [2]}"#,
            "`lr`[0] = 0: expected finite and > 0",
        ),
        (
            r#"{"alpha": [0], "beta": [0.1], "lr": [1e-3], "epochs": [0]}"#,
            "`epochs`[0] = 0",
        ),
        (
            r#"{"alpha": [0], "beta": [0.1], "lr": [1e-3], "epochs": [2.5]}"#,
            "epochs",
        ),
        (
            r#"{"alpha": [-1], "beta": [0.1], "lr": [1e-3], "epochs": [2]}"#,
            "`alpha`[0] = -1",
        ),
        (
            r#"{"alpha": [0], "beta": [NaN], "lr": [1e-3], "epochs": [2]}"#,
            "expected {\"alpha\"",
        ),
    ];
    for (text, needle) in cases {
        std::fs::write(&path, text).unwrap();
        let e = Grid::from_json_file(&path).unwrap_err().to_string();
        assert!(
            e.contains("my-grid.json") && e.contains(needle),
            "{e:?} lacks {needle:?}"
        );
    }
    let e = Grid::from_json_file(&dir.path().join("nope.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.json"), "{e}");
}

#[test]
fn holdout_feeds_fit_when_there_is_no_validation_file() {
    let p = problem(false);
    let (tr, va) = adue_compile::fit::stratified_holdout(p.train.y.view(), 0.2, 0).unwrap();
    assert_eq!(va.len(), 140, "20% of 700, class by class");
    let (train, val) = (p.train.select(&tr), p.train.select(&va));
    let params = AdueParams::new()
        .grid(small_grid())
        .quiet(true)
        .check()
        .unwrap();
    let out = fit(&params, &p.head, &train.data(), &val.data()).unwrap();
    assert_eq!(auc_of(&out.ue.head, &val), out.selected.val_roc_auc);
}

#[test]
fn adue_beats_softmax_response_on_held_out_test_data() {
    // Dense synthetic head: test error ROC-AUC of softmax response 0.906, of AdUE 0.921 (seed 2).
    let p = problem(true);
    let params = AdueParams::new().quiet(true).check().unwrap();
    let out = fit(&params, &p.head, &p.train.data(), &p.val.data()).unwrap();
    let sr: Vec<f64> = p
        .head
        .probabilities(p.test.x.view())
        .rows()
        .into_iter()
        .map(|r| 1.0 - f64::from(r.fold(0.0f32, |m, &v| m.max(v))))
        .collect();
    let sr = roc_auc(&sr, &p.test.errors()).unwrap();
    let adue = auc_of(&out.ue.head, &p.test).unwrap();
    assert!(adue > sr + 0.01, "AdUE {adue} vs SR {sr}");
}
