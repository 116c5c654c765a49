//! `fit`: load → fit the AdUE head → score every method → write the fit directory.
//!
//! Everything is computed in memory first and written only at the end, each file
//! atomically, so a failed run leaves no new file behind.

mod record;
mod split;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use ndarray::Array2;

use super::{inputs, Outcome};
use crate::export::MahalanobisExport;
use crate::fit::{fit, stratified_holdout, AdueParams};
use crate::fit_dir::{self, FitDir, FitFiles};
use crate::report::{EvaluationSections, FitSection, HeadSummary, Report, ReportParts};
use crate::score::{evaluate, EvalConfig, TrainInputs};
use crate::settings::{FitSettings, Printer};
use record::{input_files, name_split_file, summary};
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
    let mut inputs: Vec<&Path> = vec![&args.checkpoint, &args.train];
    inputs.extend(args.val.as_deref());
    inputs.extend(args.test.as_deref());
    inputs.extend(args.md_train.as_deref());
    inputs.extend(ckpt.files.iter().map(|f| f.path.as_path()));
    fit_dir::check_output(&args.out, &inputs)?;
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
    let u_val = outcome.ue.uncertainty(val.features.view());
    let u_test = test
        .as_ref()
        .map(|t| outcome.ue.uncertainty(t.features.view()));
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
        head: Some(HeadSummary::new(head, &outcome.ue.spec)?),
        fit: FitSection {
            warnings,
            ..FitSection::from_outcome(&outcome, args.lambda)?
        },
        evaluation: EvaluationSections::new(&evaluation)?,
        timing: BTreeMap::new(),
        // The configuration and epoch were chosen on the `val` rows (given or held out).
        selection_split: Some("val".into()),
    })?;
    let whitening = evaluation.mahalanobis.whitening();
    let md_export = MahalanobisExport {
        center: whitening.center.mapv(|v| v as f32),
        whitener: whitening.w.mapv(|v| v as f32),
        whitened_means: whitening.centered_class_means.mapv(|v| v as f32),
    };

    // Encode everything, then write: a failure above leaves the directory untouched.
    FitDir::new(&args.out).write(&FitFiles {
        ue: &outcome.ue,
        original: head,
        mahalanobis: &md_export,
        scores: &evaluation.scores,
        report: &report,
    })?;
    print!("{}", summary(&report, &args.out));
    Ok(Outcome::Success)
}
