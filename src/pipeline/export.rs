//! `export`: a fit directory → one self-contained ONNX uncertainty head (CONTRACT §4).

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde::Serialize;

use super::Outcome;
use crate::export::{
    self, certify, metadata, CalibrationSet, CertifiedThreshold, ExportSpec, ReferenceScores,
};
use crate::fit_dir::FitDir;
use crate::report::Report;
use crate::settings::{ExportSettings, Printer};

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
            let t = certify_threshold(&dir, target.risk, target.delta)?;
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
    if dir.split_scores(split)?.is_none() {
        return Ok(None);
    }
    let s = dir.adue_scores(split)?;
    Ok(Some((
        s.u.iter().map(|&v| v as f32).collect(),
        s.errors.to_vec(),
    )))
}

/// Certifies τ on the fit's calibration split (`fit.calibration`: rows that took no part in
/// fitting or selection; CONTRACT §4, `--target-risk R --delta D`), the fallback restarts
/// placed at fixed quantiles of `U` on the training rows (`train/u/adue`, disjoint from the
/// calibration rows). Refuses a fit that left no calibration split.
fn certify_threshold(dir: &FitDir, risk: f64, delta: f64) -> anyhow::Result<CertifiedThreshold> {
    let Some(cal) = dir.calibration()? else {
        bail!(
            "{}: the fit left no calibration split (every row took part in fitting or \
             selection), so no threshold can be certified; rerun fit with --val (cv \
             selection) or --calib (hold-out selection)",
            dir.path(crate::fit_dir::REPORT).display()
        );
    };
    let u: Vec<f32> = cal.scores.u.iter().map(|&v| v as f32).collect();
    let errors = cal.scores.errors.to_vec();
    let reference: Vec<f32> = dir.train_scores()?.u.iter().map(|&v| v as f32).collect();
    let source = format!(
        "the U quantiles of `{}/u/adue` in scores.safetensors",
        crate::fit_dir::TRAIN_SPLIT
    );
    let cal = CalibrationSet {
        split: &cal.info.split,
        scores: &u,
        errors: &errors,
    };
    let reference = ReferenceScores {
        source: &source,
        scores: &reference,
    };
    Ok(certify(&cal, &reference, risk, delta)?)
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
