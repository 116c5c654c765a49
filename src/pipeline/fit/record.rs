//! What a `fit` run records besides the computed results: the inputs it read, errors named
//! after their file, and the summary on stdout.

use std::collections::BTreeMap;
use std::path::Path;

use crate::fit::FitError;
use crate::load::{Checkpoint, FeatureSet};
use crate::report::{InputFile, Report};
use crate::settings::FitSettings;

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
                .evaluation
                .methods
                .get(m)
                .and_then(|x| x.get(split))
                .and_then(|x| x.roc_auc.value)
                .map_or("n/a".to_string(), |v| format!("{:.4}", v.get()))
        };
        if report
            .evaluation
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
