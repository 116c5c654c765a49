//! Selection study (not a test; `harness = false`): for one case, seed and grid, prints one
//! JSON object with, per configuration, its checkpoints, the mean held-out-fold error
//! ROC-AUC of cross-validation at each checkpoint, and the TEST error ROC-AUC of the same
//! configuration trained on all training rows at each checkpoint (what the refit would
//! give). `bench/cv_study.py` replays selection rules and sub-grids on these curves.
//!
//! ```text
//! cargo bench --bench cv_study -- --case NAME --train T --test S --checkpoint DIR
//!     [--grid FILE.json] [--seed S] [--folds K] [--repeats R] [--balanced] [--threads N]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use adue_compile::fit::{fit_cv, trace, AdueParams};
use anyhow::{Context, Result};
use clap::Parser;

#[path = "fit_common.rs"]
mod fit_common;
use fit_common::{grid, split, HeadArgs};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    case: String,
    #[arg(long)]
    train: PathBuf,
    #[arg(long)]
    test: PathBuf,
    #[command(flatten)]
    source: HeadArgs,
    #[arg(long, default_value = "quick")]
    grid: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 5)]
    folds: usize,
    #[arg(long, default_value_t = 1)]
    repeats: usize,
    /// Error-balanced sampling.
    #[arg(long)]
    balanced: bool,
    /// Skip the test traces (CV curves only).
    #[arg(long)]
    no_trace: bool,
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let head = args.source.original_head()?;
    let grid = grid(&args.grid)?;
    let (train, test) = (split(&args.train, &head)?, split(&args.test, &head)?);
    let params = AdueParams::new()
        .grid(grid)
        .threads(args.threads)
        .seed(args.seed)
        .folds(args.folds)
        .cv_repeats(args.repeats)
        .balanced(args.balanced)
        .quiet(true)
        .check()?;
    let start = Instant::now();
    let out = fit_cv(&params, &head, &train.data()).context("fit_cv")?;
    let wall_cv = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let traces = if args.no_trace {
        None
    } else {
        Some(trace(&params, &head, &train.data(), &test.data()).context("trace")?)
    };
    let wall_trace = start.elapsed().as_secs_f64();
    let cv = out.cv.as_ref().context("fit_cv records its folds")?;
    let configs: Vec<serde_json::Value> = params
        .configurations()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            serde_json::json!({
                "index": c.index,
                "alpha": c.alpha,
                "beta": c.beta,
                "lr": c.lr,
                "lambda": c.lambda,
                "epochs": c.epochs,
                "schedule": c.schedule.as_str(),
                "checkpoints": c.checkpoints(),
                "cv_mean": cv.mean_curves[i],
                "cv_folds": cv.fold_curves[i],
                "test": traces.as_ref().map(|t| &t[i].auc),
            })
        })
        .collect();
    let report = serde_json::json!({
        "case": args.case,
        "seed": args.seed,
        "folds": args.folds,
        "repeats": args.repeats,
        "balanced": args.balanced,
        "selected_index": out.selected_index,
        "selected": out.selected,
        "test_roc_auc": test.adue_roc_auc(&out.ue.head, &out.ue.spec),
        "sr_test_roc_auc": test.sr_roc_auc(),
        "train_rows": train.set.rows(),
        "wall_cv_s": wall_cv,
        "wall_trace_s": wall_trace,
        "configs": configs,
    });
    println!("{report}");
    Ok(())
}
