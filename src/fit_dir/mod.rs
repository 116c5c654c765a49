//! The fit directory, as one typed module: what `fit` writes ([`FitDir::write`]) and
//! `export`, `validate` and `report` read, each file through one typed reader.
//!
//! ```text
//! DIR/head.safetensors           the fitted UE head (CONTRACT §6)
//! DIR/original_head.safetensors  the checkpoint's head, same layout, so DIR is self-contained
//! DIR/mahalanobis.safetensors    whitened Mahalanobis scorer: center [D], whitener [D, D],
//!                                whitened_means [K, D] (for `export --with-mahalanobis`)
//! DIR/scores.safetensors         per-split scores of every method (curves, threshold), the
//!                                fitted rows (`train`) included
//! DIR/report.json                metrics, selection, provenance (CONTRACT §7)
//! ```

mod write;

pub use write::FitFiles;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use ndarray::Array1;
use serde::Deserialize;

use crate::export::MahalanobisExport;
use crate::head::{read_head, Head, UeHead};
use crate::load::{read_capped, SafetensorsFile, MAX_JSON_BYTES, MAX_MODEL_BYTES};
use crate::report::{CalibrationInfo, InputFile, Report};
use crate::score::scores_file::{scores_from_bytes, SplitScores};

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
/// Split of `scores.safetensors` holding the rows the head was fitted on.
pub const TRAIN_SPLIT: &str = "train";

/// Every file of a fit directory.
pub const FILES: [&str; 5] = [HEAD, ORIGINAL_HEAD, MAHALANOBIS, SCORES, REPORT];

/// A fit directory on disk.
#[derive(Debug, Clone)]
pub struct FitDir {
    root: PathBuf,
}

/// The two heads of a fit directory, checked to agree in width and classes.
#[derive(Debug, Clone)]
pub struct Heads {
    /// The fitted UE head and the spec of its `U`.
    pub ue: UeHead,
    /// The checkpoint's head.
    pub original: Head,
}

/// The AdUE scores of one split of `scores.safetensors`: `U` as stored (f64 of the f32 the
/// head computes) and `e`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdueScores {
    /// The split's name.
    pub split: String,
    /// `S/u/adue`.
    pub u: Array1<f64>,
    /// `S/errors`.
    pub errors: Array1<bool>,
}

/// The calibration split of a fit (`fit.calibration` in `report.json`) and its scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// What the report records: split name, rows, errors, source.
    pub info: CalibrationInfo,
    /// Its AdUE scores.
    pub scores: AdueScores,
}

/// The `inputs` section of `report.json` alone, read without the rest of the report (so
/// that `validate` can still report a report that breaks its schema as a failed check).
#[derive(Debug, Deserialize)]
struct RecordedInputs {
    #[serde(default)]
    inputs: BTreeMap<String, InputFile>,
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

    /// Errors unless the directory exists.
    fn require(&self) -> anyhow::Result<()> {
        if !self.root.is_dir() {
            bail!(
                "{}: not a fit directory (run `adue-compile fit --out {}` first)",
                self.root.display(),
                self.root.display()
            );
        }
        Ok(())
    }

    /// Reads the fitted UE head and the original head, with errors that name the file.
    pub fn heads(&self) -> anyhow::Result<Heads> {
        self.require()?;
        let (ue, _) = read_head(&self.path(HEAD))?;
        let (original, _) = read_head(&self.path(ORIGINAL_HEAD))?;
        let (original, u) = (original.head, &ue.head);
        if original.input_dim() != u.input_dim() || original.num_classes() != u.num_classes() {
            bail!(
                "{}: the UE head ([{}, {}]) and {} ([{}, {}]) disagree in width or classes",
                self.path(HEAD).display(),
                u.input_dim(),
                u.num_classes(),
                ORIGINAL_HEAD,
                original.input_dim(),
                original.num_classes()
            );
        }
        Ok(Heads { ue, original })
    }

    /// Reads and validates `report.json` (CONTRACT §7).
    pub fn report(&self) -> anyhow::Result<Report> {
        Ok(Report::read(&self.path(REPORT))?)
    }

    /// The input files `report.json` records (name → path and SHA-256), read from its
    /// `inputs` section alone.
    pub fn recorded_inputs(&self) -> anyhow::Result<BTreeMap<String, InputFile>> {
        recorded_inputs_in(&self.path(REPORT))
    }

