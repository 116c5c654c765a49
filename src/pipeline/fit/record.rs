//! What a `fit` run records besides the computed results: the inputs it read, errors named
//! after their file, and the summary on stdout.

use std::collections::BTreeMap;
use std::path::Path;

use crate::fit::FitError;
use crate::load::{Checkpoint, FeatureSet};
use crate::report::format::{selection_note, selection_score_label};
use crate::report::{InputFile, Report};
use crate::settings::FitSettings;

/// Prefixes an error about the data of one split with the file the split came from
/// (`select_file` describes the selection rows of a hold-out run).
pub(super) fn name_split_file(e: FitError, args: &FitSettings, select_file: &str) -> anyhow::Error {
    let file = match &e {
        FitError::SingleOutcome { split: "train", .. } | FitError::CrossValidation { .. } => {
            Some(args.train.display().to_string())
        }
        FitError::SingleOutcome { split: "val", .. } => Some(select_file.to_string()),
        _ => None,
    };
    match file {
        Some(f) => anyhow::Error::new(e).context(f),
        None => e.into(),
    }
}

/// `inputs.<name>` for the report: every checkpoint file and every feature file (`others`:
/// val, calib, test, md_train, in that order, where given).
pub(super) fn input_files(
    ckpt: &Checkpoint,
    train: &FeatureSet,
    others: &[&Option<FeatureSet>; 4],
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
    add("train", train);
    for (name, fs) in ["val", "calib", "test", "md_train"].into_iter().zip(others) {
        if let Some(fs) = fs {
            add(name, fs);
        }
    }
    m
}

/// The one-screen summary on stdout.
pub(super) fn summary(report: &Report, out: &Path) -> String {
    let fit = &report.fit;
    let sel = &fit.selected;
    let mut s = format!(
        "selected: alpha={} beta={} lr={} lambda={} {} epochs={} (kept {}); {} {}\n{}\n",
        sel.alpha.get(),
        sel.beta.get(),
        sel.lr.get(),
        sel.lambda.get(),
        sel.schedule,
        sel.epochs,
        sel.best_epoch,
        selection_score_label(fit),
        sel.val_roc_auc
            .map_or("n/a".into(), |v| format!("{:.4}", v.get())),
        selection_note(fit),
    );
    s.push_str("error ROC-AUC        adue     softmax_response\n");
    let adue = report.evaluation.methods.get("adue");
    for split in adue
        .map(|m| m.keys().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let get = |m: &str| {
            report
                .evaluation
                .methods
                .get(m)
                .and_then(|x| x.get(split))
                .and_then(|x| x.roc_auc.value)
                .map_or("n/a".to_string(), |v| format!("{:.4}", v.get()))
        };
        let biased = if fit.selection.biased_splits.contains(split) {
            "  (selection-biased)"
        } else {
            ""
        };
        s.push_str(&format!(
            "  {split:<18} {:<8} {}{biased}\n",
            get("adue"),
            get("softmax_response")
        ));
    }
    s.push_str(&format!("wrote {}\n", out.display()));
    s
}
