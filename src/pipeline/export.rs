//! `export`: a fit directory → one self-contained ONNX uncertainty head (CONTRACT §4).

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde::Serialize;

use super::Outcome;
use crate::export::{
    self, certify, metadata, CalibrationSet, CertifiedThreshold, ExportSpec, ReferenceScores,
};
use crate::fit_dir::{FitDir, Heads};
use crate::load::read_features;
use crate::report::Report;
use crate::settings::{ExportSettings, Printer};

/// The split the rejection threshold is certified on. It must have played no part in
/// fitting or selecting the head; until `fit` records its calibration split in the report
/// (`fit.calibration`), this is `val`.
pub const CALIBRATION_SPLIT: &str = "val";

/// The split whose `U` places the fallback procedure's restarts (rows outside calibration).
pub const REFERENCE_SPLIT: &str = "train";

/// Runs `export`.
pub fn run(args: &ExportSettings, printer: &Printer) -> anyhow::Result<Outcome> {
    let dir = FitDir::new(&args.fit);
    dir.refuse_overwrite("--out", &args.out)?;
    let heads = dir.heads()?;
    let report = dir.report()?;
    let mahalanobis = if args.with_mahalanobis {
        Some(dir.mahalanobis()?)
    } else {
        None
    };
    let mut meta = provenance(&report)
        .with_context(|| format!("{}: report.json lacks provenance", args.fit.display()))?;
    let threshold = match args.threshold {
        Some(target) => {
            let t = certify_threshold(&dir, &report, &heads, target.risk, target.delta)?;
            let test = test_outcome(&dir, t.tau)?;
            if let Some((coverage, risk, rows)) = test {
                meta.insert("adue.test.coverage".into(), format!("{coverage}"));
                meta.insert("adue.test.risk".into(), format!("{risk}"));
                println!(
                    "threshold: tau = {} certified on '{}' ({} of {} rows accepted, risk bound {:.4} ≤ {risk_target}); \
                     on 'test': coverage {coverage:.3}, empirical risk {risk:.4} ({rows} rows)",
                    t.tau,
                    t.calibration_split,
                    t.accepted,
                    t.calibration_rows,
                    t.risk_upper_bound,
                    risk_target = t.target_risk,
                );
            }
            Some(t)
        }
        None => None,
    };
    let spec = ExportSpec {
        original: &heads.original,
        ue: &heads.ue,
        mahalanobis: mahalanobis.as_ref(),
        threshold: threshold.as_ref(),
        metadata: meta,
    };
    match &args.graft {
        None => export::export(&spec, &args.out)?,
        Some(model) => {
            super::graft::run(&spec, model, args, &report, printer)?;
        }
    }
    printer.stage(format!("export: wrote {}", args.out.display()));
    println!("{}", args.out.display());
    Ok(Outcome::Success)
}

/// The caller-supplied ONNX metadata (see [`metadata::REQUIRED_PROVENANCE_KEYS`]) from
/// `report.json`: seed, selected configuration, label names, metric conventions and the
/// SHA-256 of every input. Numbers and structures are written as the report writes them
/// (JSON).
pub fn provenance(report: &Report) -> anyhow::Result<BTreeMap<String, String>> {
    fn json(v: &impl Serialize) -> anyhow::Result<String> {
        Ok(serde_json::to_string(v)?)
    }
    let sel = &report.fit.selected;
    let mut m = BTreeMap::new();
    m.insert("adue.seed".into(), report.seed.to_string());
    m.insert("adue.selected.alpha".into(), json(&sel.alpha)?);
    m.insert("adue.selected.beta".into(), json(&sel.beta)?);
    m.insert("adue.selected.lr".into(), json(&sel.lr)?);
    m.insert("adue.selected.epochs".into(), sel.epochs.to_string());
    m.insert("adue.label_names".into(), json(&report.label_names)?);
    m.insert("adue.metric_conventions".into(), json(&report.conventions)?);
    m.insert("adue.tool_version".into(), report.tool.version.clone());
    for (name, input) in &report.inputs {
        m.insert(metadata::sha256_key(name), input.sha256.clone());
    }
    Ok(m)
}

