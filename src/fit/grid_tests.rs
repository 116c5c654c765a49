//! Tests of the grid: built-in grids, the file format (one block or a list), λ and schedule
//! axes, checkpoints and every kind of bad axis.

use super::*;

fn block(g: &Grid) -> GridBlock {
    g.blocks[0].clone()
}

#[test]
fn paper_grid_has_144_configurations_in_documented_order() {
    let g = Grid::paper();
    g.validate().unwrap();
    let c = g.configurations();
    assert_eq!(c.len(), 144);
    assert_eq!(
        (c[0].alpha, c[0].beta, c[0].lr, c[0].epochs, c[0].lambda),
        (0.0, 0.01, 1e-5, 5, DEFAULT_LAMBDA)
    );
    assert_eq!((c[1].alpha, c[1].epochs), (0.0, 10));
    assert_eq!(
        (c[143].alpha, c[143].beta, c[143].lr, c[143].epochs),
        (1.0, 1.0, 1e-3, 20)
    );
    assert!(c.iter().enumerate().all(|(i, c)| c.index == i));
    assert!(c.iter().all(|c| c.schedule == Schedule::OneCycle));
}

#[test]
fn quick_grid_spans_beta_from_001_to_1() {
    let g = Grid::quick();
    g.validate().unwrap();
    let b = block(&g);
    assert_eq!(b.beta.first(), Some(&0.01));
    assert_eq!(b.beta.last(), Some(&1.0));
    assert!(g.len() < Grid::paper().len());
}

#[test]
fn default_grid_is_full_batch_around_the_reference_fit() {
    let g = Grid::default_cv();
    g.validate().unwrap();
    let c = g.configurations();
    assert_eq!(c.len(), 8);
    assert!(c
        .iter()
        .all(|c| c.schedule == Schedule::FullBatch && c.epochs == 300 && c.beta == 0.01));
    // The fixed reference of issue 13 is one of its configurations.
    assert!(c
        .iter()
        .any(|c| (c.alpha, c.lr, c.lambda) == (0.1, 1e-3, 30.0)));
    // Checkpoints every 10 steps up to 300.
    assert_eq!(
        c[0].checkpoints(),
        (1..=30).map(|k| 10 * k).collect::<Vec<_>>()
    );
    assert_eq!(Grid::named("default"), Some(g));
    assert_eq!(Grid::named("quick"), Some(Grid::quick()));
    assert_eq!(Grid::named("paper"), Some(Grid::paper()));
    assert_eq!(Grid::named("grid.json"), None);
}

#[test]
fn blocks_lambda_and_schedule_from_a_file() {
    let path = Path::new("g.json");
    let one = Grid::from_json_bytes(
        path,
        br#"{"alpha":[0],"beta":[0.1],"lr":[0.01],"epochs":[3]}"#,
    )
    .unwrap();
    assert_eq!(one.blocks.len(), 1);
    assert_eq!(one.configurations()[0].lambda, DEFAULT_LAMBDA);
    let two = Grid::from_json_bytes(
        path,
        br#"[{"alpha":[0,1],"beta":[0.1],"lr":[0.01],"lambda":[30,100],"epochs":[3]},
             {"alpha":[0.1],"beta":[0.01],"lr":[0.001],"epochs":[25],"schedule":"full_batch"}]"#,
    )
    .unwrap();
    let c = two.configurations();
    assert_eq!(two.len(), 5);
    assert_eq!(c.len(), 5);
    // λ varies inside α, before epochs.
    let keys: Vec<(f64, f64)> = c.iter().map(|c| (c.alpha, c.lambda)).collect();
    assert_eq!(
        keys,
        vec![
            (0.0, 30.0),
            (0.0, 100.0),
            (1.0, 30.0),
            (1.0, 100.0),
            (0.1, 100.0)
        ]
    );
    assert_eq!(c[4].schedule, Schedule::FullBatch);
    assert_eq!(c[4].index, 4);
    // Checkpoints: every epoch, or every 10 steps and the last one.
    assert_eq!(c[0].checkpoints(), vec![1, 2, 3]);
    assert_eq!(c[4].checkpoints(), vec![10, 20, 25]);
    // `--lambda` replaces every λ axis; a default fills only the empty ones.
    let mut filled = two.clone();
    filled.fill_lambda(7.0);
    assert_eq!(filled.blocks[0].lambda, vec![30.0, 100.0]);
    assert_eq!(filled.blocks[1].lambda, vec![7.0]);
    let mut set = two;
    set.set_lambda(7.0);
    assert!(set.configurations().iter().all(|c| c.lambda == 7.0));
    assert_eq!(set.len(), 3);
}

#[test]
fn file_errors_name_the_block() {
    let path = Path::new("g.json");
    let e = Grid::from_json_bytes(
        path,
        br#"[{"alpha":[0],"beta":[0.1],"lr":[0.01],"epochs":[3]},{"alpha":[0],"beta":[0.1],"lr":[0.01],"epochs":[3],"lambda":[0]}]"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("g.json") && e.contains("block 1: `lambda`[0] = 0"),
        "{e}"
    );
    let e = Grid::from_json_bytes(
        path,
        br#"[{"alpha":[0],"beta":[0.1],"lr":[0.01],"epochs":[3],"schedule":"slow"}]"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("block 0") && e.contains("slow"), "{e}");
    let e = Grid::from_json_bytes(path, b"[]").unwrap_err().to_string();
    assert!(e.contains("no block"), "{e}");
}

#[test]
fn rejects_each_kind_of_bad_axis() {
    let q = block(&Grid::quick());
    let cases = [
        (
            GridBlock {
                lr: vec![0.0],
                ..q.clone()
            },
            "`lr`[0] = 0",
        ),
        (
            GridBlock {
                lr: vec![-1e-3],
                ..q.clone()
            },
            "`lr`[0] = -0.001",
        ),
        (
            GridBlock {
                epochs: vec![5, 0],
                ..q.clone()
            },
            "`epochs`[1] = 0",
        ),
        (
            GridBlock {
                alpha: vec![-0.1],
                ..q.clone()
            },
            "`alpha`[0] = -0.1",
        ),
        (
            GridBlock {
                beta: vec![f64::NAN],
                ..q.clone()
            },
            "`beta`[0] = NaN",
        ),
        (
            GridBlock {
                beta: vec![],
                ..q.clone()
            },
            "`beta` is empty",
        ),
        (
            GridBlock {
                alpha: vec![0.1, 0.1],
                ..q.clone()
            },
            "duplicate",
        ),
        (
            GridBlock {
                lambda: vec![30.0, f64::INFINITY],
                ..q.clone()
            },
            "`lambda`[1] = inf",
        ),
        (
            GridBlock {
                epochs: vec![MAX_EPOCHS + 1],
                ..q.clone()
            },
            "`epochs`[0] = 10001: expected an integer in 1..=10000",
        ),
        (
            GridBlock {
                epochs: vec![usize::MAX],
                ..q.clone()
            },
            "`epochs`[0]",
        ),
        (
            GridBlock {
                alpha: (0..101).map(f64::from).collect(),
                beta: (0..100).map(f64::from).collect(),
                ..q.clone()
            },
            "101 alpha × 100 beta × 3 lr × 1 lambda × 1 epochs values make 30300 configurations",
        ),
    ];
    for (b, needle) in cases {
        let e = Grid::from(b).validate().unwrap_err().to_string();
        assert!(e.contains(needle), "{e:?} should contain {needle:?}");
    }
}
