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

use adue_compile::fit::{fit, read_head, write_head, AdueParams, FitData, Grid};
use adue_compile::head::{Head, UeSpec};
use adue_compile::load::{read_checkpoint, read_features, FeatureSet};
use adue_compile::score::roc_auc;
use anyhow::{bail, Context, Result};
use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    train: PathBuf,
    #[arg(long)]
    val: PathBuf,
    #[arg(long)]
    test: PathBuf,
    /// Checkpoint to read the original head from.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Or the original head as a `head.safetensors`-layout file.
    #[arg(long)]
    head: Option<PathBuf>,
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

/// The original head's logits from the file, or from the head.
fn logits(set: &FeatureSet, head: &Head) -> Result<ndarray::Array2<f32>> {
    Ok(set.reference_logits(head)?)
}

fn errors(logits: &ndarray::Array2<f32>, labels: &ndarray::Array1<usize>) -> Vec<bool> {
    logits
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(z, &y)| {
            z.iter()
                .enumerate()
                .fold(0, |b, (i, &v)| if v > z[b] { i } else { b })
                != y
        })
        .collect()
}

/// Softmax response `1 − max softmax`, computed in f64 from the stored logits.
fn sr_auc(logits: &ndarray::Array2<f32>, e: &[bool]) -> Option<f64> {
    let u: Vec<f64> = logits
        .rows()
        .into_iter()
        .map(|z| {
            let m = z.fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
            1.0 - 1.0 / z.iter().map(|&v| (f64::from(v) - m).exp()).sum::<f64>()
        })
        .collect();
    roc_auc(&u, e)
}

fn adue_auc(head: &Head, spec: &UeSpec, set: &FeatureSet, e: &[bool]) -> Option<f64> {
    let u: Vec<f64> = head
        .uncertainty(set.features.view(), spec)
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    roc_auc(&u, e)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let head = match (&args.checkpoint, &args.head) {
        (Some(c), None) => read_checkpoint(c, None)?.head,
        (None, Some(h)) => read_head(h)?.0,
        _ => bail!("give exactly one of --checkpoint and --head"),
    };
    if let Some(path) = &args.save_original {
        write_head(path, &head, &UeSpec::paper(), &BTreeMap::new())?;
    }
    let grid = match args.grid.as_str() {
        "paper" => Grid::paper(),
        "quick" => Grid::quick(),
        file => Grid::from_json_file(file.as_ref())?,
    };
    let (train, val, test) = (
        read_features(&args.train)?,
        read_features(&args.val)?,
        read_features(&args.test)?,
    );
    let (lt, lv, ls) = (
        logits(&train, &head)?,
        logits(&val, &head)?,
        logits(&test, &head)?,
    );
    let params = AdueParams::new()
        .grid(grid.clone())
        .threads(args.threads)
        .seed(args.seed)
        .check()?;
    fn data<'a>(s: &'a FeatureSet, l: &'a ndarray::Array2<f32>) -> FitData<'a> {
        FitData {
            features: s.features.view(),
            labels: s.labels.view(),
            original_logits: l.view(),
        }
    }
    let start = Instant::now();
    let out = fit(&params, &head, &data(&train, &lt), &data(&val, &lv)).context("fit")?;
    let wall = start.elapsed().as_secs_f64();
    let (ev, es) = (errors(&lv, &val.labels), errors(&ls, &test.labels));
    let report = serde_json::json!({
        "impl": "rust",
        "threads": if args.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { args.threads },
        "configurations": grid.len(),
        "grid": grid,
        "wall_s": wall,
        "selected": out.selected,
        "val_roc_auc": adue_auc(&out.head, &out.spec, &val, &ev),
        "test_roc_auc": adue_auc(&out.head, &out.spec, &test, &es),
        "sr_val_roc_auc": sr_auc(&lv, &ev),
        "sr_test_roc_auc": sr_auc(&ls, &es),
        "train_rows": train.rows(),
        "dim": train.dim(),
        "head": head.kind().as_str(),
    });
    println!("{report}");
    Ok(())
}