/// The AdUE scores (as f32, what the exported graph computes) and errors of a split.
fn split_scores(dir: &FitDir, split: &str) -> anyhow::Result<Option<(Vec<f32>, Vec<bool>)>> {
    let Some(s) = dir.split_scores(split)? else {
        return Ok(None);
    };
    let u = s.uncertainty.get("adue").with_context(|| {
        format!(
            "{}: no `{split}/u/adue` scores",
            dir.path(crate::fit_dir::SCORES).display()
        )
    })?;
    Ok(Some((
        u.iter().map(|&v| v as f32).collect(),
        s.errors.to_vec(),
    )))
}

/// Certifies τ on the calibration split (CONTRACT §4, `--target-risk R --delta D`), the
/// restarts placed by `U` on the training rows.
fn certify_threshold(
    dir: &FitDir,
    report: &Report,
    heads: &Heads,
    risk: f64,
    delta: f64,
) -> anyhow::Result<CertifiedThreshold> {
    let Some((u, errors)) = split_scores(dir, CALIBRATION_SPLIT)? else {
        bail!("the fit directory has no '{CALIBRATION_SPLIT}' scores to certify a threshold on");
    };
    let (source, reference) = reference_scores(dir, report, heads)?;
    let cal = CalibrationSet {
        split: CALIBRATION_SPLIT,
        scores: &u,
        errors: &errors,
    };
    let reference = ReferenceScores {
        source: &source,
        scores: &reference,
    };
    Ok(certify(&cal, &reference, risk, delta)?)
}

/// `U` on the training rows, with where it came from: `train/u/adue` of `scores.safetensors`
/// when the fit wrote it; else the fitted head on the recorded `--train` file (its SHA-256
/// checked), provided the calibration split was a separate file (a hold-out of `--train`
/// would put calibration rows among the reference rows).
fn reference_scores(
    dir: &FitDir,
    report: &Report,
    heads: &Heads,
) -> anyhow::Result<(String, Vec<f32>)> {
    if let Some((u, _)) = split_scores(dir, REFERENCE_SPLIT)? {
        return Ok((
            format!("the U quantiles of `{REFERENCE_SPLIT}/u/adue` in scores.safetensors"),
            u,
        ));
    }
    let scores_file = dir.path(crate::fit_dir::SCORES);
    let Some(train) = report.inputs.get(REFERENCE_SPLIT) else {
        bail!(
            "{}: no `{REFERENCE_SPLIT}` scores and no recorded `{REFERENCE_SPLIT}` input to \
             place the certificate's restart thresholds",
            scores_file.display()
        );
    };
    if !report.inputs.contains_key(CALIBRATION_SPLIT) {
        bail!(
            "{}: no `{REFERENCE_SPLIT}` scores, and the '{CALIBRATION_SPLIT}' split was held out \
             of --train, so U on the --train file would include calibration rows; rerun `fit` \
             with --val",
            scores_file.display()
        );
    }
    let path = std::path::Path::new(&train.path);
    let features = read_features(path)
        .with_context(|| format!("the recorded `{REFERENCE_SPLIT}` input of the fit"))?;
    if features.sha256 != train.sha256 {
        bail!(
            "{}: sha256 {} differs from the {} recorded by `fit`; the restart thresholds need \
             the training rows the head was fitted on",
            path.display(),
            features.sha256,
            train.sha256
        );
    }
    features.check_against(&heads.original)?;
    let u = heads.ue.uncertainty(features.features.view()).to_vec();
    Ok((
        format!("the U quantiles of the fitted head on {}", path.display()),
        u,
    ))
}

/// `(coverage, empirical risk, rows)` of `U ≤ tau` on the test split, when there is one.
fn test_outcome(dir: &FitDir, tau: f32) -> anyhow::Result<Option<(f64, f64, usize)>> {
    let Some((u, errors)) = split_scores(dir, "test")? else {
        return Ok(None);
    };
    let accepted: Vec<bool> = u.iter().map(|&v| v <= tau).collect();
    let n_acc = accepted.iter().filter(|&&a| a).count();
    let n_err = accepted
        .iter()
        .zip(&errors)
        .filter(|(&a, &e)| a && e)
        .count();
    let risk = if n_acc == 0 {
        0.0
    } else {
        n_err as f64 / n_acc as f64
    };
    Ok(Some((n_acc as f64 / u.len() as f64, risk, u.len())))
}
