//! The fit directory: what `fit` writes and `export`, `validate` and `report` read.
//!
//! ```text
//! DIR/head.safetensors           the fitted UE head (CONTRACT §6)
//! DIR/original_head.safetensors  the checkpoint's head, same layout, so DIR is self-contained
//! DIR/mahalanobis.safetensors    whitened Mahalanobis scorer: center [D], whitener [D, D],
//!                                whitened_means [K, D] (for `export --with-mahalanobis`)
//! DIR/scores.safetensors         per-split scores of every method (curves, threshold)
//! DIR/report.json                metrics, selection, provenance (CONTRACT §7)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::export::MahalanobisExport;
use crate::fit::read_head;
use crate::head::{Head, UeSpec};
use crate::load::{read_capped, SafetensorsFile, MAX_JSON_BYTES};
use crate::output::{encode_safetensors, TensorOut};

/// File name of the fitted UE head.
pub const HEAD: &str = "head.safetensors";
/// File name of the original head.
pub const ORIGINAL_HEAD: &str = "original_head.safetensors";
/// File name of the Mahalanobis scorer.
pub const MAHALANOBIS: &str = "mahalanobis.safetensors";
/// File name of the per-split scores.
pub const SCORES: &str = "scores.safetensors";
/// File name of the report.
pub const REPORT: &str = "report.json";

/// Every file of a fit directory.
pub const FILES: [&str; 5] = [HEAD, ORIGINAL_HEAD, MAHALANOBIS, SCORES, REPORT];

/// A fit directory on disk.
#[derive(Debug, Clone)]
pub struct FitDir {
    root: PathBuf,
}

/// What `export` and `validate` need from a fit directory.
#[derive(Debug, Clone)]
pub struct FitArtifacts {
    /// The fitted UE head.
    pub ue_head: Head,
    /// λ, scale and clamp of `U`.
    pub spec: UeSpec,
    /// The checkpoint's head.
    pub original: Head,
    /// `report.json`, read by key path (CONTRACT §7).
    pub report: serde_json::Value,
}

impl FitDir {
    /// The directory at `root`.
    pub fn new(root: &Path) -> Self {
        FitDir {
            root: root.to_path_buf(),
        }
    }

    /// The path of `file` inside the directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.root.join(file)
    }

    /// Refuses an output path (given with `flag`) that is one of the directory's own
    /// files: the tool never writes its inputs.
    pub fn refuse_overwrite(&self, flag: &str, out: &Path) -> anyhow::Result<()> {
        // `dir/../dir/head.safetensors` and symlinked directories resolve to the same file.
        let parent = match out.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let (Ok(parent), Ok(root), Some(name)) = (
            parent.canonicalize(),
            self.root.canonicalize(),
            out.file_name(),
        ) else {
            return Ok(());
        };
        if parent == root && FILES.iter().any(|f| name == std::ffi::OsStr::new(f)) {
            anyhow::bail!(
                "{flag} {}: would overwrite the input {} of the fit directory; choose another path",
                out.display(),
                name.to_string_lossy()
            );
        }
        Ok(())
    }

    /// Reads the heads and the report, with errors that name the file.
    pub fn read(&self) -> anyhow::Result<FitArtifacts> {
        if !self.root.is_dir() {
            anyhow::bail!(
                "{}: not a fit directory (run `adue-compile fit --out {}` first)",
                self.root.display(),
                self.root.display()
            );
        }
        let (ue_head, spec, _) = read_head(&self.path(HEAD))?;
        let (original, _, _) = read_head(&self.path(ORIGINAL_HEAD))?;
        let report_path = self.path(REPORT);
        let text = read_capped(&report_path, MAX_JSON_BYTES)
            .with_context(|| format!("cannot read {}", report_path.display()))?;
        let report = serde_json::from_slice(&text)
            .with_context(|| format!("{}: not valid JSON", report_path.display()))?;
        if original.input_dim() != ue_head.input_dim()
            || original.num_classes() != ue_head.num_classes()
        {
            anyhow::bail!(
                "{}: the UE head ([{}, {}]) and {} ([{}, {}]) disagree in width or classes",
                self.path(HEAD).display(),
                ue_head.input_dim(),
                ue_head.num_classes(),
                ORIGINAL_HEAD,
                original.input_dim(),
                original.num_classes()
            );
        }
        Ok(FitArtifacts {
            ue_head,
            spec,
            original,
            report,
        })
    }

    /// Reads the Mahalanobis scorer written by [`encode_mahalanobis`].
    pub fn read_mahalanobis(&self) -> anyhow::Result<MahalanobisExport> {
        let file = SafetensorsFile::open(&self.path(MAHALANOBIS))?;
        let center = file.require("center")?.to_f32_vector("[D]")?;
        let whitener = file.require("whitener")?.to_f32_matrix("[D, D]")?;
        let whitened_means = file.require("whitened_means")?.to_f32_matrix("[K, D]")?;
        let m = MahalanobisExport {
            center,
            whitener,
            whitened_means,
        };
        m.check(m.input_dim())
            .with_context(|| format!("{}", self.path(MAHALANOBIS).display()))?;
        Ok(m)
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
