//! `fit`: load → fit the AdUE head → score every method → write the fit directory.
//!
//! Everything is computed in memory first and written only at the end, each file
//! atomically, so a failed run leaves no new file behind.

mod record;
mod split;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use ndarray::Array2;

use super::fit_dir::{
    encode_mahalanobis, FitDir, HEAD, MAHALANOBIS, ORIGINAL_HEAD, REPORT, SCORES,
};
use super::{inputs, Outcome};
use crate::export::MahalanobisExport;
use crate::fit::{encode_head, fit, stratified_holdout, AdueParams};
use crate::output::write_atomic;
use crate::report::{EvaluationSections, FitSection, HeadSummary, Report, ReportParts};
use crate::score::scores_file::scores_to_bytes;
use crate::score::{evaluate, EvalConfig, TrainInputs};
use crate::settings::{FitSettings, Printer};
use record::{check_output_dir, fit_section, input_files, name_split_file, summary};
use split::{selection_noise_warning, split_inputs, Split};

/// Fraction of `--train` held out for selection when no `--val` is given (CONTRACT §3).
pub const HOLDOUT_FRACTION: f64 = 0.2;

/// Runs `fit`.
pub fn run(args: &FitSettings, printer: &Printer) -> anyhow::Result<Outcome> {
    let threads = args.threads;
    let params = AdueParams::new()
        .grid(args.grid.clone())
        .lambda(args.lambda)
        .rescale(args.rescale)
        .seed(args.seed)
        .threads(threads)
        .quiet(!printer.progress_bars())
        .check()?;

    let ckpt = inputs::checkpoint(&args.checkpoint, args.activation)?;
    check_output_dir(&args.out, &ckpt, args)?;
    let head = &ckpt.head;
    let read = |p: &Path| inputs::features(p, &ckpt);
    let mut train_fs = read(&args.train)?;
    let mut val_fs = args.val.as_deref().map(read).transpose()?;
    let mut test_fs = args.test.as_deref().map(read).transpose()?;
    let mut md_fs = args.md_train.as_deref().map(read).transpose()?;

    let all_train = Split::take("train", &mut train_fs, head)?;
    let (train, val) = match &mut val_fs {
        Some(v) => (all_train, Split::take("val", v, head)?),
        None => {
            let (tr, va) = stratified_holdout(all_train.labels.view(), HOLDOUT_FRACTION, args.seed)
                .with_context(|| {
                    format!(
                        "{}: holding out {}% of the training rows for selection (no --val)",
                        args.train.display(),
                        HOLDOUT_FRACTION * 100.0
                    )
                })?;
            all_train.hold_out(&tr, &va)
        }
    };
    let test = test_fs
        .as_mut()
        .map(|t| Split::take("test", t, head))
        .transpose()?;

    let warnings: Vec<String> = selection_noise_warning(&val, params.grid().len())
        .into_iter()
        .collect();
    for w in &warnings {
        printer.warn(w);
    }
    printer.stage(format!(
        "fit: {} configurations on {} train / {} val rows, {threads} threads",
        params.grid().len(),
        train.labels.len(),
        val.labels.len()
    ));
    let outcome = fit(&params, head, &train.fit_data(), &val.fit_data())
        .map_err(|e| name_split_file(e, args))?;

    printer.stage("score: baselines, metrics, bootstrap intervals");
    let u_val = outcome.head.uncertainty(val.features.view(), &outcome.spec);
    let u_test = test
        .as_ref()
        .map(|t| outcome.head.uncertainty(t.features.view(), &outcome.spec));
    let mut splits = vec![split_inputs(&val, Some(&u_val))];
    if let (Some(t), Some(u)) = (&test, &u_test) {
        splits.push(split_inputs(t, Some(u)));
    }
    let md_train = match &md_fs {
        Some(m) => TrainInputs {
            name: "md_train",
            labels: m.labels.view(),
            features: m.features.view(),
        },
        None => TrainInputs {
            name: "train",
            labels: train.labels.view(),
            features: train.features.view(),
        },
    };
    let evaluation = evaluate(&md_train, &splits, Some(head), &EvalConfig::new(args.seed))?;
    // The rows are no longer needed: free them before the outputs are encoded in memory.
    drop((train, val, test));
    if let Some(m) = &mut md_fs {
        m.features = Array2::zeros((0, 0));
    }

    let report = Report::new(ReportParts {
        seed: args.seed,
        label_names: train_fs.label_names(),
        inputs: input_files(&ckpt, args, &[&train_fs], &val_fs, &test_fs, &md_fs),
        head: Some(HeadSummary::new(head, &outcome.spec)?),
        fit: FitSection {
            warnings,
            ..fit_section(&outcome, args.lambda)?
        },
        evaluation: EvaluationSections::new(&evaluation)?,
        timing: BTreeMap::new(),
    })?;
    let whitening = evaluation.mahalanobis.whitening();
    let md_export = MahalanobisExport {
        center: whitening.center.mapv(|v| v as f32),
        whitener: whitening.w.mapv(|v| v as f32),
        whitened_means: whitening.centered_class_means.mapv(|v| v as f32),
    };

    // Encode everything, then write: a failure above leaves the directory untouched.
    let dir = FitDir::new(&args.out);
    let no_meta = BTreeMap::new();
    let files: Vec<(PathBuf, Vec<u8>)> = vec![
        (
            dir.path(HEAD),
            encode_head(&dir.path(HEAD), &outcome.head, &outcome.spec, &no_meta)?,
        ),
        (
            dir.path(ORIGINAL_HEAD),
            encode_head(&dir.path(ORIGINAL_HEAD), head, &outcome.spec, &no_meta)?,
        ),
        (
            dir.path(MAHALANOBIS),
            encode_mahalanobis(&md_export, &no_meta),
        ),
        (dir.path(SCORES), scores_to_bytes(&evaluation.scores)?),
        (dir.path(REPORT), report.to_json()?.into_bytes()),
    ];
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    for (path, bytes) in &files {
        write_atomic(path, bytes)?;
    }
    print!("{}", summary(&report, &args.out));
    Ok(Outcome::Success)
}
