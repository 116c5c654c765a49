//! Wall-time benchmark of the AdUE grid search (not a test; `harness = false`).
//!
//! ```text
//! cargo bench --bench fit -- --train T --val V --test S (--checkpoint DIR | --head FILE)
//!     [--grid paper|quick|FILE.json] [--threads N] [--seed S] [--save-original FILE]
//! ```
//! Prints one JSON object: wall time of `fit` (loading excluded), the selected configuration,
//! its validation and test error ROC-AUC, and the softmax response's. `bench/run_fit_bench.sh`
//! runs it beside `bench/fit_torch.py` on the same files and prints the comparison table.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use adue_compile::fit::{fit, AdueParams};
use adue_compile::head::{write_head, UeHead, UeSpec};
use anyhow::{Context, Result};
use clap::Parser;

#[path = "fit_common.rs"]
mod fit_common;
use fit_common::{grid, split, HeadArgs};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    train: PathBuf,
    #[arg(long)]
    val: PathBuf,
    #[arg(long)]
    test: PathBuf,
    #[command(flatten)]
    source: HeadArgs,
    #[arg(long, default_value = "quick")]
    grid: String,
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the original head here (for the PyTorch side).
    #[arg(long)]
    save_original: Option<PathBuf>,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let head = args.source.original_head()?;
    if let Some(path) = &args.save_original {
        let ue = UeHead {
            head: head.clone(),
            spec: UeSpec::paper(),
        };
        write_head(path, &ue, &BTreeMap::new())?;
    }
    let grid = grid(&args.grid)?;
    let (train, val, test) = (
        split(&args.train, &head)?,
        split(&args.val, &head)?,
        split(&args.test, &head)?,
    );
    let params = AdueParams::new()
        .grid(grid.clone())
        .threads(args.threads)
        .seed(args.seed)
        .check()?;
    let start = Instant::now();
    let out = fit(&params, &head, &train.data(), &val.data()).context("fit")?;
    let wall = start.elapsed().as_secs_f64();
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let report = serde_json::json!({
        "impl": "rust",
        "threads": threads,
        "configurations": grid.len(),
        "grid": grid,
        "wall_s": wall,
        "selected": out.selected,
        "val_roc_auc": val.adue_roc_auc(&out.ue.head, &out.ue.spec),
        "test_roc_auc": test.adue_roc_auc(&out.ue.head, &out.ue.spec),
        "sr_val_roc_auc": val.sr_roc_auc(),
        "sr_test_roc_auc": test.sr_roc_auc(),
        "train_rows": train.set.rows(),
        "dim": train.set.dim(),
        "head": head.kind().as_str(),
    });
    println!("{report}");
    Ok(())
}
