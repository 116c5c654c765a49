//! `export`: a fit directory → one self-contained ONNX uncertainty head (CONTRACT §4).

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde_json::Value;

use super::fit_dir::{FitDir, SCORES};
use super::Outcome;
use crate::export::{self, certify, metadata, CertifiedThreshold, ExportSpec};
use crate::load::{read_capped, MAX_MODEL_BYTES};
use crate::score::scores_file::scores_from_bytes;
use crate::settings::{ExportSettings, Printer};

/// The split the rejection threshold is certified on: held out from AdUE's training.
pub const CALIBRATION_SPLIT: &str = "val";

/// Runs `export`.
pub fn run(args: &ExportSettings, printer: &Printer) -> anyhow::Result<Outcome> {
    let dir = FitDir::new(&args.fit);
    dir.refuse_overwrite("--out", &args.out)?;
    let fit = dir.read()?;
    let mahalanobis = if args.with_mahalanobis {
        Some(dir.read_mahalanobis()?)
    } else {
        None
    };
    let mut meta = provenance(&fit.report)
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
        original: &fit.original,
        ue_head: &fit.ue_head,
        spec: fit.spec,
        mahalanobis: mahalanobis.as_ref(),
        threshold: threshold.as_ref(),
        metadata: meta,
    };
    export::export(&spec, &args.out)?;
    printer.stage(format!("export: wrote {}", args.out.display()));
    println!("{}", args.out.display());
    Ok(Outcome::Success)
}

/// The caller-supplied ONNX metadata (see [`metadata::REQUIRED_PROVENANCE_KEYS`]) from
/// `report.json`: seed, selected configuration, label names, metric conventions and the
/// SHA-256 of every input.
pub fn provenance(report: &Value) -> anyhow::Result<BTreeMap<String, String>> {
    let get = |path: &[&str]| -> anyhow::Result<&Value> {
        path.iter()
            .try_fold(report, |v, k| v.get(k))
            .with_context(|| format!("missing key `{}`", path.join(".")))
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut m = BTreeMap::new();
    m.insert("adue.seed".into(), text(get(&["seed"])?));
    for k in ["alpha", "beta", "lr", "epochs"] {
        m.insert(
            format!("adue.selected.{k}"),
            text(get(&["fit", "selected", k])?),
        );
    }
    m.insert(
        "adue.label_names".into(),
        report
            .get("label_names")
            .unwrap_or(&Value::Null)
            .to_string(),
    );
    m.insert(
        "adue.metric_conventions".into(),
        text(get(&["conventions"])?),
    );
    m.insert("adue.tool_version".into(), text(get(&["tool", "version"])?));
    let inputs = get(&["inputs"])?
        .as_object()
        .context("`inputs` is not an object")?;
    for (name, v) in inputs {
        let sha = v.get("sha256").and_then(Value::as_str);
        let sha = sha.with_context(|| format!("missing key `inputs.{name}.sha256`"))?;
        m.insert(metadata::sha256_key(name), sha.to_string());
    }
    Ok(m)
}

/// The AdUE scores and errors of a split, from `scores.safetensors`.
fn split_scores(dir: &FitDir, split: &str) -> anyhow::Result<Option<(Vec<f32>, Vec<bool>)>> {
    let path = dir.path(SCORES);
    let bytes = read_capped(&path, MAX_MODEL_BYTES)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let splits = scores_from_bytes(&bytes).with_context(|| format!("{}", path.display()))?;
    let Some(s) = splits.into_iter().find(|s| s.split == split) else {
        return Ok(None);
    };
    let u = s
        .uncertainty
        .get("adue")
        .with_context(|| format!("{}: no `{split}/u/adue` scores", path.display()))?;
    Ok(Some((
        u.iter().map(|&v| v as f32).collect(),
        s.errors.to_vec(),
    )))
}

/// Certifies τ on the calibration split (CONTRACT §4, `--target-risk R --delta D`).
fn certify_threshold(dir: &FitDir, risk: f64, delta: f64) -> anyhow::Result<CertifiedThreshold> {
    let Some((u, errors)) = split_scores(dir, CALIBRATION_SPLIT)? else {
        bail!("the fit directory has no '{CALIBRATION_SPLIT}' scores to certify a threshold on");
    };
    Ok(certify(&u, &errors, risk, delta, CALIBRATION_SPLIT)?)
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
