//! What a `fit` run records besides the computed results: the inputs it read, the
//! output-directory checks, errors named after their file, and the summary on stdout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::fit::{FitError, FitOutcome};
use crate::load::{Checkpoint, FeatureSet};
use crate::report::{FitSection, GridEntry, InputFile, Report};
use crate::settings::FitSettings;

use super::super::fit_dir::FILES;

/// Prefixes an error about the data of one split with the file the split came from.
pub(super) fn name_split_file(e: FitError, args: &FitSettings) -> anyhow::Error {
    let file = match &e {
        FitError::SingleOutcome { split: "train", .. } => Some(args.train.display().to_string()),
        FitError::SingleOutcome { split: "val", .. } => Some(match &args.val {
            Some(v) => v.display().to_string(),
            None => format!("{} (held-out part)", args.train.display()),
        }),
        _ => None,
    };
    match file {
        Some(f) => anyhow::Error::new(e).context(f),
        None => e.into(),
    }
}

pub(super) fn fit_section(outcome: &FitOutcome, lambda: f64) -> anyhow::Result<FitSection> {
    let grid = outcome
        .grid
        .iter()
        .map(|g| {
            GridEntry::new(
                g.alpha,
                g.beta,
                g.lr,
                g.epochs,
                g.best_epoch,
                g.val_roc_auc,
                g.final_train_loss,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let index = outcome
        .grid
        .iter()
        .position(|g| g == &outcome.selected)
        .context("the selected configuration is not in the grid")?;
    Ok(FitSection::new(grid, index, lambda)?)
}

/// `inputs.<name>` for the report: every checkpoint file and every feature file.
pub(super) fn input_files(
    ckpt: &Checkpoint,
    _settings: &FitSettings,
    train: &[&FeatureSet],
    val: &Option<FeatureSet>,
    test: &Option<FeatureSet>,
    md: &Option<FeatureSet>,
) -> BTreeMap<String, InputFile> {
    let mut m = BTreeMap::new();
    for f in &ckpt.files {
        let name = f.path.file_name().map_or_else(
            || f.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        m.insert(format!("checkpoint.{name}"), InputFile::from(f));
    }
    let mut add = |name: &str, fs: &FeatureSet| {
        m.insert(
            name.to_string(),
            InputFile {
                path: fs.path.display().to_string(),
                sha256: fs.sha256.clone(),
            },
        );
    };
    for fs in train {
        add("train", fs);
    }
    if let Some(v) = val {
        add("val", v);
    }
    if let Some(t) = test {
        add("test", t);
    }
    if let Some(d) = md {
        add("md_train", d);
    }
    m
}

/// Refuses an output directory that is, or lies inside, an input directory, or that
/// would overwrite an input file: the tool never writes its inputs.
pub(super) fn check_output_dir(
    out: &Path,
    ckpt: &Checkpoint,
    args: &FitSettings,
) -> anyhow::Result<()> {
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
    let mut inputs: Vec<&Path> = vec![&args.checkpoint, &args.train];
    inputs.extend(args.val.as_deref());
    inputs.extend(args.test.as_deref());
    inputs.extend(args.md_train.as_deref());
    inputs.extend(ckpt.files.iter().map(|f| f.path.as_path()));
    for input in inputs {
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

/// The one-screen summary on stdout.
pub(super) fn summary(report: &Report, out: &Path) -> String {
    let sel = &report.fit.selected;
    let mut s = format!(
        "selected: alpha={} beta={} lr={} epochs={} (best epoch {}), lambda={}, val ROC-AUC {}\n",
        sel.alpha.get(),
        sel.beta.get(),
        sel.lr.get(),
        sel.epochs,
        sel.best_epoch,
        sel.lambda.get(),
        sel.val_roc_auc
            .map_or("n/a".into(), |v| format!("{:.4}", v.get())),
    );
    s.push_str("error ROC-AUC        adue     softmax_response\n");
    for split in ["val", "test"] {
        let get = |m: &str| {
            report
                .methods
                .get(m)
                .and_then(|x| x.get(split))
                .and_then(|x| x.roc_auc.value)
                .map_or("n/a".to_string(), |v| format!("{:.4}", v.get()))
        };
        if report
            .methods
            .get("adue")
            .is_some_and(|m| m.contains_key(split))
        {
            s.push_str(&format!(
                "  {split:<18} {:<8} {}\n",
                get("adue"),
                get("softmax_response")
            ));
        }
    }
    s.push_str(&format!("wrote {}\n", out.display()));
    s
}
