//! Grid study (not a test; `harness = false`): trains every configuration of a grid on its
//! own and prints, per configuration, its validation and TEST error ROC-AUC and wall time, as
//! JSON lines. `bench/grid_study.py` then replays the selection of candidate default grids
//! (argmax validation ROC-AUC, first in grid order on ties) to compare them with the paper
//! grid on test ROC-AUC and cost.
//!
//! ```text
//! cargo bench --bench fit_grid_study -- --case NAME --train T --val V --test S
//!     (--checkpoint DIR | --head FILE) [--grid paper|quick|FILE.json] [--seed S]
//! ```
//! Every configuration is trained exactly as inside a grid search (same seed, same data), so
//! its scores are those the full search sees.

use std::path::PathBuf;
use std::time::Instant;

use adue_compile::fit::{fit, AdueParams, Grid, GridBlock};
use anyhow::Result;
use clap::Parser;
use std::sync::atomic::{AtomicUsize, Ordering};

use adue_compile::fit::Config;
use adue_compile::head::Head;

#[path = "fit_common.rs"]
mod fit_common;
use fit_common::{grid, split, HeadArgs, Split};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    case: String,
    #[arg(long)]
    train: PathBuf,
    #[arg(long)]
    val: PathBuf,
    #[arg(long)]
    test: PathBuf,
    #[command(flatten)]
    source: HeadArgs,
    #[arg(long, default_value = "paper")]
    grid: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let head = args.source.original_head()?;
    let grid = grid(&args.grid)?;
    let (train, val, test) = (
        split(&args.train, &head)?,
        split(&args.val, &head)?,
        split(&args.test, &head)?,
    );
    let (sr_val, sr_test) = (val.sr_roc_auc(), test.sr_roc_auc());
    // A plain work queue on OS threads: `fit` builds its own one-thread pool per call, and
    // inside a rayon worker a waiting `install` would steal other configurations and skew
    // their timings.
    let configs = AdueParams::new().grid(grid).check()?.configurations();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut lines: Vec<(usize, Result<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(c) = configs.get(i) else { break done };
                        done.push((
                            i,
                            run_one(&args, c, &head, &train, &val, &test, (sr_val, sr_test)),
                        ));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    lines.sort_by_key(|(i, _)| *i);
    for (_, line) in lines {
        println!("{}", line?);
    }
    Ok(())
}

/// Trains one configuration on its own and scores it on the test split.
fn run_one(
    args: &Args,
    c: &Config,
    head: &Head,
    train: &Split,
    val: &Split,
    test: &Split,
    sr: (Option<f64>, Option<f64>),
) -> Result<String> {
    let one: Grid = GridBlock {
        alpha: vec![c.alpha],
        beta: vec![c.beta],
        lr: vec![c.lr],
        epochs: vec![c.epochs],
        lambda: vec![c.lambda],
        schedule: c.schedule,
    }
    .into();
    let params = AdueParams::new()
        .grid(one)
        .threads(1)
        .seed(args.seed)
        .quiet(true)
        .check()?;
    let start = Instant::now();
    let out = fit(&params, head, &train.data(), &val.data())?;
    let wall = start.elapsed().as_secs_f64();
    Ok(serde_json::json!({
        "case": args.case,
        "seed": args.seed,
        "index": c.index,
        "result": out.selected,
        "test_roc_auc": test.adue_roc_auc(&out.ue.head, &out.ue.spec),
        "sr_val_roc_auc": sr.0,
        "sr_test_roc_auc": sr.1,
        "wall_s": wall,
    })
    .to_string())
}
