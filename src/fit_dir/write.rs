//! Writing a fit directory: every file encoded in memory first, then each written
//! atomically, so a failure leaves the directory as it was.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

use super::{FitDir, HEAD, MAHALANOBIS, ORIGINAL_HEAD, REPORT, SCORES};
use crate::export::MahalanobisExport;
use crate::head::{encode_head, Head, UeHead};
use crate::output::{encode_safetensors, write_atomic, TensorOut};
use crate::report::Report;
use crate::score::scores_file::{scores_to_bytes, SplitScores};

/// Everything `fit` writes.
#[derive(Debug, Clone, Copy)]
pub struct FitFiles<'a> {
    /// The fitted UE head.
    pub ue: &'a UeHead,
    /// The checkpoint's head (stored with the UE head's spec, in the same layout).
    pub original: &'a Head,
    /// The Mahalanobis scorer on the input features.
    pub mahalanobis: &'a MahalanobisExport,
    /// Per-split scores of every method.
    pub scores: &'a [SplitScores],
    /// The report.
    pub report: &'a Report,
}

impl FitDir {
    /// Encodes every file, then creates the directory and writes each file atomically.
    pub fn write(&self, files: &FitFiles) -> anyhow::Result<()> {
        let no_meta = BTreeMap::new();
        let original = UeHead {
            head: files.original.clone(),
            spec: files.ue.spec,
        };
        let encoded: Vec<(PathBuf, Vec<u8>)> = vec![
            (
                self.path(HEAD),
                encode_head(&self.path(HEAD), files.ue, &no_meta)?,
            ),
            (
                self.path(ORIGINAL_HEAD),
                encode_head(&self.path(ORIGINAL_HEAD), &original, &no_meta)?,
            ),
            (
                self.path(MAHALANOBIS),
                encode_mahalanobis(files.mahalanobis, &no_meta),
            ),
            (self.path(SCORES), scores_to_bytes(files.scores)?),
            (self.path(REPORT), files.report.to_json()?.into_bytes()),
        ];
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("cannot create {}", self.root.display()))?;
        for (path, bytes) in &encoded {
            write_atomic(path, bytes)?;
        }
        Ok(())
    }
}

/// The bytes of `mahalanobis.safetensors`.
pub fn encode_mahalanobis(m: &MahalanobisExport, metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let (d, k) = (m.center.len(), m.whitened_means.nrows());
    let center = m.center.to_vec();
    let whitener: Vec<f32> = m.whitener.iter().copied().collect();
    let means: Vec<f32> = m.whitened_means.iter().copied().collect();
    encode_safetensors(
        &[
            TensorOut::f32("center", vec![d], &center),
            TensorOut::f32("whitener", vec![d, d], &whitener),
            TensorOut::f32("whitened_means", vec![k, d], &means),
        ],
        metadata,
    )
}
