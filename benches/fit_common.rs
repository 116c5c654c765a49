//! Shared by the fit benches: loading a case (head + splits) and the softmax-response
//! baseline.

use std::path::{Path, PathBuf};

use adue_compile::fit::{FitData, Grid};
use adue_compile::head::{read_head, Head};
use adue_compile::load::{read_checkpoint, read_features, FeatureSet};
use adue_compile::score::{roc_auc, LogitStats};
use anyhow::{bail, Result};
use ndarray::Array2;

/// One split with the original head's logits (from the file, else from the head).
pub struct Split {
    pub set: FeatureSet,
    pub logits: Array2<f32>,
}

impl Split {
    pub fn data(&self) -> FitData<'_> {
        FitData {
            features: self.set.features.view(),
            labels: self.set.labels.view(),
            original_logits: self.logits.view(),
        }
    }

    /// `e`: argmax of the original logits ≠ label.
    pub fn errors(&self) -> Vec<bool> {
        let stats = LogitStats::new(self.logits.view(), self.set.labels.view(), 1.0);
        stats.errors.to_vec()
    }

    /// Error ROC-AUC of the softmax response `1 − max softmax`, in f64 from the logits.
    pub fn sr_roc_auc(&self) -> Option<f64> {
        let u = LogitStats::new(self.logits.view(), self.set.labels.view(), 1.0)
            .softmax_response()
            .to_vec();
        roc_auc(&u, &self.errors())
    }

    /// Error ROC-AUC of AdUE's `U` under `head`.
    pub fn adue_roc_auc(&self, head: &Head, spec: &adue_compile::head::UeSpec) -> Option<f64> {
        let u: Vec<f64> = head
            .uncertainty(self.set.features.view(), spec)
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        roc_auc(&u, &self.errors())
    }
}

/// Where a bench reads the original head from: `--checkpoint DIR` or `--head FILE`.
#[derive(clap::Args)]
// No `about` of its own: the bench's command keeps its (empty) description.
#[command(about = None, long_about = None)]
pub struct HeadArgs {
    /// Checkpoint to read the original head from.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Or the original head as a `head.safetensors`-layout file.
    #[arg(long)]
    head: Option<PathBuf>,
}

impl HeadArgs {
    /// The original head, from the checkpoint or the head file.
    pub fn original_head(&self) -> Result<Head> {
        Ok(match (&self.checkpoint, &self.head) {
            (Some(c), None) => read_checkpoint(c, None)?.head,
            (None, Some(h)) => read_head(h)?.0.head,
            _ => bail!("give exactly one of --checkpoint and --head"),
        })
    }
}

/// Reads a split and the original head's logits on it.
pub fn split(path: &Path, head: &Head) -> Result<Split> {
    let set = read_features(path)?;
    let logits = set.reference_logits(head)?;
    Ok(Split { set, logits })
}

/// `paper`, `quick` or a JSON grid file.
pub fn grid(name: &str) -> Result<Grid> {
    Ok(match Grid::named(name) {
        Some(grid) => grid,
        None => Grid::from_json_file(name.as_ref())?,
    })
}
