//! `fit`: load → assign the rows their roles (`plan`) → fit and select the AdUE head → score
//! every method → write the fit directory.
//!
//! Everything is computed in memory first and written only at the end, each file
//! atomically, so a failed run leaves no new file behind.

mod plan;
mod record;
mod split;

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::Array2;

use super::{inputs, Outcome};
use crate::export::MahalanobisExport;
use crate::fit::{fit, fit_cv, AdueParams, DEFAULT_LAMBDA};
use crate::fit_dir::{self, FitDir, FitFiles, TRAIN_SPLIT};
use crate::report::{
    CalibrationInfo, EvaluationSections, FitSection, HeadSummary, Report, ReportParts,
    SelectionContext,
};
use crate::score::{evaluate, EvalConfig, Evaluation, TrainInputs};
use crate::settings::{FitSettings, Printer, Selection};
use plan::Plan;
use record::{input_files, name_split_file, summary};
use split::{selection_noise_warning, split_inputs, Split};

pub use plan::HOLDOUT_FRACTION;

/// Runs `fit`.
pub fn run(args: &FitSettings, printer: &Printer) -> anyhow::Result<Outcome> {
    let threads = args.threads;
    let (folds, repeats) = match args.selection {
        Selection::CrossValidation { folds, repeats } => (folds, repeats),
        Selection::Holdout => (5, 1),
    };
    let params = AdueParams::new()
        .grid(args.grid.clone())
        .lambda(args.lambda.unwrap_or(DEFAULT_LAMBDA))
        .rescale(args.rescale)
        .seed(args.seed)
        .threads(threads)
        .folds(folds)
        .cv_repeats(repeats)
        .quiet(!printer.progress_bars())
        .check()?;

    let ckpt = inputs::checkpoint(&args.checkpoint, args.activation)?;
    let mut inputs: Vec<&Path> = vec![&args.checkpoint, &args.train];
    inputs.extend(args.val.as_deref());
    inputs.extend(args.calib.as_deref());
    inputs.extend(args.test.as_deref());
    inputs.extend(args.md_train.as_deref());
    inputs.extend(ckpt.files.iter().map(|f| f.path.as_path()));
    fit_dir::check_output(&args.out, &inputs)?;
    let head = &ckpt.head;
    let read = |p: &Path| inputs::features(p, &ckpt);
    let mut train_fs = read(&args.train)?;
    let mut val_fs = args.val.as_deref().map(read).transpose()?;
    let mut calib_fs = args.calib.as_deref().map(read).transpose()?;
    let mut test_fs = args.test.as_deref().map(read).transpose()?;
    let mut md_fs = args.md_train.as_deref().map(read).transpose()?;

    let take = |name, fs: &mut Option<crate::load::FeatureSet>| {
        fs.as_mut().map(|f| Split::take(name, f, head)).transpose()
    };
    let train = Split::take(TRAIN_SPLIT, &mut train_fs, head)?;
    let val = take("val", &mut val_fs)?;
    let calib = take("calib", &mut calib_fs)?;
    let test = take("test", &mut test_fs)?;
    let plan = Plan::new(args, train, val, calib)?;

    let (what, remedy) = match &plan.select {
        None => (
            format!("the training split (selection by {folds}-fold cross-validation)"),
            "--train",
        ),
        Some(s) => (format!("the selection split '{}'", s.name), "--val"),
    };
    let warnings: Vec<String> =
        selection_noise_warning(plan.selection_split(), &what, remedy, params.grid().len())
            .into_iter()
            .collect();
    for w in &warnings {
        printer.warn(w);
    }
    let configs = params.configurations().len();
    let outcome = match &plan.select {
        None => {
            printer.stage(format!(
                "fit: {configs} configurations × {} folds on {} train rows, then a refit, \
                 {threads} threads",
                folds * repeats,
                plan.fit.labels.len()
            ));
            fit_cv(&params, head, &plan.fit.fit_data())
        }
        Some(s) => {
            printer.stage(format!(
                "fit: {configs} configurations on {} train / {} {} rows, {threads} threads",
                plan.fit.labels.len(),
                s.labels.len(),
                s.name
            ));
            fit(&params, head, &plan.fit.fit_data(), &s.fit_data())
        }
    }
    .map_err(|e| name_split_file(e, args, &plan.select_file))?;

    printer.stage("score: baselines, metrics, bootstrap intervals");
    let (evaluation, context, calibration) =
        score(args, head, &plan, test.as_ref(), &outcome, md_fs.as_ref())?;
    // The rows are no longer needed: free them before the outputs are encoded in memory.
    drop((plan, test));
    if let Some(m) = &mut md_fs {
        m.features = Array2::zeros((0, 0));
    }

    let report = Report::new(ReportParts {
        seed: args.seed,
        label_names: train_fs.label_names(),
        inputs: input_files(&ckpt, &train_fs, &[&val_fs, &calib_fs, &test_fs, &md_fs]),
        head: Some(HeadSummary::new(head, &outcome.ue.spec)?),
        fit: FitSection {
            warnings,
            ..FitSection::from_outcome(&outcome, context, calibration)?
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

/// Scores every method on every split (the fitted rows scores-only), and describes the
/// selection rows and the calibration split for the report.
fn score(
    args: &FitSettings,
    head: &crate::head::Head,
    plan: &Plan,
    test: Option<&Split>,
    outcome: &crate::fit::FitOutcome,
    md: Option<&crate::load::FeatureSet>,
) -> anyhow::Result<(Evaluation, SelectionContext, Option<CalibrationInfo>)> {
    let mut splits: Vec<&Split> = vec![&plan.fit];
    splits.extend(plan.select.as_ref());
    splits.extend(plan.untouched.iter());
    splits.extend(test);
    let u: Vec<_> = splits
        .iter()
        .map(|s| outcome.ue.uncertainty(s.features.view()))
        .collect();
    let inputs: Vec<_> = splits
        .iter()
        .zip(&u)
        .map(|(s, u)| split_inputs(s, Some(u)))
        .collect();
    let md_train = match md {
        Some(m) => TrainInputs {
            name: "md_train",
            labels: m.labels.view(),
            features: m.features.view(),
        },
        None => TrainInputs {
            name: TRAIN_SPLIT,
            labels: plan.fit.labels.view(),
            features: plan.fit.features.view(),
        },
    };
    let mut config = EvalConfig::new(args.seed);
    // The original head never saw --train (its LoRA was trained on other rows), so the
    // temperature may be fitted there when no validation rows exist.
    config.temperature_split = ["val", "val_select"]
        .into_iter()
        .find(|n| splits.iter().any(|s| s.name == *n))
        .unwrap_or(TRAIN_SPLIT)
        .into();
    config.scores_only.insert(TRAIN_SPLIT.into());
    let evaluation = evaluate(&md_train, &inputs, Some(head), &config)?;

    let sel = plan.selection_split();
    let context = SelectionContext {
        seed: args.seed,
        split: sel.name.into(),
        rows: sel.labels.len(),
        errors: sel.errors(),
        stratified_on: plan.stratified_on.into(),
        biased_splits: plan.select.iter().map(|s| s.name.to_string()).collect(),
    };
    let calibration = plan.calibration.and_then(|(name, source)| {
        splits
            .iter()
            .find(|s| s.name == name)
            .map(|s| CalibrationInfo {
                split: name.into(),
                rows: s.labels.len(),
                errors: s.errors(),
                source: source.into(),
            })
    });
    Ok((evaluation, context, calibration))
}
