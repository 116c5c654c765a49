//! `fit`: load → fit the AdUE head → score every method → write the fit directory.
//!
//! Everything is computed in memory first and written only at the end, each file
//! atomically, so a failed run leaves no new file behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use ndarray::{Array1, Array2, Axis};

use super::fit_dir::{
    encode_mahalanobis, FitDir, FILES, HEAD, MAHALANOBIS, ORIGINAL_HEAD, REPORT, SCORES,
};
use super::{inputs, Outcome};
use crate::cli::{FitArgs, Printer};
use crate::export::MahalanobisExport;
use crate::fit::{
    encode_head, fit, stratified_holdout, AdueParams, FitData, FitError, FitOutcome, Grid,
};
use crate::head::{argmax, Head};
use crate::load::{Checkpoint, FeatureSet};
use crate::output::write_atomic;
use crate::report::{FitSection, GridEntry, HeadSummary, InputFile, Report, ReportParts};
use crate::score::scores_file::scores_to_bytes;
use crate::score::{auc_standard_error, evaluate, EvalConfig, SplitInputs, TrainInputs};

/// Fraction of `--train` held out for selection when no `--val` is given (CONTRACT §3).
pub const HOLDOUT_FRACTION: f64 = 0.2;

/// One split in memory: features, labels, and the original model's logits.
struct Split {
    name: &'static str,
    features: Array2<f32>,
    labels: Array1<usize>,
    logits: Array2<f32>,
}

impl Split {
    /// Moves the rows out of `fs`, which keeps its path, digest and metadata for the
    /// report: the features are in memory once.
    fn take(name: &'static str, fs: &mut FeatureSet, head: &Head) -> anyhow::Result<Self> {
        let logits = match fs.logits.take() {
            Some(l) => l,
            None => fs.reference_logits(head)?,
        };
        Ok(Split {
            name,
            features: std::mem::take(&mut fs.features),
            labels: std::mem::take(&mut fs.labels),
            logits,
        })
    }

    /// Splits into the rows `tr` and `va` (both ascending, as [`stratified_holdout`] gives
    /// them): the validation rows are copied out and the training rows compacted in place,
    /// so there is never a second copy of all the features.
    fn hold_out(self, tr: &[usize], va: &[usize]) -> (Self, Self) {
        let val = self.rows("val", va);
        let train = Split {
            name: "train",
            features: keep_rows(self.features, tr),
            labels: self.labels.select(Axis(0), tr),
            logits: self.logits.select(Axis(0), tr),
        };
        (train, val)
    }

    fn rows(&self, name: &'static str, idx: &[usize]) -> Self {
        Split {
            name,
            features: self.features.select(Axis(0), idx),
            labels: self.labels.select(Axis(0), idx),
            logits: self.logits.select(Axis(0), idx),
        }
    }

    fn fit_data(&self) -> FitData<'_> {
        FitData {
            features: self.features.view(),
            labels: self.labels.view(),
            original_logits: self.logits.view(),
        }
    }
}