    /// Reads the per-split scores of every method (`scores.safetensors`).
    pub fn scores(&self) -> anyhow::Result<Vec<SplitScores>> {
        let path = self.path(SCORES);
        let bytes = read_capped(&path, MAX_MODEL_BYTES)
            .with_context(|| format!("cannot read {}", path.display()))?;
        scores_from_bytes(&bytes).with_context(|| format!("{}", path.display()))
    }

    /// The scores of one split, if the directory has it.
    pub fn split_scores(&self, split: &str) -> anyhow::Result<Option<SplitScores>> {
        Ok(self.scores()?.into_iter().find(|s| s.split == split))
    }

    /// The AdUE scores of split `split` (`S/u/adue`, `S/errors`), with an error naming the
    /// file when the split or its AdUE column is missing.
    pub fn adue_scores(&self, split: &str) -> anyhow::Result<AdueScores> {
        let path = self.path(SCORES);
        let s = self
            .split_scores(split)?
            .with_context(|| format!("{}: no split '{split}'", path.display()))?;
        let u = s
            .uncertainty
            .get("adue")
            .cloned()
            .with_context(|| format!("{}: no `{split}/u/adue` scores", path.display()))?;
        Ok(AdueScores {
            split: s.split,
            u,
            errors: s.errors,
        })
    }

    /// The AdUE scores of the rows the head was fitted on (`train/u/adue`, `train/errors`;
    /// under hold-out selection without `--val`, the training part of `--train`).
    pub fn train_scores(&self) -> anyhow::Result<AdueScores> {
        self.adue_scores(TRAIN_SPLIT)
    }

    /// The calibration split recorded in `report.json` (rows that took no part in fitting
    /// or selection) with its AdUE scores; `None` when the fit left no such rows. Errors
    /// when the scores disagree with the report in rows or errors.
    pub fn calibration(&self) -> anyhow::Result<Option<Calibration>> {
        let Some(info) = self.report()?.fit.calibration else {
            return Ok(None);
        };
        let scores = self.adue_scores(&info.split)?;
        let errors = scores.errors.iter().filter(|&&e| e).count();
        if scores.u.len() != info.rows || errors != info.errors {
            bail!(
                "{}: calibration split '{}' has {} rows and {errors} errors, but {} records \
                 {} rows and {} errors",
                self.path(SCORES).display(),
                info.split,
                scores.u.len(),
                REPORT,
                info.rows,
                info.errors
            );
        }
        Ok(Some(Calibration { info, scores }))
    }

    /// Reads the Mahalanobis scorer (`mahalanobis.safetensors`).
    pub fn mahalanobis(&self) -> anyhow::Result<MahalanobisExport> {
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

/// The input files a `report.json` at `path` records, read from its `inputs` section alone
/// (any schema version).
pub fn recorded_inputs_in(path: &Path) -> anyhow::Result<BTreeMap<String, InputFile>> {
    let text = read_capped(path, MAX_JSON_BYTES)
        .with_context(|| format!("cannot read {}", path.display()))?;
    recorded_inputs_from_bytes(path, &text)
}

/// [`recorded_inputs_in`] on the bytes of the file at `path` (named in errors).
pub fn recorded_inputs_from_bytes(
    path: &Path,
    bytes: &[u8],
) -> anyhow::Result<BTreeMap<String, InputFile>> {
    let r: RecordedInputs = serde_json::from_slice(bytes)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    Ok(r.inputs)
}

/// Refuses an output directory that is, or lies inside, an input directory, or that
/// would overwrite an input file (`inputs`): the tool never writes its inputs. `out` is the
/// directory `fit` is about to write.
pub fn check_output(out: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    let abs = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Canonicalise the longest existing ancestor so symlinks cannot hide a clash.
        let mut existing = p.as_path();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                _ => break,
            }
        }
        let mut c = existing
            .canonicalize()
            .unwrap_or_else(|_| existing.to_path_buf());
        for r in rest.iter().rev() {
            c.push(r);
        }
        c
    };
    if out.exists() && !out.is_dir() {
        bail!(
            "--out {}: exists and is not a directory (fit writes a directory of files)",
            out.display()
        );
    }
    let out_abs = abs(out);
    for &input in inputs {
        let in_abs = abs(input);
        let clash = if input.is_dir() {
            out_abs.starts_with(&in_abs)
        } else {
            in_abs.starts_with(&out_abs) && FILES.iter().any(|f| in_abs == out_abs.join(f))
        };
        if clash {
            bail!(
                "--out {}: would write inside or over the input {}; choose another directory",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}