/// Runs `fit`.
pub fn run(args: &FitArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let grid = match args.grid.as_str() {
        "paper" => Grid::paper(),
        "quick" => Grid::quick(),
        file => Grid::from_json_file(Path::new(file))?,
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let params = AdueParams::new()
        .grid(grid)
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
        evaluation: evaluation.sections,
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

/// The rows `idx` of `a`, moved to the front of its own buffer, which is then shrunk: no
/// second `[N, D]` allocation. `idx` must be strictly ascending (else this falls back to a
/// copy, as it does for an array that is not in standard layout).
fn keep_rows(a: Array2<f32>, idx: &[usize]) -> Array2<f32> {
    let (n, cols) = a.dim();
    let ascending = idx.windows(2).all(|w| w[0] < w[1]) && idx.last().is_none_or(|&i| i < n);
    if !ascending || !a.is_standard_layout() {
        return a.select(Axis(0), idx);
    }
    let (mut v, offset) = a.into_raw_vec_and_offset();
    let start = offset.unwrap_or(0);
    for (k, &i) in idx.iter().enumerate() {
        // k ≤ i, and rows after i are not written before they are read.
        let from = start + i * cols;
        v.copy_within(from..from + cols, k * cols);
    }
    v.truncate(idx.len() * cols);
    v.shrink_to_fit();
    // Cannot fail: `v` holds exactly `idx.len() × cols` elements.
    Array2::from_shape_vec((idx.len(), cols), v).unwrap_or_default()
}

/// Prefixes an error about the data of one split with the file the split came from.
fn name_split_file(e: FitError, args: &FitArgs) -> anyhow::Error {
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

fn split_inputs<'a>(s: &'a Split, u: Option<&'a Array1<f32>>) -> SplitInputs<'a> {
    SplitInputs {
        name: s.name,
        labels: s.labels.view(),
        original_logits: s.logits.view(),
        features: s.features.view(),
        adue: u.map(|u| u.view()),
    }
}

fn fit_section(outcome: &FitOutcome, lambda: f64) -> anyhow::Result<FitSection> {
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
fn input_files(
    ckpt: &Checkpoint,
    _args: &FitArgs,
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
fn check_output_dir(out: &Path, ckpt: &Checkpoint, args: &FitArgs) -> anyhow::Result<()> {
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
fn summary(report: &Report, out: &Path) -> String {
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

/// With fewer validation errors (or correct rows) than this, the validation error ROC-AUC
/// that picks the configuration has a standard error above ~0.05, and a wide grid overfits
/// it (measured on the 75-row `tiny-llama-576` reader case: test ROC-AUC 0.37–0.56 against
/// 0.79 for the softmax response).
const MIN_VAL_ROWS_PER_OUTCOME: usize = 30;

/// A warning when the validation split is too small to select among `configs` heads.
fn selection_noise_warning(val: &Split, configs: usize) -> Option<String> {
    let errors = val
        .logits
        .rows()
        .into_iter()
        .zip(&val.labels)
        .filter(|(row, &label)| argmax(row.view()) != Some(label))
        .count();
    let correct = val.labels.len() - errors;
    if errors >= MIN_VAL_ROWS_PER_OUTCOME && correct >= MIN_VAL_ROWS_PER_OUTCOME {
        return None;
    }
    let se = auc_standard_error(0.75, errors, correct)
        .map_or_else(|| "undefined".to_string(), |se| format!("about {se:.2}"));
    Some(format!(
        "the validation split has {errors} errors and {correct} correct rows: its error \
         ROC-AUC, which selects among {configs} configurations, has a standard error of {se}, \
         so the selected head may not generalise; give --val at least \
         {MIN_VAL_ROWS_PER_OUTCOME} errors and {MIN_VAL_ROWS_PER_OUTCOME} correct rows"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_rows_equals_select() {
        let a = Array2::from_shape_fn((9, 5), |(i, j)| (i * 10 + j) as f32);
        for idx in [vec![0, 2, 3, 7, 8], vec![4], vec![], (0..9).collect()] {
            assert_eq!(
                keep_rows(a.clone(), &idx),
                a.select(Axis(0), &idx),
                "{idx:?}"
            );
        }
        // Not ascending, repeated, out of range, or a sliced array: a plain copy.
        for idx in [vec![3, 1], vec![2, 2]] {
            assert_eq!(
                keep_rows(a.clone(), &idx),
                a.select(Axis(0), &idx),
                "{idx:?}"
            );
        }
        // Rows sliced off the front (standard layout, data at an offset); columns sliced
        // (not standard layout).
        for sliced in [
            a.clone().slice_move(ndarray::s![2.., ..]),
            a.slice_move(ndarray::s![2.., 1..]),
        ] {
            let want = sliced.select(Axis(0), &[1, 4, 6]);
            assert_eq!(keep_rows(sliced, &[1, 4, 6]), want);
        }
    }
}
